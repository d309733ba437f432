// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"crypto/ed25519"
	"testing"
)

// benchFixture is the key, message and signature every benchmark of this
// package measures: a fixed key and a 300-byte message (the size of a kycvs
// token's signing input).
func benchFixture(tb testing.TB) (pub ed25519.PublicKey, k *PublicKey, msg, sig []byte) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 1
	priv := ed25519.NewKeyFromSeed(seed)
	pub = priv.Public().(ed25519.PublicKey)
	k, err := NewPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	msg = make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i)
	}
	return pub, k, msg, ed25519.Sign(priv, msg)
}

// BenchmarkVerify compares Verify with crypto/ed25519.Verify on the same key,
// a 300-byte message (the size of a kycvs token's signing input) and
// signature: go test -bench 'BenchmarkVerify$' ./internal/ed25519fast
func BenchmarkVerify(b *testing.B) {
	pub, k, msg, sig := benchFixture(b)
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

// BenchmarkNewPublicKey measures the per-key check and precomputation (done
// at a key's 17th Verify; the base point's table is built once, before the
// timer).
func BenchmarkNewPublicKey(b *testing.B) {
	pub, k, _, _ := benchFixture(b)
	k.precompute() // builds the base point's table
	b.ReportAllocs()
	for b.Loop() {
		k, _ := NewPublicKey(pub)
		k.precompute()
	}
}
