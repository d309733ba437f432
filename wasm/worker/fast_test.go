//go:build !js

package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// TestDecideAnswersAsServeHTTP: for the requests the fast path answers
// itself, Decide's answer is ServeHTTP's, byte for byte (status, headers,
// body); forwarded requests carry the same target and header decisions.
// (The workerd tests run every pinned case through both paths end to end.)
func TestDecideAnswersAsServeHTTP(t *testing.T) {
	f := newFixture(t)
	s := func(v string) *string { return &v }
	// Distinct tokens: the gate admits a token once.
	good, good2, good3, low := f.token(f.keyA, 2), f.token(f.keyA, 2), f.token(f.keyA, 2), f.token(f.keyA, 0)
	envs := map[string]map[string]string{
		"pinned":    f.env("1", "KYCVS_DEBUG_INSTANCE", "1", "KYCVS_BYPASS", "/healthz"),
		"min2":      f.env("2"),
		"bad":       f.env("1", "KYCVS_ORIGIN", "ftp://x"),
		"remote":    f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL),
		"keepToken": f.env("1", "KYCVS_KEEP_TOKEN", "1"),
	}
	handlers := map[string]*Handler{}
	for name, env := range envs {
		p := nativePlatform()
		p.Getenv = func(k string) string { return env[k] }
		handlers[name] = NewHandler(p)
	}
	for _, c := range []struct {
		name, env string
		method    string
		path      string
		hdr       map[string]string
		forward   bool
		full      bool
	}{
		{"no token", "pinned", "GET", "/a?b=c", nil, false, false},
		// The first answer without credentials is kept and given again:
		// to other methods and paths, never to exempt ones (below).
		{"no token again", "pinned", "DELETE", "/other/path", nil, false, false},
		{"no token, not a preflight", "pinned", "POST", "/", map[string]string{"Access-Control-Request-Method": "POST"}, false, false},
		{"no token, other scheme", "pinned", "GET", "/", map[string]string{"Authorization": "Bearer abc"}, false, false},
		{"no token, other cookie", "pinned", "GET", "/", map[string]string{"Cookie": "a=1"}, false, false},
		{"bad signature", "pinned", "GET", "/", map[string]string{"Authorization": "KYCVS " + flipInSignature(good)}, false, false},
		{"malformed, other scheme too", "pinned", "GET", "/", map[string]string{"Authorization": "Bearer x, KYCVS abc"}, false, false},
		{"status below the minimum", "pinned", "GET", "/", map[string]string{"Authorization": "KYCVS " + low}, false, false},
		{"status 1 below 2, cookie", "min2", "GET", "/", map[string]string{"Cookie": "a=1; kycvs=" + f.token(f.keyA, 1)}, false, false},
		{"bad configuration", "bad", "GET", "/", nil, false, false},
		{"remote set, no token", "remote", "GET", "/", nil, false, false},
		{"remote set, token", "remote", "GET", "/", map[string]string{"Authorization": "KYCVS " + good}, false, true},
		{"valid, header", "pinned", "POST", "/p/x%2Fy?q=1", map[string]string{"Authorization": "KYCVS " + good, "KYCVS-Status": "2"}, true, false},
		{"valid, cookie", "pinned", "GET", "/", map[string]string{"Cookie": "a=1; kycvs=" + good2 + "; b=2"}, true, false},
		{"valid, kept", "keepToken", "GET", "/", map[string]string{"Authorization": "KYCVS " + good}, true, false},
		{"preflight", "pinned", "OPTIONS", "/", map[string]string{"Access-Control-Request-Method": "POST"}, true, false},
		{"bypass", "pinned", "GET", "/healthz", nil, true, false},
		// Exempt requests that carry a token all the same: not checked,
		// and the token does not reach the origin.
		{"preflight with a token", "pinned", "OPTIONS", "/", map[string]string{"Access-Control-Request-Method": "POST", "Authorization": "KYCVS " + good3}, true, false},
		{"bypass with a token", "pinned", "POST", "/healthz", map[string]string{"Cookie": "a=1; kycvs=" + good3}, true, false},
		{"NUL in a header", "pinned", "GET", "/", map[string]string{"Cookie": "a=\x00; kycvs=" + good}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := handlers[c.env]
			url := "http://gate.test" + c.path
			q := FastRequest{Method: c.method, URL: url, Host: s("gate.test"), HasBody: c.method == "POST"}
			for k, v := range c.hdr {
				switch k {
				case "Authorization":
					q.Authorization = s(v)
				case "Cookie":
					q.Cookie = s(v)
				case "Access-Control-Request-Method":
					q.ACRM = s(v)
				}
			}
			a := h.Decide(q)
			if a.Full != c.full || a.Forward != c.forward {
				t.Fatalf("full %v forward %v, want %v %v", a.Full, a.Forward, c.full, c.forward)
			}
			if c.full {
				return
			}
			// The request as the full path gets it: syumai/workers splits
			// header values at commas, as Decide does.
			newRequest := func() *http.Request {
				r := httptest.NewRequest(c.method, url, nil)
				for k, v := range c.hdr {
					r.Header[http.CanonicalHeaderKey(k)] = strings.Split(v, ",")
				}
				return r
			}
			if !c.forward {
				r := newRequest()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != a.Status || w.Body.String() != string(a.Body) {
					t.Errorf("ServeHTTP %d %s\nDecide    %d %s", w.Code, w.Body, a.Status, a.Body)
				}
				want := w.Header().Clone()
				got := a.Header.Clone()
				if !equalHeaders(want, got) {
					t.Errorf("headers: ServeHTTP %v, Decide %v", want, got)
				}
				return
			}
			// Forwarded: the proxy's own target for the request.
			if want := f.origin.URL + "/app" + c.path; a.Target != want {
				t.Errorf("target %s, want %s", a.Target, want)
			}
			// The origin request the shim makes from the answer (the
			// incoming headers without ReqDel and the gate's names spelled
			// with "_", then ReqAdd) is the one the full path sends, as
			// another instance with the same configuration sends it.
			var sent *http.Request
			p := nativePlatform()
			p.Getenv = func(k string) string { return envs[c.env][k] }
			p.Do = func(r *http.Request) (*http.Response, error) {
				sent = r
				return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody}, nil
			}
			r := newRequest()
			shim := http.Header{}
			for k, v := range c.hdr {
				shim.Set(k, v)
			}
			NewHandler(p).ServeHTTP(httptest.NewRecorder(), r)
			if sent == nil {
				t.Fatal("the full path sent nothing")
			}
			for _, k := range append(ReqDel, "Kycvs_status", "Kycvs_nonce") {
				shim.Del(k)
			}
			for k, vs := range a.ReqAdd {
				for _, v := range vs {
					shim.Add(k, v)
				}
			}
			if sent.URL.String() != a.Target || !equalHeaders(sent.Header, shim) {
				t.Errorf("full path sent %s %v\nfast path     %s %v", sent.URL, sent.Header, a.Target, shim)
			}
			st := a.ReqAdd.Values(gate.StatusHeader)
			if exempt := strings.HasPrefix(c.name, "preflight") || strings.HasPrefix(c.name, "bypass"); exempt {
				if len(st) != 0 || a.WithBody != (c.method == "POST") {
					t.Errorf("%s %v, body %v", gate.StatusHeader, st, a.WithBody)
				}
				if a.DropBody != strings.HasPrefix(c.name, "preflight") {
					t.Errorf("drop body %v", a.DropBody)
				}
			} else if !slices.Equal(st, []string{"2"}) || a.DropBody || a.WithBody != (c.method == "POST") {
				t.Errorf("%s %v, with body %v, drop %v", gate.StatusHeader, st, a.WithBody, a.DropBody)
			}
			kept := c.env == "keepToken"
			for _, v := range append(a.ReqAdd.Values("Authorization"), a.ReqAdd.Values("Cookie")...) {
				if (strings.Contains(v, good) || strings.Contains(v, good2) || strings.Contains(v, good3)) != kept {
					t.Errorf("token forwarded: %v, want %v (%q)", !kept, kept, v)
				}
			}
			if c.name == "valid, cookie" && !slices.Equal(a.ReqAdd.Values("Cookie"), []string{"a=1; b=2"}) {
				t.Errorf("cookie %v", a.ReqAdd.Values("Cookie"))
			}
			if a.ReqAdd.Get("X-Forwarded-Host") != "gate.test" {
				t.Errorf("X-Forwarded-Host %q", a.ReqAdd.Get("X-Forwarded-Host"))
			}
			if (c.env == "pinned") != (a.Header.Get(InstanceHeader) != "") {
				t.Errorf("answer headers %v", a.Header)
			}
		})
	}
}

// TestDecideKeepsNoTokenAnswer: the refusal of a request without
// credentials is made once; later ones get the same answer without running
// the handler chain again, but exempt requests still go through it.
func TestDecideKeepsNoTokenAnswer(t *testing.T) {
	f := newFixture(t)
	env := f.env("1", "KYCVS_BYPASS", "/healthz")
	p := nativePlatform()
	p.Getenv = func(k string) string { return env[k] }
	h := NewHandler(p)
	s := func(v string) *string { return &v }
	a1 := h.Decide(FastRequest{Method: "GET", URL: "http://gate.test/a", Host: s("gate.test")})
	a2 := h.Decide(FastRequest{Method: "PUT", URL: "http://gate.test/b?c", HasBody: true})
	if a1.Status != http.StatusUnauthorized || problemCode(a1.Body) != kycvs.CodeTokenMissing {
		t.Fatalf("no token: %d %s", a1.Status, a1.Body)
	}
	if &a1.Body[0] != &a2.Body[0] {
		t.Error("the second request without credentials ran the handler chain again")
	}
	// Kept with its encoding, which is the answer's.
	fresh := FastAnswer{Status: a1.Status, Header: a1.Header, Body: a1.Body}
	if e1, e2 := fresh.Encode(nil), a2.Encode([]byte("x")); len(e1)+1 != len(e2) || !strings.HasPrefix(string(e2), "xanswer\x00401\x00") || !strings.HasSuffix(string(e2), string(a1.Body)) {
		t.Errorf("kept encoding %q, want one like %q", e2, e1)
	}
	if a := h.Decide(FastRequest{Method: "GET", URL: "http://gate.test/healthz"}); !a.Forward {
		t.Errorf("a bypass path after the kept answer: %+v", a)
	}
	if a := h.Decide(FastRequest{Method: "OPTIONS", URL: "http://gate.test/a", ACRM: s("PUT")}); !a.Forward || !a.DropBody {
		t.Errorf("a preflight after the kept answer: %+v", a)
	}
}

// TestKeptAnswer: the shortcut of the shim's call gives the kept no-token
// answer exactly where Decide would, and leaves every other input to it:
// credentials, exempt paths (however spelled), paths url.Parse would
// change, malformed input.
func TestKeptAnswer(t *testing.T) {
	f := newFixture(t)
	env := f.env("1", "KYCVS_BYPASS", "/healthz,/static/")
	p := nativePlatform()
	p.Getenv = func(k string) string { return env[k] }
	h := NewHandler(p)
	in := func(url string) []byte { return []byte("GET\x00" + url + "\x00gate.test\x00\x00\x00") }
	if _, ok := h.KeptAnswer(in("http://gate.test/a"), hasHost); ok {
		t.Fatal("an answer before any was kept")
	}
	h.Decide(FastRequest{Method: "GET", URL: "http://gate.test/first"})
	for _, path := range []string{"/a", "/", "/a/b.c_d~e-f", "/healthz/", "/healthz/..", "/./healthz", "//healthz", "/static",
		"/static/../x", "/HEALTHZ", "/healthz?x", "/healthz#f", "/static/a", "/a?b=c#d", "/a%20b", "/%68ealthz", "/a;b", "/a b", "/static/%2e%2e/x"} {
		for _, flags := range []uint32{hasHost, hasHost | hasBodyStream, hasHost | hasAuthorization, hasHost | hasCookie, hasHost | hasACRM} {
			b := in("http://gate.test" + path)
			enc, ok := h.KeptAnswer(b, flags)
			q, _ := ReadFastRequest(b, flags)
			a := h.Decide(q)
			kept := !a.Full && !a.Forward && a.Status == http.StatusUnauthorized && problemCode(a.Body) == kycvs.CodeTokenMissing
			plain := !strings.ContainsAny(path, "%; ")
			if ok != (kept && plain && flags&(hasAuthorization|hasCookie|hasACRM) == 0) {
				t.Errorf("%s flags %b: kept %v, Decide %d %s", path, flags, ok, a.Status, a.Body)
			}
			if ok && string(enc) != string(a.Encode(nil)) { // the kept answer, with its kept encoding
				t.Errorf("%s: kept %q, Decide %q", path, enc, a.Encode(nil))
			}
		}
	}
	// workerd builds request.url from the raw Host header: hosts url.Parse
	// refuses (or reads otherwise) go through Decide, which says "full".
	for _, u := range []string{"http://a b/x", "http://a{b}/x", "http://x:abc/x", "http://a%41/x", "http://[::1/x", "http://[::1]/x",
		"http://a?b/x", "http://a#b/x", "http://u@h/x", "http://h:/x", "http://:80/x", "http:/x", "http://gate.test:8787/x"} {
		b := []byte("GET\x00" + u + "\x00h\x00\x00\x00")
		_, ok := h.KeptAnswer(b, hasHost)
		q, _ := ReadFastRequest(b, hasHost)
		if a := h.Decide(q); ok && (a.Full || a.Forward || a.Status != http.StatusUnauthorized) || ok != (u == "http://gate.test:8787/x") {
			t.Errorf("%s: kept %v, Decide full %v %d", u, ok, a.Full, a.Status)
		}
	}
	for _, b := range []string{"GET\x00http://gate.test/a\x00h\x00x\x00\x00\x00", "GET\x00http://gate.test/a\x00h\x00\x00", "GET\x00/a\x00h\x00\x00\x00", "GET\x00http:gate.test\x00h\x00\x00\x00"} {
		if _, ok := h.KeptAnswer([]byte(b), hasHost); ok {
			t.Errorf("%q: kept", b)
		}
	}
	b := in("http://gate.test/a/b")
	if n := testing.AllocsPerRun(100, func() { h.KeptAnswer(b, hasHost) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// equalHeaders compares two answers' headers, the instance id aside
// (ServeHTTP and Decide run in the same process: it is the same).
func equalHeaders(a, b http.Header) bool {
	b.Del(PathHeader) // Decide marks its answers when debugging
	if len(a) != len(b) {
		return false
	}
	for k, vs := range a {
		if !slices.Equal(vs, b[k]) {
			return false
		}
	}
	return true
}

// TestReadFastRequest: six NUL-separated fields and their presence flags;
// a NUL inside a field (more fields) or fewer fields take the full path.
func TestReadFastRequest(t *testing.T) {
	q, ok := ReadFastRequest([]byte("GET\x00http://h/p\x00h\x00KYCVS t\x00\x00"), hasHost|hasAuthorization|hasBodyStream)
	if !ok || q.Method != "GET" || q.URL != "http://h/p" || *q.Host != "h" || *q.Authorization != "KYCVS t" || q.Cookie != nil || q.ACRM != nil || !q.HasBody {
		t.Errorf("%+v %v", q, ok)
	}
	q, ok = ReadFastRequest([]byte("GET\x00u\x00\x00\x00\x00"), hasCookie|hasACRM)
	if !ok || q.Host != nil || q.Authorization != nil || *q.Cookie != "" || *q.ACRM != "" || q.HasBody {
		t.Errorf("empty present headers: %+v %v", q, ok)
	}
	for _, in := range []string{"GET\x00u\x00h\x00a=\x00b\x00c\x00d", "GET\x00u\x00h\x00a\x00c", ""} {
		if _, ok := ReadFastRequest([]byte(in), 0); ok {
			t.Errorf("%q: read as a request", in)
		}
	}
}

// TestEncodeNUL: a field with a NUL byte cannot shift the fields after it;
// the answer becomes "full".
func TestEncodeNUL(t *testing.T) {
	a := FastAnswer{Forward: true, Target: "http://o/", ReqAdd: http.Header{"Cookie": {"a=1\x00x"}}, Header: http.Header{}}
	if got := string(a.Encode(nil)); got != "full\x00" {
		t.Errorf("got %q", got)
	}
	a.ReqAdd = http.Header{"Cookie": {"a=1"}}
	if got := string(a.Encode(nil)); !strings.HasPrefix(got, "forward\x00http://o/\x00") {
		t.Errorf("got %q", got)
	}
	r := FastAnswer{Status: 401, Header: http.Header{"X": {"1"}}, Body: []byte(`{"a":"\u0000"}`)}
	if got := string(r.Encode(nil)); got != "answer\x00401\x00Unauthorized\x001\x00X\x001\x00{\"a\":\"\\u0000\"}" {
		t.Errorf("got %q", got)
	}
}

// flipInSignature changes one character of the signature to another, a
// whole 6-bit group (replacing the last characters by fixed ones could
// leave the token as it was, 1 time in thousands).
func flipInSignature(tok string) string {
	i := len(tok) - 20
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// fetchedSet is a worker with KYCVS_JWKS_URL, a clock the test moves and
// background refreshes it runs when it says.
type fetchedSet struct {
	t      *testing.T
	f      *fixture
	h      *Handler
	mu     sync.Mutex
	now    time.Time
	queued []func()
}

func newFetchedSet(t *testing.T, kv ...string) *fetchedSet {
	x := &fetchedSet{t: t, f: newFixture(t), now: time.Now()}
	p := nativePlatform()
	env := x.f.env("1", append([]string{"KYCVS_JWKS", "", "KYCVS_JWKS_URL", x.f.jwks.URL}, kv...)...)
	p.Getenv = func(k string) string { return env[k] }
	p.Now = func() time.Time { x.mu.Lock(); defer x.mu.Unlock(); return x.now }
	p.Background = func(fn func()) { x.mu.Lock(); x.queued = append(x.queued, fn); x.mu.Unlock() }
	x.h = NewHandler(p)
	return x
}

func (x *fetchedSet) step(d time.Duration) { x.mu.Lock(); x.now = x.now.Add(d); x.mu.Unlock() }

// background runs the queued refreshes and says how many there were.
func (x *fetchedSet) background() int {
	x.mu.Lock()
	q := x.queued
	x.queued = nil
	x.mu.Unlock()
	for _, fn := range q {
		fn()
	}
	return len(q)
}

// decide is the fast path's answer to a GET with tok.
func (x *fetchedSet) decide(tok string) FastAnswer {
	s := func(v string) *string { return &v }
	return x.h.Decide(FastRequest{Method: "GET", URL: "http://gate.test/x", Host: s("gate.test"), Authorization: s("KYCVS " + tok)})
}

// full is the full path's answer to a GET with tok.
func (x *fetchedSet) full(tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://gate.test/x", nil)
	r.Header.Set("Authorization", "KYCVS "+tok)
	w := httptest.NewRecorder()
	x.h.ServeHTTP(w, r)
	return w
}

// wantFull: the fast path leaves tok to the full path, without fetching or
// queueing anything itself.
func (x *fetchedSet) wantFull(step, tok string) {
	x.t.Helper()
	hits := x.f.jwksHits.Load()
	x.mu.Lock()
	queued := len(x.queued)
	x.mu.Unlock()
	if a := x.decide(tok); !a.Full {
		x.t.Fatalf("%s: the fast path answered (%d, forward %v), want the full path", step, a.Status, a.Forward)
	}
	if x.f.jwksHits.Load() != hits || len(x.queued) != queued {
		x.t.Fatalf("%s: the fast path fetched the key set or queued a refresh", step)
	}
}

// TestDecideFetchedSet: with KYCVS_JWKS_URL, the fast path verifies a token
// while the key set is held fresh, and leaves to the full path (which can
// wait for a fetch) every request that would fetch the set or start its
// refresh: the first, one whose kid the set lacks, one after the set's
// freshness lifetime. Both paths share one replay store.
func TestDecideFetchedSet(t *testing.T) {
	x := newFetchedSet(t, "KYCVS_JWKS_MIN_REFRESH", "60s")
	f := x.f

	t1 := f.token(f.keyA, 2)
	x.wantFull("no key set yet", t1)
	if w := x.full(t1); w.Code != http.StatusOK || f.jwksHits.Load() != 1 {
		t.Fatalf("full path: %d, %d fetches", w.Code, f.jwksHits.Load())
	}
	t2 := f.token(f.keyA, 2)
	if a := x.decide(t2); !a.Forward || a.ReqAdd.Get(gate.StatusHeader) != "2" || f.jwksHits.Load() != 1 {
		t.Fatalf("set held fresh: %+v, %d fetches", a, f.jwksHits.Load())
	}
	// One replay store for both paths.
	if a := x.decide(t1); a.Status != http.StatusConflict {
		t.Errorf("a token the full path admitted, on the fast path: %d, want 409", a.Status)
	}
	if w := x.full(t2); w.Code != http.StatusConflict {
		t.Errorf("a token the fast path admitted, on the full path: %d, want 409", w.Code)
	}
	// Refusals that need no fetch are the fast path's, as the full path gives them.
	bad := flipInSignature(f.token(f.keyA, 2))
	if a, w := x.decide(bad), x.full(bad); a.Full || a.Status != http.StatusUnauthorized || problemCode(a.Body) != kycvs.CodeSignature || string(a.Body) != w.Body.String() {
		t.Errorf("bad signature: full %v, %d %s; full path %d %s", a.Full, a.Status, a.Body, w.Code, w.Body)
	}

	// A kid the set lacks (the issuer rotated keys): the full path
	// fetches the set again; the refused try recorded nothing.
	t3 := f.token(f.keyB, 2)
	x.wantFull("unknown kid", t3)
	f.setJWKS(f.keyA, f.keyB)
	if w := x.full(t3); w.Code != http.StatusOK || f.jwksHits.Load() != 2 {
		t.Fatalf("rotation on the full path: %d, %d fetches", w.Code, f.jwksHits.Load())
	}
	if a := x.decide(f.token(f.keyB, 2)); !a.Forward {
		t.Fatalf("the new key on the fast path: %+v", a)
	}

	// Past the freshness lifetime: the full path starts the refresh (in
	// the background), the fast path resumes meanwhile and after it.
	x.step(61 * time.Second)
	x.wantFull("refresh due", f.token(f.keyA, 2))
	if w := x.full(f.token(f.keyA, 2)); w.Code != http.StatusOK || len(x.queued) != 1 {
		t.Fatalf("refresh due, full path: %d, %d refreshes queued", w.Code, len(x.queued))
	}
	if a := x.decide(f.token(f.keyA, 2)); !a.Forward {
		t.Fatalf("refresh under way: %+v", a)
	}
	x.background()
	if a := x.decide(f.token(f.keyB, 2)); !a.Forward || f.jwksHits.Load() != 3 {
		t.Fatalf("after the refresh: %+v, %d fetches", a, f.jwksHits.Load())
	}

	// The issuer removes key A: after the next refresh, A's tokens are
	// refused on both paths.
	f.setJWKS(f.keyB)
	x.step(61 * time.Second)
	x.full(f.token(f.keyB, 2)) // starts the refresh
	if x.background() != 1 {
		t.Fatal("no refresh")
	}
	if a, w := x.decide(f.token(f.keyA, 2)), x.full(f.token(f.keyA, 2)); a.Forward || w.Code != http.StatusUnauthorized {
		t.Errorf("removed key: fast path %+v, full path %d", a, w.Code)
	}
}

// TestDecideFetchedSetMaxAge: a refresh that failed just before
// KYCVS_JWKS_MAX_AGE leaves the worker backing off past it; the full path
// then fails closed (503 ERR_JWKS_STALE) and the fast path must not admit
// on the old set either.
func TestDecideFetchedSetMaxAge(t *testing.T) {
	x := newFetchedSet(t, "KYCVS_JWKS_MIN_REFRESH", "60s", "KYCVS_JWKS_MAX_AGE", "120s", "KYCVS_REPLAY", "off")
	tok := x.f.token(x.f.keyA, 2)
	if w := x.full(tok); w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
	x.step(118 * time.Second)
	if w := x.full(tok); w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
	x.f.takeJWKSDown()
	if x.background() != 1 { // fails: backing off for 5 s
		t.Fatal("no refresh")
	}
	if a := x.decide(tok); !a.Forward {
		t.Fatalf("within the maximum age, backing off: %+v", a)
	}
	x.step(3 * time.Second)
	x.wantFull("past the maximum age, backing off", tok)
	if w := x.full(tok); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), string(kycvs.CodeJWKSStale)) {
		t.Errorf("full path: %d %s, want 503 %s", w.Code, w.Body, kycvs.CodeJWKSStale)
	}
}

// TestFetchedSetBadIssuer: an issuer the verifier refuses is a bad
// configuration with a fetched set as with a pinned one (500 on every
// request), not a 401 for every token.
func TestFetchedSetBadIssuer(t *testing.T) {
	x := newFetchedSet(t, "KYCVS_ISSUER", strings.Repeat("i", kycvs.MaxTokenSize+1))
	tok := x.f.token(x.f.keyA, 2)
	for _, w := range []*httptest.ResponseRecorder{x.full(tok), x.full("")} {
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), string(kycvs.CodeConfig)) {
			t.Errorf("%d %s, want 500 %s", w.Code, w.Body, kycvs.CodeConfig)
		}
	}
	if a := x.decide(tok); a.Full || a.Status != http.StatusInternalServerError {
		t.Errorf("fast path: full %v, %d", a.Full, a.Status)
	}
}

// The proxy deletes hopHeaders from a request's http.Header by map key,
// which only Header.Del's canonical spelling finds.
func TestHopHeadersCanonical(t *testing.T) {
	for _, k := range hopHeaders {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("hop header %q: its canonical spelling is %q", k, c)
		}
	}
}

// problemCode is the code of a refusal's problem+json body, as
// gate.WriteProblem writes one: {"code":"…",…}.
func problemCode(body []byte) kycvs.Code {
	rest, ok := bytes.CutPrefix(body, []byte(`{"code":"`))
	if i := bytes.IndexByte(rest, '"'); ok && i >= 0 {
		return kycvs.Code(rest[:i])
	}
	return ""
}
