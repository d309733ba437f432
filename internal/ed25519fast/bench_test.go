// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"crypto/ed25519"
	"testing"
)

// BenchmarkVerify compares Verify with crypto/ed25519.Verify on the same key,
// a 300-byte message (the size of a kycvs token's signing input) and
// signature: go test -bench 'BenchmarkVerify$' ./internal/ed25519fast
func BenchmarkVerify(b *testing.B) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 1
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	k, err := NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i)
	}
	sig := ed25519.Sign(priv, msg)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.Verify(msg, sig) {
				b.Fatal("Verify failed")
			}
		}
	})
	b.Run("onthefly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.verifyOnTheFly(msg, sig) {
				b.Fatal("Verify failed")
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("ed25519.Verify failed")
			}
		}
	})
}

// BenchmarkNewPublicKey measures the per-key check and precomputation
// (done by the first Verify; the base point's table is built once, before
// the timer).
func BenchmarkNewPublicKey(b *testing.B) {
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, nil)
	k, err := NewPublicKey(pub)
	if err != nil || !k.Verify(nil, sig) {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k, _ := NewPublicKey(pub)
		k.precompute()
	}
}
