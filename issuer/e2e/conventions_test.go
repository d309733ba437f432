package e2e

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestWellKnownConventions: conditional requests and CORS preflights on the
// public metadata, as caches, browsers and JWKS clients expect them.
func TestWellKnownConventions(t *testing.T) {
	s := startServer(t, "", newInbox(t))
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/kycvs-configuration"} {
		r := s.do(t, "GET", path, nil, "")
		etag := r.hdr.Get("ETag")
		if r.code != 200 || etag == "" || r.hdr.Get("Access-Control-Allow-Origin") != "*" || r.hdr.Get("Access-Control-Expose-Headers") != "ETag" {
			t.Fatalf("GET %s: %d, ETag %q, %v", path, r.code, etag, r.hdr)
		}
		for _, inm := range []string{etag, "*", `"other", ` + etag, "W/" + etag} {
			r := s.do(t, "GET", path, map[string]string{"If-None-Match": inm}, "")
			if r.code != http.StatusNotModified || len(r.raw) != 0 || r.hdr.Get("ETag") != etag {
				t.Errorf("GET %s If-None-Match: %s: %d %q, want 304", path, inm, r.code, r.raw)
			}
		}
		if r := s.do(t, "GET", path, map[string]string{"If-None-Match": `"other"`}, ""); r.code != 200 || len(r.raw) == 0 {
			t.Errorf("GET %s with a stale ETag: %d", path, r.code)
		}
		r = s.do(t, "OPTIONS", path, map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
			"Access-Control-Request-Headers": "if-none-match"}, "")
		if r.code != http.StatusNoContent || r.hdr.Get("Access-Control-Allow-Origin") != "*" ||
			r.hdr.Get("Access-Control-Allow-Methods") == "" || r.hdr.Get("Access-Control-Allow-Headers") == "" {
			t.Errorf("OPTIONS %s: %d %v, want 204 with CORS headers", path, r.code, r.hdr)
		}
		if r := s.do(t, "PUT", path, nil, ""); r.code != 405 || r.hdr.Get("Allow") != "GET, OPTIONS" {
			t.Errorf("PUT %s: %d, Allow %q", path, r.code, r.hdr.Get("Allow"))
		}
	}
}

// TestReadyzDropsBeforeDrain: on SIGTERM, /readyz answers 503 while the
// server still serves (for --drain-delay), before the listener closes.
func TestReadyzDropsBeforeDrain(t *testing.T) {
	s := startServer(t, "", newInbox(t), "--drain-delay", "3s")
	if r := s.do(t, "GET", "/readyz", nil, ""); r.code != 200 {
		t.Fatalf("readyz before: %d", r.code)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for i := 0; ; i++ {
		res, err := c.Get(s.url + "/readyz")
		if err != nil {
			t.Fatalf("readyz after SIGTERM (try %d): %v — the listener closed before /readyz said 503", i, err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if res.StatusCode != 200 || i == 1000 {
			t.Fatalf("readyz after SIGTERM: %d", res.StatusCode)
		}
		time.Sleep(time.Millisecond) // until the signal is handled
	}
	if r := s.do(t, "GET", "/healthz", nil, ""); r.code != 200 { // still serving: not yet draining
		t.Errorf("healthz while not ready: %d", r.code)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("kycvs serve did not stop")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("kycvs serve exited %d", code)
	}
}
