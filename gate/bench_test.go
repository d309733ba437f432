package gate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// BenchmarkMiddleware is one admitted request through the gate: token from
// the header, verification, status, the request handed on.
func BenchmarkMiddleware(b *testing.B) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	g, err := gate.New(gate.Config{Issuer: iss, Audience: aud, Keys: ks, MinStatus: 2})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	tok, _ := s.Sign(&kycvs.Claims{Issuer: iss, Subject: "sub", Audience: aud, IssuedAt: now, Expires: now + 3000,
		ID: kycvs.NewTokenID(), Nonce: "nonce-abcdef", Status: 2})
	h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/book", nil)
	req.Header.Set("Authorization", "KYCVS "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
