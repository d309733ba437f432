// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"bytes"
	"crypto/sha512"
	"math/big"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
)

func leBig(b []byte) *big.Int {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(r)
}

func bigLE(n *big.Int, size int) []byte {
	b := n.FillBytes(make([]byte, size))
	for i, j := 0, size-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

func TestScalarConstants(t *testing.T) {
	var ow [32]byte
	for i, w := range orderWords {
		put64(ow[8*i:], w)
	}
	if leBig(ow[:]).Cmp(groupOrder) != 0 {
		t.Fatal("orderWords is not L")
	}
	c := new(big.Int).Sub(groupOrder, new(big.Int).Lsh(big.NewInt(1), 252))
	var cw [32]byte
	put64(cw[:], cWords[0])
	put64(cw[8:], cWords[1])
	if leBig(cw[:]).Cmp(c) != 0 {
		t.Fatal("cWords is not L - 2^252")
	}
	sum := new(big.Int)
	for j := len(foldC) - 1; j >= 0; j-- {
		sum.Lsh(sum, 21)
		sum.Add(sum, big.NewInt(foldC[j]))
	}
	if sum.Cmp(new(big.Int).Neg(c)) != 0 {
		t.Fatal("foldC is not -c")
	}
}

// scalarInputs returns 64-byte inputs: random ones, and ones made of
// multiples of L plus small offsets, all ones, zeros, powers of two.
func scalarInputs(r *rand.Rand, n int) [][64]byte {
	var in [][64]byte
	max := new(big.Int).Lsh(big.NewInt(1), 512)
	for _, off := range []int64{-2, -1, 0, 1, 2} {
		for _, m := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(16),
			new(big.Int).Lsh(big.NewInt(1), 252), new(big.Int).Div(max, groupOrder)} {
			x := new(big.Int).Mul(m, groupOrder)
			x.Add(x, big.NewInt(off))
			if x.Sign() < 0 || x.Cmp(max) >= 0 {
				continue
			}
			in = append(in, [64]byte(bigLE(x, 64)))
		}
	}
	for i := range 512 {
		x := new(big.Int).Lsh(big.NewInt(1), uint(i))
		in = append(in, [64]byte(bigLE(x, 64)))
		x.Sub(x, big.NewInt(1))
		in = append(in, [64]byte(bigLE(x, 64)))
		// 2^252 + j for small j: around L from below and above
		x = new(big.Int).Lsh(big.NewInt(1), 252)
		x.Add(x, new(big.Int).Lsh(big.NewInt(1), uint(i%130)))
		in = append(in, [64]byte(bigLE(x, 64)))
	}
	for range n {
		var b [64]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		// Sparse values: long runs of zeros or ones.
		switch r.IntN(4) {
		case 0:
			for i := range b {
				if r.IntN(3) == 0 {
					b[i] = 0
				}
			}
		case 1:
			for i := range b {
				if r.IntN(3) == 0 {
					b[i] = 0xff
				}
			}
		}
		in = append(in, b)
	}
	return in
}

func TestScReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, x := range scalarInputs(r, 100000) {
		var got [32]byte
		scReduce(&got, &x)
		want := bigLE(new(big.Int).Mod(leBig(x[:]), groupOrder), 32)
		if !bytes.Equal(got[:], want) {
			t.Fatalf("scReduce(%x) = %x, want %x", x, got, want)
		}
		var s edwards25519.Scalar
		s.SetUniformBytes(x[:])
		if !bytes.Equal(s.Bytes(), want) {
			t.Fatal("edwards25519 differs from math/big")
		}
	}
}

func TestScIsCanonical(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	var cases [][]byte
	for _, off := range []int64{-3, -2, -1, 0, 1, 2} {
		cases = append(cases, bigLE(new(big.Int).Add(groupOrder, big.NewInt(off)), 32))
		for _, m := range []int64{2, 3, 15} {
			x := new(big.Int).Mul(groupOrder, big.NewInt(m))
			cases = append(cases, bigLE(x.Add(x, big.NewInt(off)), 32))
		}
	}
	for i := range 256 {
		x := new(big.Int).Lsh(big.NewInt(1), uint(i))
		cases = append(cases, bigLE(x, 32), bigLE(x.Sub(x, big.NewInt(1)), 32))
	}
	for range 100000 {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		switch r.IntN(3) {
		case 0:
			b[31] &= 0x1f
		case 1: // L with some of its low bytes random
			k := r.IntN(32)
			copy(b[k:], bigLE(groupOrder, 32)[k:])
		}
		cases = append(cases, b)
	}
	for _, b := range cases {
		want := leBig(b).Cmp(groupOrder) < 0
		if got := scIsCanonical(b); got != want {
			t.Fatalf("scIsCanonical(%x) = %v, want %v", b, got, want)
		}
		_, err := new(edwards25519.Scalar).SetCanonicalBytes(b)
		if (err == nil) != want {
			t.Fatal("edwards25519 differs from math/big")
		}
	}
}

func TestSHA512RAM(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for n := range 1200 {
		for range 4 {
			var ra, aa [32]byte
			for i := range ra {
				ra[i], aa[i] = byte(r.Uint32()), byte(r.Uint32())
			}
			m := make([]byte, n)
			for i := range m {
				m[i] = byte(r.Uint32())
			}
			var got [64]byte
			sha512RAM(&got, &ra, &aa, m)
			want := sha512.Sum512(append(append(ra[:], aa[:]...), m...))
			if got != want {
				t.Fatalf("len %d: %x, want %x", n, got, want)
			}
			var h [64]byte
			hashRAM(&h, &ra, &aa, m)
			if h != want {
				t.Fatalf("hashRAM, len %d: %x, want %x", n, h, want)
			}
		}
	}
}

func FuzzScReduce(f *testing.F) {
	f.Add(make([]byte, 64))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Add(bigLE(groupOrder, 64))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 64 {
			in = append(in, make([]byte, 64-len(in))...)
		}
		x := [64]byte(in)
		var got [32]byte
		scReduce(&got, &x)
		want := bigLE(new(big.Int).Mod(leBig(x[:]), groupOrder), 32)
		if !bytes.Equal(got[:], want) {
			t.Fatalf("scReduce(%x) = %x, want %x", x, got, want)
		}
		s := x[:32]
		if got, want := scIsCanonical(s), leBig(s).Cmp(groupOrder) < 0; got != want {
			t.Fatalf("scIsCanonical(%x) = %v, want %v", s, got, want)
		}
	})
}

func FuzzSHA512RAM(f *testing.F) {
	f.Add(make([]byte, 64), []byte{})
	f.Add(make([]byte, 64), make([]byte, 47))
	f.Fuzz(func(t *testing.T, ra, m []byte) {
		if len(ra) < 64 {
			ra = append(ra, make([]byte, 64-len(ra))...)
		}
		var got [64]byte
		sha512RAM(&got, (*[32]byte)(ra[:32]), (*[32]byte)(ra[32:64]), m)
		if want := sha512.Sum512(append(append([]byte(nil), ra[:64]...), m...)); got != want {
			t.Fatalf("sha512RAM(%x, %x) = %x, want %x", ra[:64], m, got, want)
		}
	})
}
