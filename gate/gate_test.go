package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

const iss, aud = "https://issuer.example", "railway-booking"

func setup(t *testing.T, cfg gate.Config) (*kycvs.Signer, *httptest.Server, *[]*http.Request) {
	t.Helper()
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	cfg.Keys, _ = kycvs.ParseKeySet(jwks)
	cfg.Issuer, cfg.Audience = iss, aud
	g, err := gate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []*http.Request
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r)
		if tok, ok := gate.TokenFrom(r.Context()); ok {
			w.Header().Set("X-Nonce", tok.Nonce)
		}
		io.WriteString(w, "app")
	})
	srv := httptest.NewServer(g.Middleware(app))
	t.Cleanup(srv.Close)
	return s, srv, &seen
}

func sign(t *testing.T, s *kycvs.Signer, st kycvs.Status) string {
	now := time.Now().Unix()
	tok, err := s.Sign(&kycvs.Claims{Issuer: iss, Subject: "sub", Audience: aud, IssuedAt: now, Expires: now + 300,
		ID: kycvs.NewTokenID(), Nonce: "nonce-abcdef", Status: st})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func get(t *testing.T, srv *httptest.Server, method, path string, h map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p map[string]any
	if res.Header.Get("Content-Type") == "application/problem+json" {
		json.NewDecoder(res.Body).Decode(&p)
	}
	return res, p
}

func TestMiddleware(t *testing.T) {
	s, srv, seen := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated, Bypass: []string{"/healthz", "/static/"}})
	res, _ := get(t, srv, "GET", "/book", map[string]string{
		"Authorization": "KYCVS " + sign(t, s, 2), gate.StatusHeader: "0", "Cookie": "session=1"})
	if res.StatusCode != 200 || res.Header.Get("X-Nonce") != "nonce-abcdef" {
		t.Fatalf("admitted: %d, nonce %q", res.StatusCode, res.Header.Get("X-Nonce"))
	}
	r := (*seen)[0]
	if r.Header.Values(gate.StatusHeader)[0] != "2" || len(r.Header.Values(gate.StatusHeader)) != 1 ||
		r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "session=1" {
		t.Errorf("the app saw %v", r.Header)
	}
	for _, c := range []struct {
		name    string
		method  string
		path    string
		h       map[string]string
		status  int
		code    kycvs.Code
		reached bool
	}{
		{"no token", "GET", "/", nil, 401, kycvs.CodeTokenMissing, false},
		{"bearer is not read", "GET", "/", map[string]string{"Authorization": "Bearer " + sign(t, s, 2)}, 401, kycvs.CodeTokenMissing, false},
		{"low status", "GET", "/", map[string]string{"Cookie": "kycvs=" + sign(t, s, 1)}, 403, kycvs.CodeStatusLow, false},
		{"garbage", "GET", "/", map[string]string{"Authorization": "kycvs x.y.z"}, 401, kycvs.CodeMalformed, false},
		{"preflight", "OPTIONS", "/api", map[string]string{"Access-Control-Request-Method": "POST", gate.StatusHeader: "2"}, 200, "", true},
		{"options, not a preflight", "OPTIONS", "/api", nil, 401, kycvs.CodeTokenMissing, false},
		{"bypass exact", "GET", "/healthz", map[string]string{gate.StatusHeader: "2"}, 200, "", true},
		{"bypass subtree", "GET", "/static/a.js", nil, 200, "", true},
		{"bypass is not a prefix", "GET", "/healthzz", nil, 401, kycvs.CodeTokenMissing, false},
		{"dot-dot out of a bypass", "GET", "/static/%2e%2e/book", nil, 401, kycvs.CodeTokenMissing, false},
	} {
		*seen = nil
		res, p := get(t, srv, c.method, c.path, c.h)
		if res.StatusCode != c.status || (c.code != "" && p["code"] != string(c.code)) || (len(*seen) == 1) != c.reached {
			t.Errorf("%s: %d %v, reached the app %v", c.name, res.StatusCode, p, len(*seen) == 1)
		}
		if c.reached && (*seen)[0].Header.Get(gate.StatusHeader) != "" {
			t.Errorf("%s: the app saw %s without a token", c.name, gate.StatusHeader)
		}
		if c.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "KYCVS") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, res.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestStaleKeySet(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r, _ := kycvs.NewRemoteKeySet(dead.URL + "/jwks.json")
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	g, err := gate.New(gate.Config{Issuer: iss, Audience: aud, Remote: r, MinStatus: 1, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "KYCVS a.b.c")
	w := httptest.NewRecorder()
	g.Middleware(http.NotFoundHandler()).ServeHTTP(w, req)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"ERR_JWKS_STALE"`) {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
	// Why is the operator's to read, not a stranger's: the fetch's error
	// names the issuer's address (an internal one, often).
	host := strings.TrimPrefix(dead.URL, "http://")
	if strings.Contains(w.Body.String(), host) || strings.Contains(w.Body.String(), "refused") {
		t.Errorf("the answer tells why the fetch failed: %s", w.Body)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], host) || !strings.HasPrefix(logs[0], "kycvs gate: ERR_JWKS_STALE: no key set") {
		t.Errorf("logged %q, want one line naming %s", logs, host)
	}
	// A stranger's requests do not each write a line (TestLogCause).
	for range 5 {
		g.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(logs) != 1 {
		t.Fatalf("5 more refusals logged %d more lines", len(logs)-1)
	}
}

// brokenReplay is a replay store that cannot answer (a database that is down).
type brokenReplay struct{}

func (brokenReplay) Admit(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("dial tcp 10.9.8.7:6379: connect: connection refused")
}

// TestReplayStoreErrorLogged: a store's error goes to the log, not into the
// 503 answer, on the middleware and on Check (which servers that answer
// themselves call, with LogCause).
func TestReplayStoreErrorLogged(t *testing.T) {
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	s, srv, seen := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated, Replay: brokenReplay{}, Logf: logf})
	res, p := get(t, srv, "GET", "/", map[string]string{"Authorization": "KYCVS " + sign(t, s, 2)})
	if res.StatusCode != 503 || p["code"] != string(kycvs.CodeUnavailable) || len(*seen) != 0 {
		t.Fatalf("got %d %v, app saw %d", res.StatusCode, p, len(*seen))
	}
	if d, _ := p["detail"].(string); strings.Contains(d, "10.9.8.7") || d == "" {
		t.Errorf("detail %q", d)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "10.9.8.7") {
		t.Errorf("logged %q", logs)
	}
}

func TestNewRefuses(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	r, _ := kycvs.NewRemoteKeySet("https://issuer.example/jwks")
	for name, cfg := range map[string]gate.Config{
		"no keys":             {Issuer: iss, Audience: aud, MinStatus: 2},
		"both key sources":    {Issuer: iss, Audience: aud, MinStatus: 2, Keys: ks, Remote: r},
		"no issuer":           {Audience: aud, MinStatus: 2, Keys: ks},
		"no audience":         {Issuer: iss, MinStatus: 2, Remote: r},
		"status 0 by default": {Issuer: iss, Audience: aud, Keys: ks},
		"status 3":            {Issuer: iss, Audience: aud, Keys: ks, MinStatus: 3},
		"bad leeway":          {Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2, Leeway: 2 * time.Hour},
		"relative bypass":     {Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2, Bypass: []string{"static/"}},
		"unclean bypass":      {Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2, Bypass: []string{"/static/../"}},
		"replay both ways":    {Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2, Replay: gate.NewMemoryReplay(1, nil), AllowReplay: true},
	} {
		if _, err := gate.New(cfg); kycvs.CodeOf(err) != kycvs.CodeConfig {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := gate.New(gate.Config{Issuer: iss, Audience: aud, Keys: ks, AdmitAnyStatus: true}); err != nil {
		t.Errorf("status 0 by name: %v", err)
	}
}

// TestExemptions: what passes without a token, and what must not — paths
// that a server behind the gate could resolve to a gated path, and the
// body of a preflight's answer.
func TestExemptions(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	g, err := gate.New(gate.Config{Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2, Bypass: []string{"/healthz", "/static/"}})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "6")
		io.WriteString(w, "secret") // a handler that ignores the method
	}))
	serve := func(method, target string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://gate.example/", strings.NewReader("body"))
		r.RequestURI = target
		u, err := url.Parse(target) // as the server parses the request line: no dot-segment removal
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		r.URL = u
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, p := range []string{"/healthz", "/static/", "/static/app.v2.js", "/static/a/b-c_d~e.css?x=1"} {
		if w := serve("GET", p); w.Code != 200 || w.Body.String() != "secret" {
			t.Errorf("bypass %s: %d %q", p, w.Code, w.Body)
		}
	}
	for _, p := range []string{"/static/..;/admin", "/static/a;b", "/static/%2e%2e/admin", "/static/%41", "/static/..%2fadmin",
		`/static/..\admin`, "/static//admin", "/static/./a", "/static/../admin", "/healthz/", "/healthz;x", "/HEALTHZ", "/static"} {
		if w := serve("GET", p); w.Code != 401 {
			t.Errorf("%s passed the gate: %d", p, w.Code)
		}
	}
	w := serve("OPTIONS", "/api/book", "Access-Control-Request-Method", "POST", "Origin", "https://app.example")
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "" {
		t.Errorf("preflight: %d %q %v, want the answer without its body", w.Code, w.Body, w.Header())
	}
}

// TestPrepareHeader: the header a request reaches the next handler with,
// spelled out, for admitted and exempt requests, with the token kept or
// not; Middleware passes on the same (through a copy: the caller's request
// is left as it was), and Check then PrepareHeader give it too.
func TestPrepareHeader(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	tok := sign(t, s, 2)
	other := sign(t, s, 1) // another person's token, status 1
	// Values the gate does not read as credentials but a looser reader
	// behind it might (any Unicode or Latin-1 space, Unicode case folding,
	// a comma list), and two it must leave: another scheme, and a list
	// without the KYCVS scheme.
	unreadable := []string{"KYCVS\u00a0" + other, "KYCVS2 x", "KYCVS;" + other, "\u00a0KYCVS " + other, "\xa0KYCVS " + other,
		"\x85KYCVS " + other, "\u212aYCVS " + other, "KYCV\u017f " + other, "Basic a2V5, KYCVS " + other, "\ufeffkycvs " + other, "Basic a2V5, KYCVSx"}
	const nonce = "nonce-abcdef" // sign's
	for _, keep := range []bool{false, true} {
		// Replay off: the same token goes through Middleware and Check.
		g, err := gate.New(gate.Config{Issuer: iss, Audience: aud, Keys: ks, MinStatus: 1, KeepToken: keep,
			AllowReplay: true, Bypass: []string{"/healthz"}})
		if err != nil {
			t.Fatal(err)
		}
		var passed http.Header
		h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { passed = r.Header }))
		either := func(dropped, kept http.Header) http.Header {
			if keep {
				return kept
			}
			return dropped
		}
		for _, c := range []struct {
			name, path string
			hdr, want  http.Header
		}{
			{"header", "/",
				http.Header{"Authorization": {"Bearer x", "KYCVS " + tok}, "Kycvs-Status": {"1"}, "Kycvs_nonce": {"n"}, "X-Other": {"o"}},
				either(http.Header{"Authorization": {"Bearer x"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}, "X-Other": {"o"}},
					http.Header{"Authorization": {"Bearer x", "KYCVS " + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}, "X-Other": {"o"}})},
			// Lines a runtime joined with ", " and the worker split again.
			{"header, after a comma", "/",
				http.Header{"Authorization": {"Bearer x", " KYCVS " + tok}},
				either(http.Header{"Authorization": {"Bearer x"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Authorization": {"Bearer x", " KYCVS " + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			{"cookie", "/",
				http.Header{"Cookie": {"a=1; kycvs=" + tok + "; b=2"}, "KYCVS_STATUS": {"1"}},
				either(http.Header{"Cookie": {"a=1; b=2"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Cookie": {"a=1; kycvs=" + tok + "; b=2"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			{"cookie alone", "/",
				http.Header{"Cookie": {"kycvs=" + tok}},
				either(http.Header{"Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Cookie": {"kycvs=" + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			{"exempt, with a token", "/healthz",
				http.Header{"Kycvs-Status": {"2"}, "Authorization": {"KYCVS " + tok, "Bearer x"}, "Cookie": {"a=1", "b=2;;"}},
				either(http.Header{"Authorization": {"Bearer x"}, "Cookie": {"a=1", "b=2;;"}},
					http.Header{"Authorization": {"KYCVS " + tok, "Bearer x"}, "Cookie": {"a=1", "b=2;;"}})},
			{"exempt, a token cookie", "/healthz",
				http.Header{"Cookie": {"a=1", "kycvs=" + tok + ";b=2"}},
				either(http.Header{"Cookie": {"a=1", "b=2"}}, http.Header{"Cookie": {"a=1", "kycvs=" + tok + ";b=2"}})},
			// A Workers runtime splits "note=x,session=y" at the comma:
			// the lines stay lines, so that session=y stays in note's value
			// (joined with "; " it would be a cookie of its own).
			{"cookie with a comma in a value, split", "/",
				http.Header{"Cookie": {"session=v; note=x", "session=y; kycvs=" + tok}},
				either(http.Header{"Cookie": {"session=v; note=x", "session=y"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Cookie": {"session=v; note=x", "session=y; kycvs=" + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			// The scheme and the token apart by a tab: read, and removed.
			{"header, a tab after the scheme", "/",
				http.Header{"Authorization": {"kycvs\t" + tok}},
				either(http.Header{"Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Authorization": {"kycvs\t" + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			// A value naming the scheme that the gate cannot read (here a
			// no-break space) goes too: a looser reader behind the gate
			// would take a token the gate never checked. Another scheme
			// whose name begins with KYCVS stays.
			{"header the gate cannot read, cookie", "/",
				http.Header{"Authorization": unreadable, "Cookie": {"kycvs=" + tok}},
				either(http.Header{"Authorization": {"KYCVS2 x", "Basic a2V5, KYCVSx"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Authorization": unreadable, "Cookie": {"kycvs=" + tok}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			// Cookies a looser reader would take for the kycvs cookie go
			// too (Python's ends a cookie at a space; one that trims
			// Latin-1 or Unicode spaces); so does a value with the scheme
			// after a comma, quoted or not (a naive split finds it).
			{"header, and cookies the gate cannot read", "/",
				http.Header{"Authorization": {"KYCVS " + tok, `Digest a=", KYCVS ` + other + `, b="`, `Digest username="Doe, Kycvs J", realm="r"`},
					"Cookie": {"c=3; a=b kycvs=" + other + "; \xa0kycvs=" + other + ";\x1ckycvs=" + other + "; kycvs\u00a0=" + other + "; d=kycvs"}},
				either(http.Header{"Cookie": {"c=3; d=kycvs"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Authorization": {"KYCVS " + tok, `Digest a=", KYCVS ` + other + `, b="`, `Digest username="Doe, Kycvs J", realm="r"`},
						"Cookie": {"c=3; a=b kycvs=" + other + "; \xa0kycvs=" + other + ";\x1ckycvs=" + other + "; kycvs\u00a0=" + other + "; d=kycvs"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
			// Cookie pairs left byte for byte: a pair Go does not read
			// ("0\f") is not made one it reads ("0").
			{"cookie pairs kept as sent", "/",
				http.Header{"Cookie": {"a=1 ;0\f; kycvs=" + tok + ";  b=2"}},
				either(http.Header{"Cookie": {"a=1 ;0\f;  b=2"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}},
					http.Header{"Cookie": {"a=1 ;0\f; kycvs=" + tok + ";  b=2"}, "Kycvs-Status": {"2"}, "Kycvs-Nonce": {nonce}})},
		} {
			name := fmt.Sprintf("keep %v, %s", keep, c.name)
			r := httptest.NewRequest("GET", "http://gate.example"+c.path, nil)
			r.Header = c.hdr.Clone()
			passed = nil
			h.ServeHTTP(httptest.NewRecorder(), r)
			if !equalHeader(passed, c.want) {
				t.Errorf("%s: Middleware passed %v, want %v", name, passed, c.want)
			}
			if !equalHeader(r.Header, c.hdr) {
				t.Errorf("%s: Middleware changed the caller's request: %v", name, r.Header)
			}
			got, ref := g.Check(r)
			if ref != nil {
				t.Fatalf("%s: %+v", name, ref)
			}
			hdr := r.Header.Clone()
			g.PrepareHeader(hdr, got)
			if !equalHeader(hdr, c.want) {
				t.Errorf("%s: PrepareHeader %v, want %v", name, hdr, c.want)
			}
		}
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// TestIsPreflight: what Check lets through as a preflight, and only that.
func TestIsPreflight(t *testing.T) {
	for _, c := range []struct {
		method, acrm string
		want         bool
	}{{"OPTIONS", "POST", true}, {"OPTIONS", "", false}, {"GET", "POST", false}, {"options", "POST", false}} {
		r := httptest.NewRequest(c.method, "/", nil)
		if c.acrm != "" {
			r.Header.Set("Access-Control-Request-Method", c.acrm)
		}
		if got := gate.IsPreflight(r); got != c.want {
			t.Errorf("%s with Access-Control-Request-Method %q: %v, want %v", c.method, c.acrm, got, c.want)
		}
	}
}
