package kycvs

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs/internal/b64"
)

// TestForgeriesCostNoTables throws 10,000 forged tokens (every key's kid,
// canonical signatures that run the whole Ed25519 check and fail) at a
// verifier of a 100-key set: no key may build its table, and the memory
// allocated stays bounded (a key's table is about 0.5 MB, and the
// first-use counter once counted failures: 1,700 forgeries cost 47 MB).
func TestForgeriesCostNoTables(t *testing.T) {
	var pubs []ed25519.PublicKey
	var signers []*Signer
	for i := range MaxKeys {
		seed := sha256.Sum256(fmt.Appendf(nil, "forgery key %d", i))
		s := NewSigner(ed25519.NewKeyFromSeed(seed[:]))
		signers = append(signers, s)
		pubs = append(pubs, s.PublicKey())
	}
	jwks, err := PublicJWKS(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	v, err := NewVerifier(ks, "https://issuer.example", "rail", WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	// One genuine token per key, whose signature is then replaced.
	var forged []string
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range signers {
		c := Claims{Issuer: "https://issuer.example", Subject: "h2mF0X9q3kQ_Ygq8S1m0sA", Audience: "rail",
			IssuedAt: now.Unix(), Expires: now.Unix() + 300, ID: NewTokenID(), Nonce: "nonce-0001", Status: FullyVaccinated}
		tok, err := s.Sign(&c)
		if err != nil {
			t.Fatal(err)
		}
		forged = append(forged, tok[:strings.LastIndexByte(tok, '.')+1])
	}
	var sig [64]byte
	const n = 10_000
	tokens := make([]string, n)
	for i := range tokens {
		for j := range sig {
			sig[j] = byte(r.Uint32())
		}
		sig[63] &= 0x0f // S < 2^252 < L: canonical, so the point arithmetic runs
		tokens[i] = forged[i%len(forged)] + b64.Encode(sig[:])
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, tok := range tokens {
		_, err := v.Verify(tok, "nonce-0001")
		if CodeOf(err) != CodeSignature {
			t.Fatalf("forgery %d: %v, want %s", i, err, CodeSignature)
		}
	}
	runtime.ReadMemStats(&after)
	for kid, k := range ks.keys {
		if k.key.HasTable() {
			t.Fatalf("key %s built its table for forged signatures", kid)
		}
	}
	// Nothing is kept: the heap after a collection has not grown by a
	// table (old code: about 0.5 MB a key, 47 MB for 1,700 forgeries) ...
	var kept runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&kept)
	if grown := int64(kept.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Fatalf("%d forged tokens left the heap %d bytes larger, want at most 1 MiB", n, grown)
	}
	// ... and each failure makes little garbage (its *Error and the header's
	// parse).
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 2048 {
		t.Fatalf("a forged token allocated %d bytes, want at most 2 KiB", per)
	}
}

// TestVerifiersShareKeyTables: verifiers made from the same key set (a
// page that makes one per request, a refreshed JWKS, handles JavaScript
// has not collected yet) hold the same keys, so a key's table is built
// once per process, not once per verifier.
func TestVerifiersShareKeyTables(t *testing.T) {
	var pubs []ed25519.PublicKey
	for i := range 20 {
		seed := sha256.Sum256(fmt.Appendf(nil, "shared key %d", i))
		pubs = append(pubs, ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
	}
	jwks, _ := PublicJWKS(pubs...)
	first, err := ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		ks, err := ParseKeySet(jwks)
		if err != nil {
			t.Fatal(err)
		}
		for kid, k := range ks.keys {
			if k.key != first.keys[kid].key {
				t.Fatalf("key %s parsed twice into two PublicKeys", kid)
			}
		}
	}
}
