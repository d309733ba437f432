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
