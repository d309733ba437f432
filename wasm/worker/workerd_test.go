//go:build !js

package main

import (
	"bytes"
	"fmt"
	"github.com/kycvs/kycvs"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The workerd tests build the worker (GOOS=js GOARCH=wasm), start real
// workerd (npm "workerd", installed by `npm ci` in this directory; the
// build.sh worker target does that) on loopback and run the same cases as
// the native tests through it. Without workerd they skip, except under
// CI=true, where they fail.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// workerBuild returns a directory with app.wasm, wasm_exec.js and
// worker.mjs: KYCVS_WORKER_BUILD if set (build.sh passes bin/worker), else
// a fresh build.
func workerBuild(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KYCVS_WORKER_BUILD"); d != "" {
		return d
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "kycvs-worker-test-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(buildDir, "app.wasm"), ".")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the worker: %v\n%s", err, out)
			return
		}
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOROOT: %v", err)
			return
		}
		for src, dst := range map[string]string{
			filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
			filepath.Join("js", "worker.mjs"):                                               "worker.mjs",
		} {
			b, err := os.ReadFile(src)
			if err != nil {
				buildErr = err
				return
			}
			if err := os.WriteFile(filepath.Join(buildDir, dst), b, 0o644); err != nil {
				buildErr = err
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var npmOnce sync.Once

// workerdBinary finds workerd, installing this directory's locked npm
// dependencies (npm ci) when they are missing, or skips (fails under CI=true).
func workerdBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("KYCVS_WORKERD")
	if bin == "" {
		bin, _ = filepath.Abs(filepath.Join("node_modules", ".bin", "workerd"))
		npmOnce.Do(func() {
			if _, err := os.Stat(bin); err == nil {
				return
			}
			if out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
				t.Logf("npm ci: %v\n%s", err, out)
			}
		})
	}
	_, err := os.Stat(bin)
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		msg := fmt.Sprintf("workerd cannot run (%v): run `npm ci` in wasm/worker, or ./build.sh worker", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startWorkerd writes a workerd config for env into the build directory,
// starts workerd on a free loopback port and waits until it answers.
func startWorkerd(t *testing.T, env map[string]string) string {
	t.Helper()
	bin := workerdBinary(t)
	return startWorkerdWith(t, bin, workerBuild(t), env)
}

// startWorkerdWith serves the modules in dir: the Go worker, or with
// extra args ("--no-wasm") a plain JS worker.mjs.
func startWorkerdWith(t testing.TB, bin, dir string, env map[string]string, extra ...string) string {
	t.Helper()
	port := freePort(t)
	name := fmt.Sprintf("test-%d-%d", os.Getpid(), port)
	args := append([]string{filepath.Join("js", "workerd-config.mjs"), "--dir", dir, "--port", fmt.Sprint(port), "--name", name}, extra...)
	gen := exec.Command("node", args...)
	gen.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		gen.Env = append(gen.Env, k+"="+v)
	}
	out, err := gen.CombinedOutput()
	if err != nil {
		t.Fatalf("workerd-config.mjs: %v\n%s", err, out)
	}
	capnp := strings.TrimSpace(string(out))
	t.Cleanup(func() { os.Remove(capnp) })

	var logs bytes.Buffer
	var mu sync.Mutex
	w := lockedWriter{&mu, &logs}
	cmd := exec.Command(bin, "serve", capnp, "--verbose")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("starting workerd: %v", err)
		}
		t.Skipf("starting workerd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("workerd output:\n%s", logs.String())
			mu.Unlock()
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	workerdPIDs.Store(base, cmd.Process.Pid)
	t.Cleanup(func() { workerdPIDs.Delete(base) })
	serverLogs.Store(base, func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	})
	t.Cleanup(func() { serverLogs.Delete(base) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("workerd exited: %v\n%s", err, logs.String())
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("workerd did not listen on %d within 30s", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// workerdPIDs maps a running workerd's base URL to its process id (the
// benchmark reads the process's CPU time).
var workerdPIDs sync.Map

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWorkerdPinned(t *testing.T) { runPinnedCases(t, newFixture(t), startWorkerd) }

// TestWorkerdPinnedFullPath runs the pinned cases through syumai/workers
// (the path requests with a token take when the key set is fetched), which
// the fast path skips otherwise.
func TestWorkerdPinnedFullPath(t *testing.T) {
	runPinnedCases(t, newFixture(t), func(t *testing.T, env map[string]string) string {
		env["KYCVS_DEBUG_FULL_PATH"] = "1"
		return startWorkerd(t, env)
	})
}

// TestWorkerdFastPath: with a pinned key set every request is decided on
// the fast path; with a fetched one, every request that needs no fetch of
// the set is: the first token waits for the set on the full path, later
// ones are verified on the fast path, and a kid the set lacks goes the full
// way again (to refetch the set). The set stays fresh for an hour here
// (KYCVS_JWKS_MIN_REFRESH), however slowly the machine runs the test.
func TestWorkerdFastPath(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.keyA, 2)
	pinned := startWorkerd(t, f.env("1", "KYCVS_DEBUG_INSTANCE", "1", "KYCVS_BYPASS", "/healthz"))
	full := startWorkerd(t, f.env("1", "KYCVS_DEBUG_INSTANCE", "1", "KYCVS_DEBUG_FULL_PATH", "1"))
	remote := startWorkerd(t, f.env("1", "KYCVS_DEBUG_INSTANCE", "1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL,
		"KYCVS_JWKS_MIN_REFRESH", "1h", "KYCVS_REPLAY", "off"))
	for _, c := range []struct {
		name, base string
		hdr        map[string]string
		path       string
		want       string // the path that answers
		code       int
	}{
		{"pinned, valid", pinned, auth(tok), "/", "fast", 200},
		{"pinned, no token", pinned, nil, "/", "fast", 401},
		{"pinned, bad token", pinned, auth(tok + "x"), "/", "fast", 401},
		{"pinned, bypass", pinned, nil, "/healthz", "fast", 200},
		{"full path forced, valid", full, auth(tok), "/", "", 200},
		{"full path forced, no token", full, nil, "/", "", 401},
		{"fetched set, no token", remote, nil, "/", "fast", 401},
		{"fetched set, first token", remote, auth(tok), "/", "", 200},
		{"fetched set, set held", remote, auth(tok), "/", "fast", 200},
		{"fetched set, bad token", remote, auth(tok + "x"), "/", "fast", 401},
		{"fetched set, unknown kid", remote, auth(f.token(f.keyB, 2)), "/", "", 401},
	} {
		r := do(t, c.base, "GET", c.path, c.hdr, "")
		if got := r.header.Get(PathHeader); got != c.want || r.code != c.code {
			t.Errorf("%s: %d, %s %q, want %d, %q", c.name, r.code, PathHeader, got, c.code, c.want)
		}
		if r.header.Get(InstanceHeader) == "" {
			t.Errorf("%s: no %s", c.name, InstanceHeader)
		}
	}
}

func TestWorkerdConfig(t *testing.T)      { runConfigCases(t, newFixture(t), startWorkerd) }
func TestWorkerdRotation(t *testing.T)    { runRotationCase(t, newFixture(t), startWorkerd) }
func TestWorkerdStale(t *testing.T)       { runStaleCase(t, newFixture(t), startWorkerd) }
func TestWorkerdUnreachable(t *testing.T) { runUnreachableCase(t, newFixture(t), startWorkerd) }

// TestWorkerdOneInstance checks that the shim keeps one Go instance: with
// KYCVS_DEBUG_INSTANCE=1 every answer names the Go instance that made it,
// and sequential and concurrent requests, admitted or refused, all name the
// same one. (Under the stock shim each request names a new instance.)
func TestWorkerdOneInstance(t *testing.T) {
	f := newFixture(t)
	runOneInstance(t, f, startWorkerd(t, f.env("1", "KYCVS_DEBUG_INSTANCE", "1")))
}

func runOneInstance(t *testing.T, f *fixture, base string) {
	// A fresh token each time: a token works once (KYCVS_REPLAY, default).
	toks := make(chan string, 64)
	for range cap(toks) {
		toks <- f.token(f.keyA, 2)
	}
	seen := map[string]int{}
	var mu sync.Mutex
	note := func(r resp) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.header.Get(InstanceHeader)]++
	}
	for i := range 20 {
		r := do(t, base, "GET", "/", auth(<-toks), "")
		if i%4 == 3 {
			r = do(t, base, "GET", "/", nil, "") // refused without verifying
			wantProblem(t, r, 401, kycvs.CodeTokenMissing)
		} else {
			wantForwarded(t, r, "2")
		}
		note(r)
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", base+"/c", nil)
			req.Header.Set("Authorization", "KYCVS "+<-toks)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("concurrent request: %v", err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("X-Origin") != "yes" {
				t.Errorf("concurrent request: %s", res.Status)
			}
			note(resp{header: res.Header})
		})
	}
	wg.Wait()
	if len(seen) != 1 || seen[""] != 0 {
		t.Errorf("answers came from %d Go instances (%v), want 1", len(seen), seen)
	}
}

// TestWorkerdConcurrentRefresh sends concurrent requests while the fetched
// key set is refreshed (slowly) in the background, so that requests run
// beside each other's fetches inside the one Go instance: every request
// must still be answered correctly, until two refreshes have happened.
func TestWorkerdConcurrentRefresh(t *testing.T) {
	f := newFixture(t)
	f.jwksDelay.Store(int64(30 * time.Millisecond))
	f.setJWKS(f.keyA, f.keyB)
	// Two tokens sent again and again: replays are allowed here, by name.
	base := startWorkerd(t, f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL,
		"KYCVS_JWKS_MIN_REFRESH", "1s", "KYCVS_JWKS_MAX_AGE", "1h", "KYCVS_REPLAY", "off"))
	tokA, tokB := f.token(f.keyA, 2), f.token(f.keyB, 1)
	var wg sync.WaitGroup
	var done atomic.Bool
	errs := make(chan string, 1000)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !done.Load(); i++ {
				tok, want := tokA, "2"
				if (w+i)%2 == 1 {
					tok, want = tokB, "1"
				}
				req, _ := http.NewRequest("GET", base+"/c", nil)
				req.Header.Set("Authorization", "KYCVS "+tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !strings.Contains(string(b), `"Status":["`+want+`"]`) {
					errs <- fmt.Sprintf("%s %s", res.Status, b)
					return
				}
			}
		}()
	}
	// Until the first fetch and two background refreshes (1 s apart) have
	// been made, or a request failed.
	for i := 0; f.jwksHits.Load() < 3 && len(errs) == 0; i++ {
		if i == 1200 {
			t.Errorf("%d JWKS fetches after 60 s", f.jwksHits.Load())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent request: %s", e)
	}
	t.Logf("JWKS fetched %d times", f.jwksHits.Load())
}

// TestWorkerdGoStops: when the Go runtime dies during a call from the shim
// (here a build whose kycvs_worker_decide panics for "/__stop"; a fatal
// error such as running out of memory ends it the same way), the shim reads
// nothing of it: that request gets 500 ERR_UNAVAILABLE, never an answer
// left in Go's buffers from an earlier request, and the next request runs
// on a new instance.
func TestWorkerdGoStops(t *testing.T) {
	f := newFixture(t)
	dir := buildGoWorker(t, ".", "kycvs_stoptest")
	base := startWorkerdWith(t, workerdBinary(t), dir, f.env("1", "KYCVS_DEBUG_INSTANCE", "1"))
	first := do(t, base, "GET", "/first", auth(f.token(f.keyA, 2)), "")
	wantForwarded(t, first, "2")
	wantForwarded(t, do(t, base, "GET", "/second", auth(f.token(f.keyA, 2)), ""), "2")
	for _, c := range []struct {
		method string
		hdr    map[string]string
	}{{"POST", nil}, {"GET", auth(f.token(f.keyA, 2))}} {
		r := do(t, base, c.method, "/__stop", c.hdr, "x")
		if r.header.Get("X-Origin") != "" {
			t.Fatalf("%s /__stop reached the origin: %d", c.method, r.code)
		}
		wantProblem(t, r, http.StatusInternalServerError, kycvs.CodeUnavailable)
		after := do(t, base, "GET", "/after", auth(f.token(f.keyA, 2)), "")
		wantForwarded(t, after, "2")
		if a, b := first.header.Get(InstanceHeader), after.header.Get(InstanceHeader); a == "" || a == b {
			t.Errorf("instance before %q, after %q: want a new one", a, b)
		}
		wantProblem(t, do(t, base, "GET", "/", nil, ""), http.StatusUnauthorized, kycvs.CodeTokenMissing)
	}
}
