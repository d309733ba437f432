// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import "math/bits"

// Scalars modulo the group order L = 2^252 + c, with only 64-bit
// multiplications (no 64x64->128, which wasm lacks and which
// filippo.io/edwards25519's Scalar needs; it also leaves that package and
// its start-up out of the wasm binary).

// L and c = L - 2^252 in little-endian 64-bit words.
var (
	orderWords = [4]uint64{0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000}
	cWords     = [2]uint64{0x5812631a5cf5d3ed, 0x14def9dea2f79cd6}
)

// foldC is 2^252 mod L = -c in signed radix-2^21 digits:
// sum foldC[j] 2^(21j) = -c.
var foldC = [6]int64{666643, 470296, 654183, -997805, 136657, -683901}

// scIsCanonical reports whether the 32-byte little-endian s is below L.
func scIsCanonical(s []byte) bool {
	_ = s[31]
	for i := 3; i >= 0; i-- {
		w := le64(s[8*i:])
		if w != orderWords[i] {
			return w < orderWords[i]
		}
	}
	return false // s = L
}

// scReduce sets out to the 64-byte little-endian x modulo L, little endian.
func scReduce(out *[32]byte, x *[64]byte) {
	// 25 limbs of 21 bits (the last one 8 bits).
	var t [25]int64
	for k := range 25 {
		bit := 21 * k
		i := bit / 8
		var w uint64
		for j := 0; j < 4 && i+j < 64; j++ {
			w |= uint64(x[i+j]) << (8 * j)
		}
		t[k] = int64(w>>(bit%8)) & (1<<21 - 1)
	}
	// Each fold replaces t[i] 2^(21i) by t[i] 2^(21(i-12)) (-c).
	fold := func(i int) {
		for j, f := range foldC {
			t[i-12+j] += t[i] * f
		}
		t[i] = 0
	}
	// carry brings t[lo..hi] to [0, 2^21), carrying into t[hi+1].
	carry := func(lo, hi int) {
		for k := lo; k <= hi; k++ {
			c := t[k] >> 21
			t[k+1] += c
			t[k] -= c << 21
		}
	}
	// Limbs 18..24 still hold their 21 bits; their folds add less than
	// 6 * 2^41 to each of t[6..17].
	for i := 24; i >= 18; i-- {
		fold(i)
	}
	carry(6, 17) // |t[18]| < 2^24
	for i := 18; i >= 12; i-- {
		fold(i) // t[0..11] stay below 2^46 in magnitude
	}
	carry(0, 11) // |t[12]| < 2^26
	fold(12)
	carry(0, 11)
	// Now the value is v + t[12] 2^252 with v = t[0..11] in [0, 2^252) and,
	// as the last fold changed it by less than 2^151, t[12] in {-1, 0, 1}.
	var v [4]uint64
	for k := range 12 {
		bit := 21 * k
		v[bit/64] |= uint64(t[k]) << (bit % 64)
		if bit%64 > 64-21 {
			v[bit/64+1] |= uint64(t[k]) >> (64 - bit%64)
		}
	}
	switch t[12] {
	case -1: // v - 2^252 + L = v + c, in (0, L)
		var cy uint64
		v[0], cy = bits.Add64(v[0], cWords[0], 0)
		v[1], cy = bits.Add64(v[1], cWords[1], cy)
		v[2], cy = bits.Add64(v[2], 0, cy)
		v[3] += cy
	case 1: // 2^252 + v, or v - c if that is at least L
		var d [4]uint64
		var b uint64
		d[0], b = bits.Sub64(v[0], cWords[0], 0)
		d[1], b = bits.Sub64(v[1], cWords[1], b)
		d[2], b = bits.Sub64(v[2], 0, b)
		d[3], b = bits.Sub64(v[3], 0, b)
		if b == 0 {
			v = d
		} else {
			v[3] |= 1 << 60
		}
	}
	for i, w := range v {
		put64(out[8*i:], w)
	}
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func put64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}
