package kycvs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDefaultClientRedirects: the default client follows no redirect; a 3xx
// is a failed fetch.
func TestDefaultClientRedirects(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("followed a redirect")
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/jwks", http.StatusFound))
	defer redirect.Close()
	r, err := NewRemoteKeySet(redirect.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.KeySet(context.Background()); CodeOf(err) != CodeJWKSStale || !strings.Contains(err.Error(), "HTTP 302") {
		t.Errorf("redirect: %v", err)
	}
}

// FuzzFreshness: any Cache-Control lines give a freshness lifetime within
// the bounds, never a panic.
func FuzzFreshness(f *testing.F) {
	for _, s := range []string{"max-age=300", "public, max-age=60", `max-age="86400"`, "no-cache", "max-age=-1", "max-age=99999999999999", "MAX-AGE=5, max-age=7", ",,=,", "max-age"} {
		f.Add(s, "")
	}
	r, err := NewRemoteKeySet("https://issuer.example/jwks")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{"Cache-Control": {a, b}}
		if d := r.freshness(h); d < r.o.minRefresh || d > r.o.maxRefresh {
			t.Fatalf("freshness(%q, %q) = %v, outside [%v, %v]", a, b, d, r.o.minRefresh, r.o.maxRefresh)
		}
	})
}
