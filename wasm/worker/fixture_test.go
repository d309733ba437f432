//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

const (
	testIssuer   = "https://issuer.kycvs.test"
	testAudience = "railway-booking"
)

// fixture is what every gate test needs: signing keys, an origin that echoes
// what it received, and a JWKS server whose document can be changed or
// taken down.
type fixture struct {
	t            testing.TB
	keyA, keyB   *kycvs.Signer
	origin       *httptest.Server
	jwks         *httptest.Server
	jwksDoc      atomic.Value // []byte
	jwksHits     atomic.Int64
	jwksDelay    atomic.Int64 // nanoseconds the JWKS server waits before answering
	jwksDownOnce sync.Once
}

// echo is what the origin saw.
type echo struct {
	Method, Path, Query, Body string
	Status                    []string // KYCVS-Status values
	Nonce                     []string // KYCVS-Nonce values
	Spoofable                 []string // names of headers spelled KYCVS_Status or KYCVS_Nonce
	Authorization             []string
	Cookie                    []string
	ForwardedHost             string
	Hop                       []string // hop-by-hop headers that arrived
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t}
	var err error
	if f.keyA, err = kycvs.GenerateSigner(); err != nil {
		t.Fatal(err)
	}
	if f.keyB, err = kycvs.GenerateSigner(); err != nil {
		t.Fatal(err)
	}
	f.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Origin", "yes")
		// Also in headers, for answers whose body the gate drops (preflights).
		w.Header().Set("X-Echo-Method", r.Method)
		w.Header().Set("X-Echo-Path", r.URL.Path)
		w.Header().Set("X-Echo-Status", strings.Join(r.Header.Values(gate.StatusHeader), ","))
		out, _ := json.Marshal(echo{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(b),
			Status: r.Header.Values(gate.StatusHeader), Authorization: r.Header.Values("Authorization"),
			Cookie: r.Header.Values("Cookie"), ForwardedHost: r.Header.Get("X-Forwarded-Host"),
			Nonce: r.Header.Values(gate.NonceHeader), Spoofable: underscored(r.Header), Hop: hopByHop(r.Header),
		})
		if strings.HasSuffix(r.URL.Path, "/hop") { // hop-by-hop headers the worker must not pass back
			w.Header().Set("Proxy-Authenticate", "Basic")
			w.Header().Set("Proxy-Connection", "keep-alive")
			w.Header().Set("Trailer", "X-Sum")
		}
		if strings.HasSuffix(r.URL.Path, "/gz") { // a compressed answer with its Content-Length
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(out)
			zw.Close()
			out = z.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		}
		if strings.HasSuffix(r.URL.Path, "/cookies") {
			w.Header().Add("Set-Cookie", "id=a3fWa; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure; HttpOnly")
			w.Header().Add("Set-Cookie", "lang=en, hi; Path=/")
			w.Header().Set("X-List", "a,b, c")
			w.Header().Set("X-Agent", "Mozilla/5.0 (KHTML, like Gecko)")
		}
		if strings.HasSuffix(r.URL.Path, "/redirect") {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
	}))
	t.Cleanup(f.origin.Close)
	f.setJWKS(f.keyA)
	// The JWKS server answers as the issuer does: a short max-age (the
	// worker raises it to KYCVS_JWKS_MIN_REFRESH) and an ETag it honours.
	f.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		time.Sleep(time.Duration(f.jwksDelay.Load()))
		doc := f.jwksDoc.Load().([]byte)
		sum := sha256.Sum256(doc)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("Cache-Control", "public, max-age=1")
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(doc)
	}))
	t.Cleanup(f.takeJWKSDown)
	return f
}

func (f *fixture) setJWKS(keys ...*kycvs.Signer) {
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.PublicKey())
	}
	doc, err := kycvs.PublicJWKS(pubs...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.jwksDoc.Store(doc)
}

func (f *fixture) pinned(keys ...*kycvs.Signer) string {
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.PublicKey())
	}
	doc, err := kycvs.PublicJWKS(pubs...)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(doc)
}

// takeJWKSDown closes the JWKS server: connections to it are refused.
func (f *fixture) takeJWKSDown() {
	f.jwksDownOnce.Do(func() {
		f.jwks.CloseClientConnections()
		f.jwks.Close()
	})
}

// env is a pinned-key configuration for the given minimum status.
func (f *fixture) env(min string, kv ...string) map[string]string {
	e := map[string]string{
		"KYCVS_ISSUER":     testIssuer,
		"KYCVS_AUDIENCE":   testAudience,
		"KYCVS_MIN_STATUS": min,
		"KYCVS_JWKS":       f.pinned(f.keyA),
		"KYCVS_ORIGIN":     f.origin.URL + "/app",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(e, kv[i])
		} else {
			e[kv[i]] = kv[i+1]
		}
	}
	return e
}

// token signs a token with real now (workerd's clock is real time).
func (f *fixture) token(s *kycvs.Signer, st kycvs.Status, mod ...func(*kycvs.Claims)) string {
	f.t.Helper()
	now := time.Now().Unix()
	c := &kycvs.Claims{
		Issuer: testIssuer, Subject: "c3ViamVjdC1wYWlyd2lzZQ", Audience: testAudience,
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(), Nonce: kycvs.NewNonce(), Status: st,
	}
	for _, m := range mod {
		m(c)
	}
	tok, err := s.Sign(c)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// resp is one answer of the gate.
type resp struct {
	code    int
	header  http.Header
	problem map[string]any
	echo    *echo
	// bodyless: the origin's answer came without its body (from its
	// headers, echo holds the method, path and status header only).
	bodyless bool
}

// testClient does not follow redirects: the test sees what the gate answered.
var testClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// serverLogs maps a running server's base URL to a function that returns
// what it has logged so far (workerd's output, or the native handler's
// Platform.Logf).
var serverLogs sync.Map

func serverLog(t testing.TB, base string) string {
	t.Helper()
	f, ok := serverLogs.Load(base)
	if !ok {
		t.Fatalf("no log for %s", base)
	}
	return f.(func() string)()
}

// waitLog returns the log of the server at base once it holds want, or
// after 10 s (workerd writes its log asynchronously); the caller checks it.
func waitLog(t testing.TB, base, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if logs := serverLog(t, base); strings.Contains(logs, want) || time.Now().After(deadline) {
			return logs
		}
	}
}

func do(t testing.TB, base, method, path string, hdr map[string]string, body string) resp {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rb)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		for _, line := range strings.Split(v, "\n") { // "\n": a header sent on several lines
			req.Header.Add(k, line)
		}
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{code: res.StatusCode, header: res.Header}
	switch {
	case res.Header.Get("Content-Type") == "application/problem+json":
		if err := json.Unmarshal(b, &r.problem); err != nil {
			t.Fatalf("problem body %q: %v", b, err)
		}
	case res.Header.Get("X-Origin") == "yes" && len(b) == 0:
		r.echo = &echo{Method: res.Header.Get("X-Echo-Method"), Path: res.Header.Get("X-Echo-Path")}
		if s := res.Header.Get("X-Echo-Status"); s != "" {
			r.echo.Status = strings.Split(s, ",")
		}
		r.bodyless = true
	case res.Header.Get("X-Origin") == "yes":
		r.echo = new(echo)
		if err := json.Unmarshal(b, r.echo); err != nil {
			t.Fatalf("origin body %q: %v", b, err)
		}
	default:
		t.Fatalf("%s %s: unexpected answer %d %v %q", method, path, res.StatusCode, res.Header, b)
	}
	return r
}

func auth(tok string) map[string]string { return map[string]string{"Authorization": "KYCVS " + tok} }

// wantProblem checks a problem+json answer.
func wantProblem(t testing.TB, r resp, status int, code kycvs.Code) {
	t.Helper()
	if r.code != status || r.problem == nil || r.problem["code"] != string(code) {
		t.Fatalf("got %d %v, want %d problem with code %s", r.code, r.problem, status, code)
	}
	if r.problem["status"] != float64(status) {
		t.Errorf("problem status member %v, want %d", r.problem["status"], status)
	}
}

// wantForwarded checks that the request reached the origin with the status.
func wantForwarded(t testing.TB, r resp, st string) *echo {
	t.Helper()
	if r.code != http.StatusOK || r.echo == nil {
		t.Fatalf("got %d %v, want the origin's answer", r.code, r.problem)
	}
	if len(r.echo.Status) != 1 || r.echo.Status[0] != st {
		t.Fatalf("origin saw %s %v, want %q", gate.StatusHeader, r.echo.Status, st)
	}
	return r.echo
}

// wantPassed checks that the request reached the origin without a token
// check: no status header, not even one the client sent.
func wantPassed(t testing.TB, r resp) *echo {
	t.Helper()
	if r.code != http.StatusOK || r.echo == nil {
		t.Fatalf("got %d %v, want the origin's answer", r.code, r.problem)
	}
	if len(r.echo.Status) != 0 {
		t.Fatalf("origin saw %s %v on a request that passed without a token", gate.StatusHeader, r.echo.Status)
	}
	return r.echo
}

// underscored returns the names of h spelled like the gate's headers with
// "_" (KYCVS_Status), which CGI-style origins would read as them.
// hopByHop lists the hop-by-hop headers of h (Host aside: it is not a
// header in Go's request).
func hopByHop(h http.Header) []string {
	var names []string
	for _, k := range hopHeaders {
		if _, ok := h[k]; ok {
			names = append(names, k)
		}
	}
	return names
}

func underscored(h http.Header) []string {
	var out []string
	for k := range h {
		if n := strings.ToLower(k); n == "kycvs_status" || n == "kycvs_nonce" {
			out = append(out, k)
		}
	}
	return out
}
