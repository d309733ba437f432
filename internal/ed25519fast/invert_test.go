// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestInvertVar(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 200000
	if testing.Short() || runtime.GOARCH == "wasm" {
		n = 20000
	}
	check := func(x *fe) {
		var got, want fe
		invertVar(&got, x)
		want.Invert(x)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("invertVar(%x) = %x, want %x", x.Bytes(), got.Bytes(), want.Bytes())
		}
	}
	for _, s := range []uint32{0, 1, 2, 3, 19, 121665, 1 << 31} {
		x := feSmall(s)
		check(&x)
		x.Negate(&x)
		check(&x)
	}
	for i := range 256 { // 2^i
		var b [32]byte
		b[i/8] = 1 << (i % 8)
		var x fe
		x.SetBytes(b[:]) // 2^255 is read as 0
		check(&x)
		x.Negate(&x) // p - 2^i
		check(&x)
		var one fe
		one.One()
		x.Negate(&x)
		x.Subtract(&x, &one) // 2^i - 1
		check(&x)
	}
	for range 2000 { // sparse values: few bits set
		var b [32]byte
		for range 1 + r.IntN(4) {
			i := r.IntN(255)
			b[i/8] |= 1 << (i % 8)
		}
		var x fe
		x.SetBytes(b[:])
		check(&x)
		x.Negate(&x)
		check(&x)
	}
	for range n {
		var x fe
		x.SetBytes(randFieldBytes(r))
		check(&x)
	}
}

func BenchmarkPartInvertVar(b *testing.B) {
	x := curveD
	for b.Loop() {
		invertVar(&x, &x)
	}
}
