package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// buildConsumer builds testdata/consumer as a module outside the
// repository: its go.mod requires github.com/kycvs/kycvs and replaces it
// with this checkout, offline (GOPROXY=off, GOFLAGS=-mod=mod: the module
// cache this repository was built with).
func buildConsumer(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	repo, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "consumer", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module example.com/consumer\n\ngo 1.26\n\nrequire github.com/kycvs/kycvs v0.0.0\n\nreplace github.com/kycvs/kycvs => %s\n", repo)
	for name, b := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOFLAGS=") && !strings.HasPrefix(e, "GOPROXY=") && !strings.HasPrefix(e, "GOWORK=") {
			env = append(env, e)
		}
	}
	env = append(env, "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GONOSUMDB=*", "GOSUMDB=off")
	bin := filepath.Join(dir, "consumer")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir, build.Env = dir, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the consumer module: %v\n%s", err, out)
	}
	return bin
}

// consumer is the running consumer program: one line in, one line out.
type consumer struct {
	in  io.WriteCloser
	out *bufio.Scanner
	cmd *exec.Cmd
}

func startConsumer(t *testing.T, bin string, args ...string) *consumer {
	t.Helper()
	cmd := exec.Command(bin, args...)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &consumer{in: in, out: bufio.NewScanner(out), cmd: cmd}
}

func (c *consumer) ask(t *testing.T, line string) string {
	t.Helper()
	fmt.Fprintln(c.in, line)
	if !c.out.Scan() {
		t.Fatalf("the consumer stopped: %v", c.out.Err())
	}
	return c.out.Text()
}

// countingJWKS serves the issuer's JWKS through a proxy that counts the
// requests, so the fetches are counted outside the consumer too.
func countingJWKS(t *testing.T, s *server) (string, *atomic.Int64) {
	var n atomic.Int64
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		req, _ := http.NewRequest("GET", s.url+"/.well-known/jwks.json", nil)
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
	}))
	t.Cleanup(p.Close)
	return p.URL + "/.well-known/jwks.json", &n
}

// TestGoConsumer: a Go program outside the repository verifies tokens with
// kycvs.RemoteVerifier against a running kycvs serve through a key
// rotation, with no failed verification and a counted, bounded number of
// JWKS fetches; and gates an httptest server with the gate middleware.
func TestGoConsumer(t *testing.T) {
	bin := buildConsumer(t)
	s := startServer(t, "", newInbox(t), "--jwks-max-age", "2s", "--rate-client", "-1", "--otp-per-day", "100000")
	key := s.addClient(t, "rail")
	jwksURL, fetches := countingJWKS(t, s)

	t.Run("remote verifier through a rotation", func(t *testing.T) {
		c := startConsumer(t, bin, "verify", jwksURL, issuerID, "rail")
		kids := map[string]int{}
		verify := func(i int) string {
			nonce := fmt.Sprintf("consumer-%d", i)
			tok, _ := s.flow(t, key, fmt.Sprintf("81%08d", i), "Some One", nonce, 0)
			got := c.ask(t, tok+" "+nonce)
			f := strings.Fields(got)
			if len(f) != 3 || f[0] != "ok" {
				t.Fatalf("token %d: %s", i, got)
			}
			kids[f[2]]++
			return f[2]
		}
		first := verify(0)
		for i := 1; i < 5; i++ {
			verify(i)
		}
		if _, errs, code := kycvsCmd(t, "keys", "rotate", "--data", s.data); code != 0 {
			t.Fatalf("keys rotate: %s", errs)
		}
		// Tokens keep coming while the staged key becomes the signing key
		// (after the 2 s JWKS max-age), and a few more after it did.
		after := 0
		for i := 5; after < 5; i++ {
			if verify(i) != first {
				after++
			}
			if i > 5000 {
				t.Fatal("the rotated key never signed")
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.in.Close()
		if !c.out.Scan() || !strings.HasPrefix(c.out.Text(), "fetches ") {
			t.Fatalf("no fetch count: %q", c.out.Text())
		}
		own := strings.TrimPrefix(c.out.Text(), "fetches ")
		t.Logf("%v tokens per kid, %d JWKS requests at the issuer, consumer counted %s", kids, fetches.Load(), own)
		// One fetch at first use, one for the first token of the new key.
		// (The issuer's 2 s max-age is raised to the 1 min lower bound.)
		if len(kids) != 2 || fetches.Load() != 2 || own != "2" {
			t.Errorf("%d kids, %d JWKS fetches at the issuer, %s by the consumer; want 2 kids, 2 fetches", len(kids), fetches.Load(), own)
		}
	})

	t.Run("gate middleware", func(t *testing.T) {
		before := fetches.Load()
		admit := startConsumer(t, bin, "gate", jwksURL, issuerID, "rail", "0")
		strict := startConsumer(t, bin, "gate", jwksURL, issuerID, "rail", "2")
		tok, st := s.flow(t, key, "8200000001", "Some One", "consumer-gate-1", 0)
		tok2, _ := s.flow(t, key, "8200000001", "Some One", "consumer-gate-2", 1) // a token works once: another for the nonce case
		for _, c := range []struct {
			c          *consumer
			line, want string
		}{
			{admit, tok + " consumer-gate-1", fmt.Sprintf("200 %d", st)},
			{admit, tok2 + " another-booking", "403 nonce"},
			{admit, tok + " consumer-gate-1", "409 ERR_REPLAY"},
			{admit, "- consumer-gate-1", "401 ERR_TOKEN_MISSING"},
			{admit, "x.y.z consumer-gate-1", "401 ERR_MALFORMED"},
			{strict, tok + " consumer-gate-1", "403 ERR_STATUS"}, // another gate: its own replay store
		} {
			if got := c.c.ask(t, c.line); got != c.want {
				t.Errorf("%.20s…: got %q, want %q", c.line, got, c.want)
			}
		}
		if n := fetches.Load() - before; n != 2 {
			t.Errorf("two gates made %d JWKS fetches, want one each", n)
		}
	})
}
