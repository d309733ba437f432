package kycvs

import (
	"net/http"
	"testing"
)

// TestDefaultClientRedirects: the default client follows https→https and
// http→http redirects, never https→http.
func TestDefaultClientRedirects(t *testing.T) {
	check := defaultHTTPClient.(*http.Client).CheckRedirect
	req := func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }
	if err := check(req("http://issuer.example/jwks"), []*http.Request{req("https://issuer.example/jwks")}); err == nil {
		t.Error("followed https → http")
	}
	if err := check(req("https://cdn.example/jwks"), []*http.Request{req("https://issuer.example/jwks")}); err != nil {
		t.Errorf("https → https: %v", err)
	}
	if err := check(req("http://127.0.0.1/b"), []*http.Request{req("http://127.0.0.1/a")}); err != nil {
		t.Errorf("http → http: %v", err)
	}
}
