//go:build !js

package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkWorkerd is the worker benchmark of `./build.sh bench`, one run
// (-benchtime 1x; KYCVS_WORKER_BENCH_N requests per row, default 2000,
// after KYCVS_WORKER_BENCH_WARM warm-up requests, default 3000). In
// one run it starts real workerd with this Go worker, with the panva/jose
// worker of bench/jose-worker.mjs (both gating the same origin with the same
// pinned key set) and with two floors: an empty Go worker behind the same
// shim (bench/emptygo) and an empty JS worker (bench/empty.mjs). It sends
// the same sequential requests through each, interleaved in rounds so that a
// busy machine slows them alike, and prints p50/p99 and workerd's CPU time
// per request. Each row starts with warm-up requests of its kind through
// every worker: V8 compiles a module's functions first with its baseline
// compiler and recompiles them optimised as they run, and the Go module's
// code that runs once a request takes thousands of requests to get there
// (the JS worker's, tens); the rows are the steady state, and the warm-up
// requests of the goal rows are printed as well (a fresh instance's first
// for the valid row). Then the first request of fresh isolates as CPU time; then
// the per-step breakdown, the goals as ratios with met/not met, and
// the upload size. KYCVS_WORKER_BENCH_STOCK=1 adds the same handler behind
// syumai/workers' stock shim (a Go instance per request).
func BenchmarkWorkerd(b *testing.B) {
	n, warm := 2000, 3000
	if s := os.Getenv("KYCVS_WORKER_BENCH_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	if s := os.Getenv("KYCVS_WORKER_BENCH_WARM"); s != "" {
		fmt.Sscan(s, &warm)
	}
	bin := workerdBinary(b)
	goDir := workerBuild(b)
	emptyGoDir := buildGoWorker(b, "./bench/emptygo")
	jsDir := b.TempDir()
	esbuild, _ := filepath.Abs(filepath.Join("node_modules", ".bin", "esbuild"))
	if out, err := exec.Command(esbuild, filepath.Join("bench", "jose-worker.mjs"), "--bundle", "--format=esm",
		"--platform=neutral", "--main-fields=module,main", "--minify", "--outfile="+filepath.Join(jsDir, "worker.mjs")).CombinedOutput(); err != nil {
		b.Fatalf("esbuild: %v\n%s", err, out)
	}
	emptyJSDir := b.TempDir()
	copyFile(b, filepath.Join("bench", "empty.mjs"), filepath.Join(emptyJSDir, "worker.mjs"))

	f := newFixture(b)
	// The same token is sent again and again, and the JS worker keeps no
	// replay store: the Go worker's is off here (KYCVS_REPLAY=off).
	env := f.env("1", "KYCVS_REPLAY", "off")
	type worker struct {
		name, dir string
		extra     []string
		n         int
		base      string
		env       map[string]string // nil: env
	}
	goW := &worker{name: "go (kycvs worker)", dir: goDir, n: n}
	// The same worker with the key set fetched from KYCVS_JWKS_URL (held
	// fresh for the run): the deployment the README shows. Not in the goals.
	goRemote := &worker{name: "go, fetched set (KYCVS_JWKS_URL)", dir: goDir, n: n,
		env: f.env("1", "KYCVS_REPLAY", "off", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL, "KYCVS_JWKS_MIN_REFRESH", "24h")}
	jsW := &worker{name: "js (panva/jose + msgpack)", dir: jsDir, extra: []string{"--no-wasm"}, n: n}
	emptyGo := &worker{name: "empty go (floor)", dir: emptyGoDir, n: n}
	emptyJS := &worker{name: "empty js (floor)", dir: emptyJSDir, extra: []string{"--no-wasm"}, n: n}
	workers := []*worker{goW, jsW, emptyGo, emptyJS, goRemote}
	if os.Getenv("KYCVS_WORKER_BENCH_STOCK") == "1" {
		// workers-assets-gen -mode=go, then the kycvs_stock_shim entry.
		stockDir := b.TempDir()
		gen := exec.Command("go", "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", stockDir)
		if out, err := gen.CombinedOutput(); err != nil {
			b.Fatalf("workers-assets-gen: %v\n%s", err, out)
		}
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags=kycvs_stock_shim", "-o", filepath.Join(stockDir, "app.wasm"), ".")
		build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building the stock-shim worker: %v\n%s", err, out)
		}
		workers = append(workers, &worker{name: "go, stock shim (instance/request)", dir: stockDir,
			extra: []string{"--extra", "wasm_exec.js", "--extra", "runtime.mjs"}, n: max(n/10, 50)})
	}
	good := f.token(f.keyA, 2)
	bad := f.token(f.keyA, 2)
	i := strings.LastIndexByte(bad, '.') + 10
	bad = bad[:i] + string("AB"[boolInt(bad[i] == 'A')]) + bad[i+1:]
	low := f.token(f.keyA, 0)

	// The first request of a fresh isolate, as workerd's CPU time (every
	// thread: V8 compiles in the background) from when it listens to the
	// first answer, and as wall time. Fresh workerd processes, interleaved,
	// median of 5.
	type coldRun struct{ cpu, wall, startCPU []time.Duration }
	cold := map[*worker]*coldRun{}
	coldWorkers := []*worker{goW, jsW, emptyGo, emptyJS}
	for range 5 {
		for _, w := range coldWorkers {
			base := startWorkerdWith(b, bin, w.dir, env, w.extra...)
			pid := workerdPID(b, base)
			time.Sleep(200 * time.Millisecond) // let workerd's own start settle
			c0 := procCPU(b, pid)
			start := time.Now()
			tok, code := "", http.StatusNoContent
			if w == goW || w == jsW {
				tok, code = good, http.StatusOK
			}
			measure(b, base, tok, code, 1)
			wall := time.Since(start)
			c1 := procCPU(b, pid)
			c := cold[w]
			if c == nil {
				c = &coldRun{}
				cold[w] = c
			}
			c.cpu, c.wall, c.startCPU = append(c.cpu, c1-c0), append(c.wall, wall), append(c.startCPU, c1)
			stopWorkerd(b, base)
		}
	}

	// What that CPU time tracks: the bytes of wasm function bodies V8
	// compiles (lazily, on first use) up to the first answer, from its
	// trace in one more fresh workerd per Go worker. Not timed, so the
	// machine's load does not move it.
	compiled := map[*worker]int{}
	for _, w := range []*worker{goW, emptyGo} {
		base := startWorkerdWith(b, bin, w.dir, env, append(slices.Clone(w.extra), "--v8-flag=--trace-wasm-compilation-times")...)
		tok, code := "", http.StatusNoContent
		if w == goW {
			tok, code = good, http.StatusOK
		}
		measure(b, base, tok, code, 1)
		for _, m := range liftoffBody.FindAllStringSubmatch(serverLog(b, base), -1) {
			n, _ := strconv.Atoi(m[1])
			compiled[w] += n
		}
		stopWorkerd(b, base)
	}

	for _, w := range workers {
		e := env
		if w.env != nil {
			e = w.env
		}
		w.base = startWorkerdWith(b, bin, w.dir, e, w.extra...)
	}
	cases := []struct {
		name, tok string
		want      int
		floor     bool // the empty workers answer this row too (204)
	}{
		{"valid, forwarded to origin", good, 200, false},
		{"no token, 401 (no verify)", "", 401, true},
		{"bad signature, 401", bad, 401, false},
		{"status 0 < min 1, 403", low, 403, false},
	}
	type result struct{ p50, p99, cpu time.Duration }
	stats := func(d []time.Duration, cpu time.Duration) result {
		d = slices.Clone(d)
		slices.Sort(d)
		return result{d[len(d)/2], d[len(d)*99/100], cpu / time.Duration(len(d))}
	}
	res, warmRes := map[string]map[*worker]result{}, map[string]map[*worker]result{}
	fmt.Printf("\nedge worker: gated requests through local workerd (%s), sequential, keep-alive client on loopback, %d requests a row in 10 interleaved rounds after %d warm-up requests\n", workerdVersion(bin), n, warm)
	fmt.Printf("%-34s %-28s %6s %9s %9s %12s\n", "worker", "request", "n", "p50", "p99", "CPU/request")
	for _, c := range cases {
		ws := []*worker{}
		for _, w := range workers {
			if c.floor || (w != emptyGo && w != emptyJS) {
				ws = append(ws, w)
			}
		}
		ds := map[*worker][]time.Duration{}
		cpu := map[*worker]time.Duration{}
		warmRes[c.name] = map[*worker]result{}
		for _, w := range ws { // warm up: instantiation, V8's tier-up
			pid := workerdPID(b, w.base)
			c0 := procCPU(b, pid)
			d := measure(b, w.base, c.tok, want(w == emptyGo || w == emptyJS, c.want), max(warm, 1))
			warmRes[c.name][w] = stats(d, procCPU(b, pid)-c0)
		}
		for range 10 {
			for _, w := range ws {
				pid := workerdPID(b, w.base)
				c0 := procCPU(b, pid)
				ds[w] = append(ds[w], measure(b, w.base, c.tok, want(w == emptyGo || w == emptyJS, c.want), max(w.n/10, 1))...)
				cpu[w] += procCPU(b, pid) - c0
			}
		}
		res[c.name] = map[*worker]result{}
		for _, w := range ws {
			r := stats(ds[w], cpu[w])
			res[c.name][w] = r
			fmt.Printf("%-34s %-28s %6d %9s %9s %12s\n", w.name, c.name, len(ds[w]), ms(r.p50), ms(r.p99), ms(r.cpu))
		}
	}
	d := measure(b, f.origin.URL, "", 200, n)
	slices.Sort(d)
	fmt.Printf("%-34s %-28s %6d %9s %9s\n", "origin alone (no worker)", "direct GET", n, ms(d[n/2]), ms(d[n*99/100]))

	fmt.Printf("\nthe same workers while warming up (the %d requests before the row; for the valid row, an instance's first):\n", warm)
	for _, name := range []string{"valid, forwarded to origin", "no token, 401 (no verify)"} {
		for _, w := range []*worker{goW, jsW} {
			r := warmRes[name][w]
			fmt.Printf("%-34s %-28s %6d %9s %9s %12s\n", w.name, name, warm, ms(r.p50), ms(r.p99), ms(r.cpu))
		}
	}

	median := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	fmt.Printf("\nfirst request of a fresh isolate (median of 5 fresh workerd processes, interleaved):\n")
	fmt.Printf("%-34s %14s %10s %22s\n", "worker", "CPU (workerd)", "wall", "CPU since process start")
	for _, w := range coldWorkers {
		c := cold[w]
		fmt.Printf("%-34s %14s %10s %22s\n", w.name, ms(median(c.cpu)), ms(median(c.wall)), ms(median(c.startCPU)))
	}
	if compiled[emptyGo] > 0 {
		fmt.Printf("wasm code V8 compiled up to the first answer: go %.1f KB, empty go %.1f KB (%.2fx)\n",
			float64(compiled[goW])/1000, float64(compiled[emptyGo])/1000, float64(compiled[goW])/float64(compiled[emptyGo]))
	} else {
		fmt.Printf("wasm code V8 compiled up to the first answer: n/a (workerd printed no V8 compilation trace)\n")
	}

	// Per step, as differences between rows measured side by side (CPU
	// time per request is steadier than latency on a shared machine).
	nt, v := res["no token, 401 (no verify)"], res["valid, forwarded to origin"]
	bs := res["bad signature, 401"]
	fmt.Printf("\nper-step breakdown of the Go worker (differences of p50 latency / of CPU per request):\n")
	step := func(name string, a, b result) {
		fmt.Printf("  %-70s %9s %9s\n", name, ms(a.p50-b.p50), ms(a.cpu-b.cpu))
	}
	step("workerd, HTTP on loopback, a JS worker (empty js)", nt[emptyJS], result{})
	step("a Go instance answering, js.FuncOf call (empty go - empty js)", nt[emptyGo], nt[emptyJS])
	step("no-token 401 in the kycvs worker, beyond that (no token - empty go)", nt[goW], nt[emptyGo])
	step("verification (bad signature - no token)", bs[goW], nt[goW])
	step("origin fetch and its answer handed back (valid - bad signature)", v[goW], bs[goW])

	fmt.Printf("\ngoals (issue 15), ratios measured side by side in this run:\n")
	goal := func(name string, ratio, limit float64) {
		verdict := "met"
		if ratio > limit {
			verdict = "NOT MET"
		}
		fmt.Printf("  %-66s %6.3fx  (goal ≤ %.1fx)  %s\n", name, ratio, limit, verdict)
	}
	rt := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	goal("valid request, p50, go / js", rt(v[goW].p50, v[jsW].p50), 1)
	goal("valid request, p99, go / js", rt(v[goW].p99, v[jsW].p99), 1)
	goal("no token 401, p50, go / js", rt(nt[goW].p50, nt[jsW].p50), 1.2)
	wv, wn := warmRes["valid, forwarded to origin"], warmRes["no token, 401 (no verify)"]
	fmt.Printf("  (while warming up, not a goal: valid p50 %.3fx, p99 %.3fx, CPU %.3fx; no token p50 %.3fx)\n",
		rt(wv[goW].p50, wv[jsW].p50), rt(wv[goW].p99, wv[jsW].p99), rt(wv[goW].cpu, wv[jsW].cpu), rt(wn[goW].p50, wn[jsW].p50))
	goal("first request of a fresh isolate, CPU, go / empty go", rt(median(cold[goW].cpu), median(cold[emptyGo].cpu)), 1.5)

	var raw, gz int64
	for _, name := range []string{"app.wasm", "wasm_exec.js", "worker.mjs"} {
		r, z := sizes(b, filepath.Join(goDir, name))
		raw += r
		gz += z
	}
	const mib = 1 << 20
	verdict := "met"
	if gz >= 2*mib {
		verdict = "NOT MET"
	}
	fmt.Printf("  %-66s %6.2f MiB gzip -9 (goal < 2 MiB)  %s\n", "worker upload (app.wasm + wasm_exec.js + worker.mjs)", float64(gz)/mib, verdict)
	fmt.Printf("  (%.2f MiB raw, %d bytes gzip; Cloudflare limits: 3 MiB free (%s), 10 MiB paid (%s))\n",
		float64(raw)/mib, gz, fits(gz, 3*mib), fits(gz, 10*mib))
	_, jsz := sizes(b, filepath.Join(jsDir, "worker.mjs"))
	fmt.Printf("js comparison worker upload: %.1f KiB gzip -9\n", float64(jsz)/1024)
}

// want is the status an empty worker (204) or a real one answers.
func want(empty bool, real int) int {
	if empty {
		return http.StatusNoContent
	}
	return real
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildGoWorker builds the Go package pkg (GOOS=js, with build tags) into
// a directory with the shim and wasm_exec.js, as workerBuild does for the
// worker.
func buildGoWorker(t testing.TB, pkg string, tags ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags="+strings.Join(tags, ","), "-o", filepath.Join(dir, "app.wasm"), pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), filepath.Join(dir, "wasm_exec.js"))
	copyFile(t, filepath.Join("js", "worker.mjs"), filepath.Join(dir, "worker.mjs"))
	return dir
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func workerdPID(t testing.TB, base string) int {
	t.Helper()
	pid, ok := workerdPIDs.Load(base)
	if !ok {
		t.Fatalf("no workerd at %s", base)
	}
	return pid.(int)
}

// stopWorkerd ends the workerd serving base, before the test's cleanup.
func stopWorkerd(t testing.TB, base string) {
	t.Helper()
	p, err := os.FindProcess(workerdPID(t, base))
	if err == nil {
		p.Kill()
	}
}

// procCPU is the CPU time process pid has used, all its threads summed
// (/proc/PID/task/*/schedstat, nanoseconds).
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no schedstat for process %d: %v", pid, err)
	}
	var sum time.Duration
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that ended
		}
		ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += time.Duration(ns)
	}
	return sum
}

// measure sends n sequential GET requests with tok and returns their
// latencies.
func measure(t testing.TB, base, tok string, want, n int) []time.Duration {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	ds := make([]time.Duration, n)
	for i := range ds {
		req, _ := http.NewRequest("GET", base+"/bench", nil)
		if tok != "" {
			req.Header.Set("Authorization", "KYCVS "+tok)
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ds[i] = time.Since(start)
		if res.StatusCode != want {
			t.Fatalf("%s: got %d, want %d", base, res.StatusCode, want)
		}
	}
	return ds
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

func fits(n, limit int64) string {
	if n <= limit {
		return fmt.Sprintf("fits, %.0f%%", 100*float64(n)/float64(limit))
	}
	return "DOES NOT FIT"
}

func sizes(t testing.TB, path string) (raw, gz int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c countWriter
	z, _ := gzip.NewWriterLevel(&c, gzip.BestCompression)
	z.Write(b)
	z.Close()
	return int64(len(b)), int64(c)
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func workerdVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "workerd"
	}
	return strings.TrimSpace(string(out))
}

// liftoffBody matches a line of V8's --trace-wasm-compilation-times for a
// function compiled by Liftoff (the first tier), capturing its body's size.
var liftoffBody = regexp.MustCompile(`using Liftoff.*bodysize (\d+)`)
