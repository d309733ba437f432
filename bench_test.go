package kycvs_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/ed25519fast"
	"github.com/kycvs/kycvs/internal/wire"
)

// BenchmarkVerify compares, on the same token, our whole verification with
// go-jose's parse + verify + msgpack decode and with the bare signature
// checks: crypto/ed25519 (inside go-jose) and ed25519fast (inside ours).
// ./build.sh bench prints them together.
func BenchmarkVerify(b *testing.B) {
	s, err := kycvs.GenerateSigner()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	c := kycvs.Claims{Issuer: "https://issuer.kycvs.example", Subject: "h2mF0X9q3kQ_Ygq8S1m0sA", Audience: "railway-booking",
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(), Nonce: kycvs.NewNonce(), Status: 2,
		NameHash: kycvs.NameHash("n", "Asha Devi")}
	token, err := s.Sign(&c)
	if err != nil {
		b.Fatal(err)
	}
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	v, _ := kycvs.NewVerifier(ks, c.Issuer, c.Audience)
	pub := s.PublicKey()

	b.Run("kycvs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(token, c.Nonce); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-jose", func(b *testing.B) {
		b.ReportAllocs()
		algs := []jose.SignatureAlgorithm{jose.EdDSA}
		for b.Loop() {
			jws, err := jose.ParseSignedCompact(token, algs)
			if err != nil {
				b.Fatal(err)
			}
			payload, err := jws.Verify(pub)
			if err != nil {
				b.Fatal(err)
			}
			var w wire.Claims
			if _, err := w.UnmarshalMsg(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	dot := strings.LastIndexByte(token, '.')
	msg := []byte(token[:dot])
	sig, _ := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	signature := sig.Signatures[0].Signature
	b.Run("ed25519", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, signature) {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("ed25519fast", func(b *testing.B) {
		b.ReportAllocs()
		k, err := ed25519fast.NewPublicKey(pub)
		if err != nil || !k.Verify(msg, signature) { // builds the tables
			b.Fatal("bad signature", err)
		}
		for b.Loop() {
			if !k.Verify(msg, signature) {
				b.Fatal("bad signature")
			}
		}
	})
}
