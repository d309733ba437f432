package embed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

type fake struct {
	started, confirmed int
}

func newTestServer(t *testing.T) (*httptest.Server, *fake) {
	t.Helper()
	f := &fake{}
	clients := map[string]*store.Client{
		"rail": {ID: "rail", Name: "Rail <Co>", Origins: []string{"https://rail.example", "https://m.rail.example"}},
	}
	mux := http.NewServeMux()
	Register(mux, Deps{
		Client: func(ctx context.Context, id string) (*store.Client, error) {
			if c, ok := clients[id]; ok {
				return c, nil
			}
			return nil, fmt.Errorf("client %s: %w", id, store.ErrNotFound)
		},
		StartOTP: func(ctx context.Context, c *store.Client, mobile, name, nonce, ip, lang string) (string, int, error) {
			f.started++
			if nonce != "nonce-1234" || c.ID != "rail" {
				return "", 0, errors.New("wrong nonce or client")
			}
			return "txn1", 180, nil
		},
		Verify: func(ctx context.Context, c *store.Client, txn string, otpSHA []byte, ip string) error { return nil },
		Confirm: func(ctx context.Context, c *store.Client, txn string, otpSHA []byte, ip string) (string, error) {
			f.confirmed++
			return "tok", nil
		},
		Problem: func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), 500) },
		Secret:  []byte("secret"), ResendAfter: 60 * time.Second, TokenTTL: 5 * time.Minute,
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, f
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var tokenRE = regexp.MustCompile(`data-page-token="([^"]+)"`)

func TestPage(t *testing.T) {
	srv, _ := newTestServer(t)
	res, body := get(t, srv.URL+"/embed?client_id=rail&nonce=nonce-1234&name=Asha+Devi&origin=https://m.rail.example")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors https://rail.example https://m.rail.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Error("the page has an inline script or handler")
	}
	for _, want := range []string{`data-client-name="Rail &lt;Co&gt;"`, `data-origin="https://m.rail.example"`, `value="Asha Devi"`, `lang="en"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if ck := res.Header.Get("Set-Cookie"); !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "Path=/embed") {
		t.Errorf("cookie %q", ck)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("page is cacheable")
	}
}

func TestPageErrors(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, c := range []struct {
		query  string
		status int
		key    string
	}{
		{"client_id=rail&nonce=short", 400, "badLink"},
		{"nonce=nonce-1234", 400, "badLink"},
		{"client_id=nobody&nonce=nonce-1234", 404, "unknownClient"},
		{"client_id=rail&nonce=nonce-1234&origin=https://evil.example", 403, "unregisteredOrigin"},
	} {
		res, body := get(t, srv.URL+"/embed?"+c.query)
		if res.StatusCode != c.status || !strings.Contains(body, `data-error="`+c.key+`"`) || strings.Contains(body, `data-page-token="e`) {
			t.Errorf("%s: %d, want %d %s", c.query, res.StatusCode, c.status, c.key)
		}
		if c.key == "unregisteredOrigin" && !strings.HasSuffix(res.Header.Get("Content-Security-Policy"), "frame-ancestors https://rail.example https://m.rail.example") {
			t.Errorf("CSP %q", res.Header.Get("Content-Security-Policy"))
		}
		if c.key == "unknownClient" && !strings.HasSuffix(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("CSP %q", res.Header.Get("Content-Security-Policy"))
		}
	}
}

func TestLanguage(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, c := range []struct{ query, accept, want string }{
		{"", "", "en"},
		{"", "hi-IN,hi;q=0.9,en;q=0.8", "hi"},
		{"", "en-IN,en;q=0.9,hi;q=0.5", "en"},
		{"", "fr", "en"},
		{"&lang=hi", "en", "hi"},
		{"&lang=en", "hi", "en"},
	} {
		_, body := get(t, srv.URL+"/embed?client_id=rail&nonce=nonce-1234"+c.query, "Accept-Language", c.accept)
		if !strings.Contains(body, `<html lang="`+c.want+`">`) {
			t.Errorf("%q %q: want lang %s", c.query, c.accept, c.want)
		}
	}
}

func TestAssets(t *testing.T) {
	srv, _ := newTestServer(t)
	res, _ := get(t, srv.URL+"/embed/kycvs-embed.js")
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("kycvs-embed.js: %d %v", res.StatusCode, res.Header)
	}
	res, _ = get(t, srv.URL+"/embed/page.js")
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("page.js: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, srv.URL+"/embed/page.html"); res.StatusCode != 404 {
		t.Errorf("page.html served raw: %d", res.StatusCode)
	}
}

// TestCSRF: the page's calls need the page token, and refuse cross-site
// requests and a cookie of another page.
func TestCSRF(t *testing.T) {
	srv, f := newTestServer(t)
	res, body := get(t, srv.URL+"/embed?client_id=rail&nonce=nonce-1234&origin=https://rail.example")
	tok := tokenRE.FindStringSubmatch(body)[1]
	var sid string
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			sid = c.Value
		}
	}
	post := func(hdr map[string]string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/embed/otp", strings.NewReader(`{"mobile":"9999900000","name":"Asha"}`))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	ok := map[string]string{pageHeader: tok, "Cookie": cookieName + "=" + sid, "Sec-Fetch-Site": "same-origin", "Origin": "http://" + host, "Content-Type": "application/json"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	// forge changes one character in the middle of the token to another:
	// a whole 6-bit group, never only the unused bits of the last one (the
	// last two characters replaced by "AA" were the same token 1 time in
	// 1,024, and the test then failed).
	forge := func(tok string) string {
		i := len(tok) / 2
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		return tok[:i] + string(c) + tok[i+1:]
	}
	for name, c := range map[string]struct {
		hdr  map[string]string
		want int
	}{
		"all good":                     {ok, 200},
		"no cookie, same-origin":       {with("Cookie", ""), 200},
		"no token":                     {with(pageHeader, ""), 403},
		"forged token":                 {with(pageHeader, forge(tok)), 403},
		"other page's cookie":          {with("Cookie", cookieName+"=other"), 403},
		"cross-site":                   {with("Sec-Fetch-Site", "cross-site"), 403},
		"other origin":                 {with("Origin", "https://evil.example"), 403},
		"no cookie, no fetch metadata": {with("Cookie", "", "Sec-Fetch-Site", ""), 403},
		"text/plain":                   {with("Content-Type", "text/plain"), 415},
		"no content type":              {with("Content-Type", ""), 415},
	} {
		if got := post(c.hdr); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	if f.started != 2 {
		t.Errorf("StartOTP ran %d times, want 2", f.started)
	}
}
