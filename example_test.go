package kycvs_test

import (
	"fmt"
	"time"

	"github.com/kycvs/kycvs"
)

// The whole life of a token: an issuer signs, a verifying entity checks it
// locally against the issuer's published key set.
func Example() {
	// Issuer side (kycvs serve does this after OTP and consent).
	signer, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(signer.PublicKey()) // served at /.well-known/jwks.json
	now := time.Now().Unix()
	token, _ := signer.Sign(&kycvs.Claims{
		Issuer: "https://kycvs.example", Audience: "railway-booking",
		Subject:  kycvs.PairwiseSubject([]byte("issuer secret"), "12345678901234", "railway-booking"),
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(),
		Nonce: "booking-7f3a9c", Status: kycvs.FullyVaccinated,
	})

	// Verifying entity side: parse the key set once, verify each token.
	keys, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		panic(err)
	}
	verifier, err := kycvs.NewVerifier(keys, "https://kycvs.example", "railway-booking")
	if err != nil {
		panic(err)
	}
	result, err := verifier.Verify(token, "booking-7f3a9c")
	if err != nil {
		fmt.Println("rejected:", kycvs.CodeOf(err))
		return
	}
	fmt.Println(result.Status)

	_, err = verifier.Verify(token, "another-booking")
	fmt.Println(kycvs.CodeOf(err))
	// Output:
	// fully vaccinated
	// ERR_NONCE
}
