package gate_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// A Go server lets only fully vaccinated visitors book: the gate verifies
// the token, the application reads the status header (or the token, to
// compare its nonce with the booking's).
func ExampleGate_Middleware() {
	signer, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(signer.PublicKey())
	keys, _ := kycvs.ParseKeySet(jwks) // or Remote: kycvs.NewRemoteKeySet(".../.well-known/jwks.json")

	g, err := gate.New(gate.Config{
		Issuer: "https://kycvs.example", Audience: "railway-booking", Keys: keys,
		MinStatus: kycvs.FullyVaccinated,
		Bypass:    []string{"/healthz"},
	})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := gate.TokenFrom(r.Context())
		// The gate cannot know the booking's nonce: check it here.
		if tok == nil || tok.Nonce != "booking-7f3a9c" {
			http.Error(w, "token of another booking", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "booked (KYCVS-Status %s)", r.Header.Get(gate.StatusHeader))
	})
	srv := httptest.NewServer(g.Middleware(app))
	defer srv.Close()

	now := time.Now().Unix()
	token, _ := signer.Sign(&kycvs.Claims{
		Issuer: "https://kycvs.example", Audience: "railway-booking", Subject: "c3ViamVjdA",
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(),
		Nonce: "booking-7f3a9c", Status: kycvs.FullyVaccinated,
	})
	for _, auth := range []string{"KYCVS " + token, ""} {
		req, _ := http.NewRequest("POST", srv.URL+"/book", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Content-Type"), string(body)[:min(len(body), 40)])
	}
	// Output:
	// 200 text/plain; charset=utf-8 booked (KYCVS-Status 2)
	// 401 application/problem+json {"code":"ERR_TOKEN_MISSING","detail":"se
}
