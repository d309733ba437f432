//go:build !js

package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// starter starts the gate with a configuration and returns its base URL.
// The same cases run against the native handler and against real workerd.
type starter func(t *testing.T, env map[string]string) string

func runPinnedCases(t *testing.T, f *fixture, start starter) {
	min1 := start(t, f.env("1", "KYCVS_BYPASS", "/healthz,/static/"))
	min2 := start(t, f.env("2", "KYCVS_KEEP_TOKEN", "1"))

	t.Run("status vs minimum", func(t *testing.T) {
		for _, c := range []struct {
			base string
			min  int
			st   kycvs.Status
		}{{min1, 1, 0}, {min1, 1, 1}, {min1, 1, 2}, {min2, 2, 0}, {min2, 2, 1}, {min2, 2, 2}} {
			r := do(t, c.base, "GET", "/", auth(f.token(f.keyA, c.st)), "")
			if int(c.st) < c.min {
				wantProblem(t, r, http.StatusForbidden, kycvs.CodeStatusLow)
				if r.problem["vaccination_status"] != float64(c.st) || r.problem["min_status"] != float64(c.min) {
					t.Errorf("min %d status %d: problem %v", c.min, c.st, r.problem)
				}
			} else {
				wantForwarded(t, r, string(rune('0'+c.st)))
			}
		}
	})
	t.Run("origin unreachable: 502, logged without the request's path, query or token", func(t *testing.T) {
		const closed = "127.0.0.1:1" // nothing listens there (a freed port could be taken by another test's server)
		base := start(t, f.env("1", "KYCVS_ORIGIN", "http://"+closed+"/app"))
		tok := f.token(f.keyA, 2)
		const path = "/private-9876543210?mobile=9876543210&name=Asha"
		wantProblem(t, do(t, base, "GET", path, auth(tok), ""), http.StatusBadGateway, kycvs.CodeUnavailable)
		wantProblem(t, do(t, base, "GET", path, nil, ""), http.StatusUnauthorized, kycvs.CodeTokenMissing) // not logged
		// The origin failure is logged (workerd writes its log
		// asynchronously): with the origin, without the request's parts.
		logs := waitLog(t, base, "kycvs worker: origin")
		if n := strings.Count(logs, "kycvs worker: origin"); n != 1 {
			t.Fatalf("%d origin failures logged, want 1:\n%s", n, logs)
		}
		if !strings.Contains(logs, closed) {
			t.Errorf("the log does not name the origin %s:\n%s", closed, logs)
		}
		for _, secret := range []string{"9876543210", "Asha", "mobile", tok[strings.LastIndexByte(tok, '.')+1:]} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds %q from the request:\n%s", secret, logs)
			}
		}
	})
	t.Run("a token works once (KYCVS_REPLAY isolate, the default; off by name)", func(t *testing.T) {
		tok := f.token(f.keyA, 2)
		wantForwarded(t, do(t, min1, "GET", "/", auth(tok), ""), "2")
		wantProblem(t, do(t, min1, "GET", "/", auth(tok), ""), http.StatusConflict, kycvs.CodeReplay)
		wantProblem(t, do(t, min1, "GET", "/", map[string]string{"Cookie": "kycvs=" + tok}, ""), http.StatusConflict, kycvs.CodeReplay)
		// Another gate (isolate) has not seen it: once per isolate, as documented.
		wantForwarded(t, do(t, min2, "GET", "/", auth(tok), ""), "2")
		open := start(t, f.env("2", "KYCVS_REPLAY", "off"))
		for range 2 {
			wantForwarded(t, do(t, open, "GET", "/", auth(tok), ""), "2")
		}
	})
	t.Run("header token is stripped, status header cannot be spoofed", func(t *testing.T) {
		tok := f.token(f.keyA, 1)
		h := auth(tok)
		h[gate.StatusHeader] = "2"
		h[gate.NonceHeader] = "forged-nonce"
		h["KYCVS_Status"] = "2"
		h["KYCVS_Nonce"] = "forged-nonce"
		h["Cookie"] = "session=abc"
		e := wantForwarded(t, do(t, min1, "GET", "/a/b%2Fc?x=1&y=%20", h, ""), "1")
		if len(e.Nonce) != 1 || e.Nonce[0] == "forged-nonce" || len(e.Spoofable) != 0 {
			t.Errorf("origin saw KYCVS-Nonce %v and %v", e.Nonce, e.Spoofable)
		}
		if len(e.Authorization) != 0 {
			t.Errorf("origin saw Authorization %v", e.Authorization)
		}
		if e.Path != "/app/a/b/c" || e.Query != "x=1&y=%20" {
			t.Errorf("origin saw path %q query %q", e.Path, e.Query)
		}
		if !slices.Equal(e.Cookie, []string{"session=abc"}) {
			t.Errorf("origin saw cookies %v", e.Cookie)
		}
		if e.ForwardedHost == "" {
			t.Errorf("no X-Forwarded-Host")
		}
	})
	t.Run("hop-by-hop headers go neither way", func(t *testing.T) {
		h := auth(f.token(f.keyA, 2))
		for _, k := range []string{"Proxy-Authorization", "Proxy-Connection", "Keep-Alive", "Te", "Trailer"} {
			h[k] = "x"
		}
		r := do(t, min1, "GET", "/hop", h, "")
		if e := wantForwarded(t, r, "2"); len(e.Hop) != 0 {
			t.Errorf("origin saw %v", e.Hop)
		}
		for _, k := range []string{"Proxy-Authenticate", "Proxy-Connection", "Trailer"} {
			if v := r.header.Values(k); len(v) != 0 {
				t.Errorf("client saw %s: %v", k, v)
			}
		}
	})
	t.Run("keep token", func(t *testing.T) {
		tok := f.token(f.keyA, 2)
		e := wantForwarded(t, do(t, min2, "GET", "/", auth(tok), ""), "2")
		if !slices.Equal(e.Authorization, []string{"KYCVS " + tok}) {
			t.Errorf("origin saw Authorization %v", e.Authorization)
		}
	})
	t.Run("a comma in a cookie's value makes no cookie of its own", func(t *testing.T) {
		// Browsers allow commas in cookie values; a Workers runtime splits
		// header values at commas, and a "; " put there would make
		// session=attacker a cookie the origin reads.
		e := wantForwarded(t, do(t, min1, "GET", "/", map[string]string{"Cookie": "session=victim; note=x,session=attacker; kycvs=" + f.token(f.keyA, 2)}, ""), "2")
		var sessions []string
		for _, c := range (&http.Request{Header: http.Header{"Cookie": e.Cookie}}).Cookies() {
			if c.Name == "session" {
				sessions = append(sessions, c.Value)
			}
		}
		if !slices.Equal(sessions, []string{"victim"}) {
			t.Errorf("origin read session cookies %q from %q", sessions, e.Cookie)
		}
	})
	t.Run("other authorization is forwarded", func(t *testing.T) {
		e := wantForwarded(t, do(t, min1, "GET", "/", map[string]string{
			"Authorization": "Bearer origin-session", "Cookie": "a=1; kycvs=" + f.token(f.keyA, 2) + "; b=2",
		}, ""), "2")
		if !slices.Equal(e.Authorization, []string{"Bearer origin-session"}) || !slices.Equal(e.Cookie, []string{"a=1; b=2"}) {
			t.Errorf("origin saw Authorization %v Cookie %v", e.Authorization, e.Cookie)
		}
		// Two Authorization lines, the token's second (a Workers runtime
		// joins them with ", ").
		e = wantForwarded(t, do(t, min1, "GET", "/", map[string]string{"Authorization": "Bearer origin-session\nKYCVS " + f.token(f.keyA, 2)}, ""), "2")
		if !slices.Equal(e.Authorization, []string{"Bearer origin-session"}) {
			t.Errorf("origin saw Authorization %v", e.Authorization)
		}
	})
	t.Run("large cookies, then small ones (the fast path's buffers grow)", func(t *testing.T) {
		// Larger than both buffers of fast_js.go (16 KiB): the input
		// buffer grows, and the answer (the cookies to forward) moves the
		// output buffer; the answers after it are read where they are.
		big := "big=" + strings.Repeat("b", 24<<10)
		e := wantForwarded(t, do(t, min1, "GET", "/", map[string]string{"Cookie": "a=1; " + big + "; kycvs=" + f.token(f.keyA, 2)}, ""), "2")
		if !slices.Equal(e.Cookie, []string{"a=1; " + big}) {
			t.Errorf("origin saw %d cookie headers, %d bytes", len(e.Cookie), len(strings.Join(e.Cookie, "")))
		}
		e = wantForwarded(t, do(t, min1, "GET", "/", map[string]string{"Cookie": "c=3; kycvs=" + f.token(f.keyA, 1)}, ""), "1")
		if !slices.Equal(e.Cookie, []string{"c=3"}) {
			t.Errorf("origin saw cookies %v", e.Cookie)
		}
		wantProblem(t, do(t, min1, "GET", "/", auth(f.token(f.keyA, 0)), ""), http.StatusForbidden, kycvs.CodeStatusLow)
	})
	t.Run("cookie form", func(t *testing.T) {
		e := wantForwarded(t, do(t, min2, "GET", "/", map[string]string{"Cookie": "kycvs=" + f.token(f.keyA, 2)}, ""), "2")
		if len(e.Cookie) != 1 || !strings.Contains(e.Cookie[0], "kycvs=") {
			t.Errorf("keep-token origin saw cookies %v", e.Cookie)
		}
		wantProblem(t, do(t, min2, "GET", "/", map[string]string{"Cookie": "kycvs=" + f.token(f.keyA, 1)}, ""), 403, kycvs.CodeStatusLow)
	})
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		wantForwarded(t, do(t, min1, "GET", "/", map[string]string{"Authorization": "kycvs " + f.token(f.keyA, 1)}, ""), "1")
	})
	t.Run("POST body", func(t *testing.T) {
		e := wantForwarded(t, do(t, min1, "POST", "/book", auth(f.token(f.keyA, 2)), `{"seat":"12A"}`), "2")
		if e.Method != "POST" || e.Body != `{"seat":"12A"}` {
			t.Errorf("origin saw %s %q", e.Method, e.Body)
		}
	})
	t.Run("origin answers pass through", func(t *testing.T) {
		e := wantForwarded(t, do(t, min1, "GET", "/x/gz", auth(f.token(f.keyA, 2)), ""), "2")
		if e.Path != "/app/x/gz" {
			t.Errorf("origin saw %q", e.Path)
		}
		r := do(t, min1, "GET", "/x/cookies", auth(f.token(f.keyA, 2)), "")
		if got := r.header.Values("Set-Cookie"); !slices.Equal(got, []string{
			"id=a3fWa; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure; HttpOnly", "lang=en, hi; Path=/"}) {
			t.Errorf("Set-Cookie: got %q", got)
		}
		if got := r.header.Get("X-Agent"); got != "Mozilla/5.0 (KHTML, like Gecko)" {
			t.Errorf("X-Agent: got %q", got)
		}
		if got := strings.Join(r.header.Values("X-List"), ","); strings.ReplaceAll(got, " ", "") != "a,b,c" {
			t.Errorf("X-List: got %q", got)
		}
		r = do(t, min1, "GET", "/x/redirect", auth(f.token(f.keyA, 2)), "")
		if r.code != http.StatusFound || r.header.Get("Location") != "/elsewhere" || r.echo == nil {
			t.Errorf("redirect: got %d %v", r.code, r.header)
		}
	})
	t.Run("CORS preflight passes without a token", func(t *testing.T) {
		r := do(t, min1, "OPTIONS", "/api/book", map[string]string{
			"Origin": "https://app.example", "Access-Control-Request-Method": "POST", gate.StatusHeader: "2"}, "")
		e := wantPassed(t, r)
		if e.Method != "OPTIONS" || e.Path != "/app/api/book" || !r.bodyless {
			t.Errorf("origin saw %s %s; its answer's body was dropped: %v", e.Method, e.Path, r.bodyless)
		}
		// with a token and a body all the same: neither reaches the origin
		r = do(t, min1, "OPTIONS", "/api/book", map[string]string{"Access-Control-Request-Method": "POST", "Authorization": "KYCVS " + f.token(f.keyA, 2)}, "body")
		if e := wantPassed(t, r); e.Body != "" || len(e.Authorization) != 0 || !r.bodyless {
			t.Errorf("origin saw body %q, Authorization %v; its answer's body was dropped: %v", e.Body, e.Authorization, r.bodyless)
		}
		// an OPTIONS that is not a preflight is gated
		wantProblem(t, do(t, min1, "OPTIONS", "/api/book", nil, ""), 401, kycvs.CodeTokenMissing)
	})
	t.Run("bypass paths", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/static/", "/static/app.js", "/static/css/site.css?v=1"} {
			wantPassed(t, do(t, min1, "GET", p, map[string]string{gate.StatusHeader: "2"}, ""))
		}
		for _, p := range []string{"/healthzz", "/healthz/x", "/static", "/Static/app.js", "/static/%2e%2e/secret", "/static/x/../../secret", "//static/x"} {
			wantProblem(t, do(t, min1, "GET", p, nil, ""), 401, kycvs.CodeTokenMissing)
		}
		// A token sent to a bypass path all the same is neither checked
		// nor recorded, and does not reach the origin (KYCVS_KEEP_TOKEN
		// unset); another cookie does.
		tok := f.token(f.keyA, 2)
		e := wantPassed(t, do(t, min1, "POST", "/static/x", map[string]string{"Authorization": "KYCVS " + tok, "Cookie": "a=1; kycvs=" + tok}, "b"))
		if len(e.Authorization) != 0 || !slices.Equal(e.Cookie, []string{"a=1"}) || e.Body != "b" {
			t.Errorf("origin saw Authorization %v, Cookie %v, body %q", e.Authorization, e.Cookie, e.Body)
		}
		wantForwarded(t, do(t, min1, "GET", "/", auth(tok), ""), "2")
	})
	t.Run("no token", func(t *testing.T) {
		r := do(t, min1, "GET", "/", nil, "")
		wantProblem(t, r, http.StatusUnauthorized, kycvs.CodeTokenMissing)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "KYCVS") {
			t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
		wantProblem(t, do(t, min1, "GET", "/", map[string]string{"Authorization": "Bearer x"}, ""), 401, kycvs.CodeTokenMissing)
	})
	t.Run("expired", func(t *testing.T) {
		tok := f.token(f.keyA, 2, func(c *kycvs.Claims) {
			c.IssuedAt, c.Expires = time.Now().Unix()-1000, time.Now().Unix()-300
		})
		wantProblem(t, do(t, min1, "GET", "/", auth(tok), ""), 401, kycvs.CodeExpired)
	})
	t.Run("not yet valid", func(t *testing.T) {
		tok := f.token(f.keyA, 2, func(c *kycvs.Claims) {
			c.IssuedAt, c.Expires = time.Now().Unix()+600, time.Now().Unix()+900
		})
		wantProblem(t, do(t, min1, "GET", "/", auth(tok), ""), 401, kycvs.CodeNotYetValid)
	})
	t.Run("wrong audience", func(t *testing.T) {
		tok := f.token(f.keyA, 2, func(c *kycvs.Claims) { c.Audience = "another-entity" })
		wantProblem(t, do(t, min1, "GET", "/", auth(tok), ""), 401, kycvs.CodeAudience)
	})
	t.Run("wrong issuer", func(t *testing.T) {
		tok := f.token(f.keyA, 2, func(c *kycvs.Claims) { c.Issuer = "https://evil.test" })
		wantProblem(t, do(t, min1, "GET", "/", auth(tok), ""), 401, kycvs.CodeIssuer)
	})
	t.Run("bad signature", func(t *testing.T) {
		tok := f.token(f.keyA, 2)
		i := strings.LastIndexByte(tok, '.') + 10
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		bad := tok[:i] + string(c) + tok[i+1:]
		wantProblem(t, do(t, min1, "GET", "/", auth(bad), ""), 401, kycvs.CodeSignature)
	})
	t.Run("unknown key", func(t *testing.T) {
		wantProblem(t, do(t, min1, "GET", "/", auth(f.token(f.keyB, 2)), ""), 401, kycvs.CodeKIDUnknown)
	})
	t.Run("malformed", func(t *testing.T) {
		wantProblem(t, do(t, min1, "GET", "/", auth("not-a-token"), ""), 401, kycvs.CodeMalformed)
		wantProblem(t, do(t, min1, "GET", "/", auth(strings.Repeat("a", 5000)), ""), 401, kycvs.CodeTooLarge)
	})
}

func runConfigCases(t *testing.T, f *fixture, start starter) {
	for name, env := range map[string]map[string]string{
		"no origin":         f.env("1", "KYCVS_ORIGIN", ""),
		"min status 3":      f.env("3"),
		"bad pinned jwks":   f.env("1", "KYCVS_JWKS", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`),
		"both jwks and url": f.env("1", "KYCVS_JWKS_URL", f.jwks.URL),
		"plain http jwks":   f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", "http://issuer.example/jwks"),
		// Settings whose values must reach neither the answer nor the log.
		"origin with a password": f.env("1", "KYCVS_ORIGIN", "https://ops:s3cret-pw@origin.internal.example/app"),
		"origin with a query":    f.env("1", "KYCVS_ORIGIN", "https://origin.internal.example/app?key=s3cret-key"),
		"jwks url not http":      f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", "ftp://ops:s3cret-pw@issuer.internal.example/jwks"),
	} {
		t.Run(name, func(t *testing.T) {
			base := start(t, env)
			for range 2 {
				r := do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), "")
				wantProblem(t, r, 500, kycvs.CodeConfig)
				// What is wrong is the operator's: the answer names no
				// setting's value (the origin's address above all).
				detail, _ := r.problem["detail"].(string)
				for _, v := range []string{"internal.example", "s3cret", f.origin.URL[len("http://"):], "AAAA"} {
					if strings.Contains(detail, v) {
						t.Errorf("the answer's detail %q holds %q", detail, v)
					}
				}
			}
			logs := waitLog(t, base, "bad configuration")
			if !strings.Contains(logs, "kycvs worker: bad configuration: ") || strings.Contains(logs, "s3cret") {
				t.Errorf("the log says:\n%s", logs)
			}
		})
	}
}

// runRotationCase: the key set comes from KYCVS_JWKS_URL; the issuer
// rotates to key B; a token signed with B triggers one refresh, and a second
// unknown kid within the cooldown (30 s) does not trigger another.
func runRotationCase(t *testing.T, f *fixture, start starter) {
	f.setJWKS(f.keyA)
	base := start(t, f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL))
	wantForwarded(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), ""), "2")
	if n := f.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times after the first request, want 1", n)
	}
	wantForwarded(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 1)), ""), "1")
	f.setJWKS(f.keyB) // rotation: A retired, B current
	wantForwarded(t, do(t, base, "GET", "/", auth(f.token(f.keyB, 2)), ""), "2")
	if n := f.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the unknown kid, want 2", n)
	}
	wantProblem(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), ""), 401, kycvs.CodeKIDUnknown)
	c, err := kycvs.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	f.setJWKS(f.keyB, c)
	wantProblem(t, do(t, base, "GET", "/", auth(f.token(c, 2)), ""), 401, kycvs.CodeKIDUnknown)
	if n := f.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want still 2 (one kid-triggered refresh per cooldown)", n)
	}
}

// runStaleCase: max-age 1s (KYCVS_JWKS_MIN_REFRESH lets it be that short),
// hard limit 3s; the JWKS server goes away.
// Between the two the cached set still serves (and a background refresh is
// tried); past the limit every request fails closed with 503 ERR_JWKS_STALE.
func runStaleCase(t *testing.T, f *fixture, start starter) {
	f.setJWKS(f.keyA)
	base := start(t, f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", f.jwks.URL,
		"KYCVS_JWKS_MIN_REFRESH", "1s", "KYCVS_JWKS_MAX_AGE", "3s"))
	wantForwarded(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), ""), "2")
	time.Sleep(1500 * time.Millisecond)
	wantForwarded(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), ""), "2") // starts a background refresh
	refreshed := time.Now()                                                      // the refresh started before this
	for i := 0; f.jwksHits.Load() < 2; i++ {
		if i == 600 {
			t.Fatal("no background refresh after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := f.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one background refresh)", n)
	}
	f.takeJWKSDown()
	// The last good fetch started before refreshed, so the set is past its
	// 3 s limit once 3 s have passed since.
	time.Sleep(time.Until(refreshed.Add(3500 * time.Millisecond)))
	r := do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), "")
	wantProblem(t, r, http.StatusServiceUnavailable, kycvs.CodeJWKSStale)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	wantProblem(t, do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), ""), 503, kycvs.CodeJWKSStale)
	wantProblem(t, do(t, base, "GET", "/", nil, ""), 401, kycvs.CodeTokenMissing) // needs no key set
}

// runUnreachableCase: a JWKS URL that never answered fails closed at once.
func runUnreachableCase(t *testing.T, f *fixture, start starter) {
	base := start(t, f.env("1", "KYCVS_JWKS", "", "KYCVS_JWKS_URL", "http://127.0.0.1:1/jwks.json"))
	r := do(t, base, "GET", "/", auth(f.token(f.keyA, 2)), "")
	wantProblem(t, r, 503, kycvs.CodeJWKSStale)
	// Why the fetch failed is in the log, not in the answer.
	if d, _ := r.problem["detail"].(string); strings.Contains(d, "127.0.0.1") {
		t.Errorf("the answer's detail names the issuer's address: %q", d)
	}
	logs := waitLog(t, base, "127.0.0.1:1")
	if !strings.Contains(logs, "kycvs gate: ERR_JWKS_STALE") || !strings.Contains(logs, "127.0.0.1:1") {
		t.Errorf("the log does not say why:\n%s", logs)
	}
}
