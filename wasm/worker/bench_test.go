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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// BenchmarkWorkerd is the worker benchmark of `./build.sh bench`, one run
// (-benchtime 1x; KYCVS_WORKER_BENCH_N requests per row, default 2000). In one run it starts real workerd twice, with this Go worker and
// with the panva/jose worker of bench/jose-worker.mjs, both gating the same
// origin with the same pinned key set, sends the same sequential requests
// through each and prints p50/p99, then the Go worker's compressed upload
// size against Cloudflare's limits.
func BenchmarkWorkerd(t *testing.B) {
	n := 2000
	if s := os.Getenv("KYCVS_WORKER_BENCH_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	bin := workerdBinary(t)
	goDir := workerBuild(t)
	jsDir := t.TempDir()
	esbuild, _ := filepath.Abs(filepath.Join("node_modules", ".bin", "esbuild"))
	if out, err := exec.Command(esbuild, filepath.Join("bench", "jose-worker.mjs"), "--bundle", "--format=esm",
		"--platform=neutral", "--main-fields=module,main", "--minify", "--outfile="+filepath.Join(jsDir, "worker.mjs")).CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}

	// The same handler behind syumai/workers' stock shim (a Go instance per
	// request), for comparison: workers-assets-gen -mode=go, then the
	// kycvs_stock_shim entry.
	stockDir := t.TempDir()
	gen := exec.Command("go", "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", stockDir)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("workers-assets-gen: %v\n%s", err, out)
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags=kycvs_stock_shim", "-o", filepath.Join(stockDir, "app.wasm"), ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the stock-shim worker: %v\n%s", err, out)
	}

	f := newFixture(t)
	env := f.env("1")
	workers := []struct {
		name, base string
		n          int
	}{
		{"go, our shim (one instance)", startWorkerdWith(t, bin, goDir, env), n},
		{"go, stock shim (instance/request)", startWorkerdWith(t, bin, stockDir, env, "--extra", "wasm_exec.js", "--extra", "runtime.mjs"), max(n/10, 50)},
		{"js (panva/jose + @msgpack/msgpack)", startWorkerdWith(t, bin, jsDir, env, "--no-wasm"), n},
	}
	good := f.token(f.keyA, 2)
	// The first request of a fresh isolate pays for compiling/instantiating.
	var cold []string
	for _, w := range workers {
		start := time.Now()
		r := do(t, w.base, "GET", "/cold", auth(good), "")
		cold = append(cold, fmt.Sprintf("%s %s", w.name, ms(time.Since(start))))
		wantForwarded(t, r, "2")
	}
	bad := f.token(f.keyA, 2)
	i := strings.LastIndexByte(bad, '.') + 10
	bad = bad[:i] + string("AB"[boolInt(bad[i] == 'A')]) + bad[i+1:]
	low := f.token(f.keyA, 0)

	fmt.Printf("\nedge worker: gated-request latency through local workerd (%s), sequential requests, keep-alive client on loopback\n", workerdVersion(bin))
	fmt.Printf("%-36s %-28s %6s %9s %9s %9s\n", "worker", "request", "n", "p50", "p99", "mean")
	for _, w := range workers {
		for _, c := range []struct {
			name, tok string
			want      int
		}{
			{"valid, forwarded to origin", good, 200},
			{"no token, 401 (no verify)", "", 401},
			{"bad signature, 401", bad, 401},
			{"status 0 < min 1, 403", low, 403},
		} {
			p50, p99, mean := measure(t, w.base, c.tok, c.want, w.n)
			fmt.Printf("%-36s %-28s %6d %9s %9s %9s\n", w.name, c.name, w.n, ms(p50), ms(p99), ms(mean))
		}
	}
	fmt.Printf("first request of a fresh workerd (instantiation included): %s\n", strings.Join(cold, "; "))
	p50, p99, mean := measure(t, f.origin.URL, "", 200, n)
	fmt.Printf("%-36s %-28s %6d %9s %9s %9s\n", "origin alone (no worker)", "direct GET", n, ms(p50), ms(p99), ms(mean))

	var raw, gz int64
	for _, name := range []string{"app.wasm", "wasm_exec.js", "worker.mjs"} {
		r, z := sizes(t, filepath.Join(goDir, name))
		raw += r
		gz += z
	}
	const mib = 1 << 20
	fmt.Printf("\nedge worker upload (app.wasm + wasm_exec.js + worker.mjs): %.2f MiB raw, %.2f MiB gzip -9 (%d bytes); Cloudflare limits: 3 MiB free (%s), 10 MiB paid (%s)\n",
		float64(raw)/mib, float64(gz)/mib, gz, fits(gz, 3*mib), fits(gz, 10*mib))
	_, jsz := sizes(t, filepath.Join(jsDir, "worker.mjs"))
	fmt.Printf("js comparison worker upload: %.1f KiB gzip -9\n", float64(jsz)/1024)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func measure(t testing.TB, base, tok string, want, n int) (p50, p99, mean time.Duration) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	one := func() time.Duration {
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
		d := time.Since(start)
		if res.StatusCode != want {
			t.Fatalf("%s: got %d, want %d", base, res.StatusCode, want)
		}
		return d
	}
	for range 20 { // warm up: instantiation, JIT
		one()
	}
	ds := make([]time.Duration, n)
	var sum time.Duration
	for i := range ds {
		ds[i] = one()
		sum += ds[i]
	}
	slices.Sort(ds)
	return ds[n/2], ds[n*99/100], sum / time.Duration(n)
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

var _ = kycvs.FullyVaccinated
