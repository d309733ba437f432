package kycvs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/kycvs/kycvs"
)

// A verifying entity's backend fetches the issuer's key set and keeps it
// fresh; a key rotation at the issuer is picked up at the first token signed
// with the new key.
func ExampleNewRemoteVerifier() {
	signer, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(signer.PublicKey())
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(jwks) // kycvs serve answers /.well-known/jwks.json like this
	}))
	defer issuer.Close()

	keys, err := kycvs.NewRemoteKeySet(issuer.URL+"/.well-known/jwks.json",
		kycvs.WithHTTPClient(&http.Client{}), kycvs.WithFetchTimeout(5*time.Second))
	if err != nil {
		panic(err)
	}
	verifier, err := kycvs.NewRemoteVerifier(keys, "https://kycvs.example", "railway-booking")
	if err != nil {
		panic(err)
	}

	now := time.Now().Unix()
	token, _ := signer.Sign(&kycvs.Claims{
		Issuer: "https://kycvs.example", Audience: "railway-booking", Subject: "c3ViamVjdA",
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(),
		Nonce: "booking-7f3a9c", Status: kycvs.FullyVaccinated,
	})
	result, err := verifier.Verify(context.Background(), token, "booking-7f3a9c")
	if err != nil {
		fmt.Println("rejected:", kycvs.CodeOf(err))
		return
	}
	fmt.Println(result.Status, "after", keys.Fetches(), "fetch")
	// Output: fully vaccinated after 1 fetch
}

// A verifying entity's backend checks a token against a pinned key set: the
// nonce is its own transaction's, and a token of another transaction is
// refused.
func ExampleNewVerifier() {
	signer, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(signer.PublicKey()) // the issuer's /.well-known/jwks.json
	keys, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		panic(err)
	}
	verifier, err := kycvs.NewVerifier(keys, "https://kycvs.example", "railway-booking", kycvs.WithLeeway(30*time.Second))
	if err != nil {
		panic(err)
	}
	now := time.Now().Unix()
	token, _ := signer.Sign(&kycvs.Claims{
		Issuer: "https://kycvs.example", Audience: "railway-booking", Subject: "c3ViamVjdA",
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(),
		Nonce: "booking-7f3a9c", Status: kycvs.PartiallyVaccinated,
	})
	for _, nonce := range []string{"booking-7f3a9c", "booking-other", ""} {
		result, err := verifier.Verify(token, nonce)
		if err != nil {
			fmt.Println(kycvs.CodeOf(err))
			continue
		}
		fmt.Println(result.Status)
	}
	// Output:
	// partially vaccinated
	// ERR_NONCE
	// ERR_CONFIG
}
