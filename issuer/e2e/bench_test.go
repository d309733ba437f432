package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkIssuer is ./build.sh bench's issuer benchmark, one run
// (-benchtime 1x): the import rate of KYCVS_BENCH_PEOPLE generated people
// (default 1,000,000, the figure), then complete flows
// (OTP request + confirm + token, over loopback HTTP) with
// KYCVS_BENCH_CONC concurrent clients (default 32) for KYCVS_BENCH_SECONDS
// (default 10) against that registry. Client and server share the machine.
func BenchmarkIssuer(t *testing.B) {
	n := envInt("KYCVS_BENCH_PEOPLE", 1_000_000)
	conc := envInt("KYCVS_BENCH_CONC", 32)
	secs := envInt("KYCVS_BENCH_SECONDS", 10)

	file := writeGenerated(t, n)
	rows := 0
	for i := range n {
		rows += max(1, len(genPerson(i).Doses))
	}
	data := t.TempDir()
	start := time.Now()
	out, errs, code := kycvsCmd(t, "import", "--data", data, file)
	if code != 0 {
		t.Fatal(errs)
	}
	imp := time.Since(start)

	// A light webhook receiver: the latest OTP per number.
	var otps sync.Map
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Text string }
		json.NewDecoder(r.Body).Decode(&m)
		if s := otpRE.FindStringSubmatch(m.Text); s != nil {
			otps.Store(m.To, s[1])
		}
	}))
	defer hook.Close()
	in := &inbox{srv: hook}
	s := startServer(t, data, in, "--rate-client", "-1", "--otp-per-day", "1000000", "--otp-per-source", "1000000")
	key := s.addClient(t, "rail")
	jwks := s.jwks(t)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxIdleConns: conc * 2}}
	post := func(path, body string) (map[string]any, error) {
		req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		r, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer r.Body.Close()
		raw, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d %s", path, r.StatusCode, raw)
		}
		var m map[string]any
		return m, json.Unmarshal(raw, &m)
	}

	var (
		next      atomic.Int64
		failures  atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		sample    []string
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	benchStart := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for time.Now().Before(deadline) {
				i := int(next.Add(1)-1) % n
				p := genPerson(i)
				t0 := time.Now()
				m, err := post("/v1/otp", `{"mobile":"`+p.Mobile+`","name":"`+p.Name+`","nonce":"bench-nonce-`+strconv.Itoa(i)+`"}`)
				var tok string
				if err == nil {
					otp, _ := otps.Load("+91" + p.Mobile)
					code, _ := otp.(string)
					m, err = post("/v1/otp/confirm", `{"txn":"`+m["txn"].(string)+`","otp":"`+code+`","consent":true}`)
					if err == nil {
						tok, _ = m["token"].(string)
					}
				}
				if err != nil {
					if failures.Add(1) < 5 {
						t.Log(err)
					}
					continue
				}
				local = append(local, time.Since(t0))
				if len(local)%500 == 1 {
					mu.Lock()
					sample = append(sample, tok+"|"+strconv.Itoa(i))
					mu.Unlock()
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(benchStart)
	// The server's CPU time per flow: steadier than wall time on a shared
	// machine (it includes start-up and shutdown, the same for any build).
	s.stop(t)
	cpu := s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
	for _, sm := range sample {
		tok, is, _ := strings.Cut(sm, "|")
		i, _ := strconv.Atoi(is)
		got := verify(t, jwks, tok, "rail", "bench-nonce-"+is, genPerson(i).Name)
		if got.Status != issuer.StatusOf(genPerson(i).Doses) {
			t.Errorf("person %d: status %d", i, got.Status)
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(float64(len(latencies))*p))]
	}
	_ = sha256.Size
	_ = kycvs.MaxLifetime
	fmt.Printf("\nissuer benchmark (embedded bbolt store, loopback HTTP, client and server on the same %s)\n", "machine")
	fmt.Printf("  %-34s %s\n", "import", strings.TrimSpace(out))
	fmt.Printf("  %-34s %d people, %d rows in %v: %.0f people/s, %.0f rows/s\n", "import rate", n, rows, imp.Round(time.Millisecond), float64(n)/imp.Seconds(), float64(rows)/imp.Seconds())
	fmt.Printf("  %-34s %d concurrent clients, %v\n", "flows (otp + confirm + token)", conc, elapsed.Round(time.Millisecond))
	fmt.Printf("  %-34s %d ok, %d failed: %.0f flows/s\n", "throughput", len(latencies), failures.Load(), float64(len(latencies))/elapsed.Seconds())
	if len(latencies) > 0 {
		fmt.Printf("  %-34s %v in all, %v per flow\n", "server CPU (user + system)", cpu.Round(time.Millisecond), (cpu / time.Duration(len(latencies))).Round(time.Microsecond))
	}
	fmt.Printf("  %-34s p50 %v, p99 %v, max %v\n", "flow latency", pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if failures.Load() > 0 {
		t.Errorf("%d flows failed", failures.Load())
	}
}
