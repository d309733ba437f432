// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"errors"
)

// fe32 is an element of GF(2^255-19) in ten limbs of alternately 26 and 25
// bits (radix 2^25.5), so that every partial product fits a 64-bit word.
// It is the field for GOOS=js GOARCH=wasm, which has a native 64-bit
// multiply but no 64x64->128 one. It compiles everywhere so that native
// tests can check it against filippo.io/edwards25519/field.
//
// Limb i holds bits [off(i), off(i)+width(i)) with off = ceil(25.5*i).
// After every operation, even limbs are < 2^26 and odd limbs < 2^25, except
// limbs 1 and 5, which may exceed 2^25 by a little (< 2^25 + 2^17).
//
// Variable time is not a concern here (it only ever sees public data), but
// the code is branch-free anyway.
type fe32 struct {
	l [10]uint32
}

const (
	m25 = 1<<25 - 1
	m26 = 1<<26 - 1
)

var feOffsets = [10]uint{0, 26, 51, 77, 102, 128, 153, 179, 204, 230}

func feWidth(i int) uint { return 26 - uint(i&1) }

// carry propagates the limbs h (each < 2^63) into v, in two interleaved
// chains (0->1->2->3->4->5 and 4->5->6->7->8->9->0->1) for parallelism.
func (v *fe32) carry(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 uint64) *fe32 {
	h1 += h0 >> 26
	h0 &= m26
	h5 += h4 >> 26
	h4 &= m26
	h2 += h1 >> 25
	h1 &= m25
	h6 += h5 >> 25
	h5 &= m25
	h3 += h2 >> 26
	h2 &= m26
	h7 += h6 >> 26
	h6 &= m26
	h4 += h3 >> 25
	h3 &= m25
	h8 += h7 >> 25
	h7 &= m25
	h5 += h4 >> 26 // < 2^12: limb 5 ends below 2^25 + 2^12
	h4 &= m26
	h9 += h8 >> 26
	h8 &= m26
	h0 += 19 * (h9 >> 25)
	h9 &= m25
	h1 += h0 >> 26 // < 2^16: limb 1 ends below 2^25 + 2^16
	h0 &= m26
	v.l = [10]uint32{uint32(h0), uint32(h1), uint32(h2), uint32(h3), uint32(h4),
		uint32(h5), uint32(h6), uint32(h7), uint32(h8), uint32(h9)}
	return v
}

// Zero sets v = 0.
func (v *fe32) Zero() *fe32 { *v = fe32{}; return v }

// One sets v = 1.
func (v *fe32) One() *fe32 { *v = fe32{l: [10]uint32{1}}; return v }

// Set sets v = a.
func (v *fe32) Set(a *fe32) *fe32 { *v = *a; return v }

// Add sets v = a + b.
func (v *fe32) Add(a, b *fe32) *fe32 {
	return v.carry(
		uint64(a.l[0])+uint64(b.l[0]), uint64(a.l[1])+uint64(b.l[1]),
		uint64(a.l[2])+uint64(b.l[2]), uint64(a.l[3])+uint64(b.l[3]),
		uint64(a.l[4])+uint64(b.l[4]), uint64(a.l[5])+uint64(b.l[5]),
		uint64(a.l[6])+uint64(b.l[6]), uint64(a.l[7])+uint64(b.l[7]),
		uint64(a.l[8])+uint64(b.l[8]), uint64(a.l[9])+uint64(b.l[9]))
}

// 2p in limbs: every limb of 2p is larger than any carried limb.
const (
	twoP0    = 2 * (1<<26 - 19)
	twoPEven = 2 * (1<<26 - 1)
	twoPOdd  = 2 * (1<<25 - 1)
)

// Subtract sets v = a - b.
func (v *fe32) Subtract(a, b *fe32) *fe32 {
	return v.carry(
		uint64(a.l[0])+twoP0-uint64(b.l[0]), uint64(a.l[1])+twoPOdd-uint64(b.l[1]),
		uint64(a.l[2])+twoPEven-uint64(b.l[2]), uint64(a.l[3])+twoPOdd-uint64(b.l[3]),
		uint64(a.l[4])+twoPEven-uint64(b.l[4]), uint64(a.l[5])+twoPOdd-uint64(b.l[5]),
		uint64(a.l[6])+twoPEven-uint64(b.l[6]), uint64(a.l[7])+twoPOdd-uint64(b.l[7]),
		uint64(a.l[8])+twoPEven-uint64(b.l[8]), uint64(a.l[9])+twoPOdd-uint64(b.l[9]))
}

// Negate sets v = -a.
func (v *fe32) Negate(a *fe32) *fe32 {
	var zero fe32
	return v.Subtract(&zero, a)
}

// Multiply sets v = x * y.
func (v *fe32) Multiply(x, y *fe32) *fe32 {
	f0, f1, f2, f3, f4 := uint64(x.l[0]), uint64(x.l[1]), uint64(x.l[2]), uint64(x.l[3]), uint64(x.l[4])
	f5, f6, f7, f8, f9 := uint64(x.l[5]), uint64(x.l[6]), uint64(x.l[7]), uint64(x.l[8]), uint64(x.l[9])
	g0, g1, g2, g3, g4 := uint64(y.l[0]), uint64(y.l[1]), uint64(y.l[2]), uint64(y.l[3]), uint64(y.l[4])
	g5, g6, g7, g8, g9 := uint64(y.l[5]), uint64(y.l[6]), uint64(y.l[7]), uint64(y.l[8]), uint64(y.l[9])
	f1_2 := 2 * f1
	f3_2 := 2 * f3
	f5_2 := 2 * f5
	f7_2 := 2 * f7
	f9_2 := 2 * f9
	g1_19 := 19 * g1
	g2_19 := 19 * g2
	g3_19 := 19 * g3
	g4_19 := 19 * g4
	g5_19 := 19 * g5
	g6_19 := 19 * g6
	g7_19 := 19 * g7
	g8_19 := 19 * g8
	g9_19 := 19 * g9
	h0 := f0*g0 + f1_2*g9_19 + f2*g8_19 + f3_2*g7_19 + f4*g6_19 + f5_2*g5_19 + f6*g4_19 + f7_2*g3_19 + f8*g2_19 + f9_2*g1_19
	h1 := f0*g1 + f1*g0 + f2*g9_19 + f3*g8_19 + f4*g7_19 + f5*g6_19 + f6*g5_19 + f7*g4_19 + f8*g3_19 + f9*g2_19
	h2 := f0*g2 + f1_2*g1 + f2*g0 + f3_2*g9_19 + f4*g8_19 + f5_2*g7_19 + f6*g6_19 + f7_2*g5_19 + f8*g4_19 + f9_2*g3_19
	h3 := f0*g3 + f1*g2 + f2*g1 + f3*g0 + f4*g9_19 + f5*g8_19 + f6*g7_19 + f7*g6_19 + f8*g5_19 + f9*g4_19
	h4 := f0*g4 + f1_2*g3 + f2*g2 + f3_2*g1 + f4*g0 + f5_2*g9_19 + f6*g8_19 + f7_2*g7_19 + f8*g6_19 + f9_2*g5_19
	h5 := f0*g5 + f1*g4 + f2*g3 + f3*g2 + f4*g1 + f5*g0 + f6*g9_19 + f7*g8_19 + f8*g7_19 + f9*g6_19
	h6 := f0*g6 + f1_2*g5 + f2*g4 + f3_2*g3 + f4*g2 + f5_2*g1 + f6*g0 + f7_2*g9_19 + f8*g8_19 + f9_2*g7_19
	h7 := f0*g7 + f1*g6 + f2*g5 + f3*g4 + f4*g3 + f5*g2 + f6*g1 + f7*g0 + f8*g9_19 + f9*g8_19
	h8 := f0*g8 + f1_2*g7 + f2*g6 + f3_2*g5 + f4*g4 + f5_2*g3 + f6*g2 + f7_2*g1 + f8*g0 + f9_2*g9_19
	h9 := f0*g9 + f1*g8 + f2*g7 + f3*g6 + f4*g5 + f5*g4 + f6*g3 + f7*g2 + f8*g1 + f9*g0
	return v.carry(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9)
}

// Square sets v = x * x.
func (v *fe32) Square(x *fe32) *fe32 {
	f0, f1, f2, f3, f4 := uint64(x.l[0]), uint64(x.l[1]), uint64(x.l[2]), uint64(x.l[3]), uint64(x.l[4])
	f5, f6, f7, f8, f9 := uint64(x.l[5]), uint64(x.l[6]), uint64(x.l[7]), uint64(x.l[8]), uint64(x.l[9])
	f0_2 := 2 * f0
	f1_2 := 2 * f1
	f1_4 := 4 * f1
	f2_2 := 2 * f2
	f3_2 := 2 * f3
	f3_4 := 4 * f3
	f4_2 := 2 * f4
	f5_2 := 2 * f5
	f5_4 := 4 * f5
	f5_19 := 19 * f5
	f6_2 := 2 * f6
	f6_19 := 19 * f6
	f7_2 := 2 * f7
	f7_4 := 4 * f7
	f7_19 := 19 * f7
	f8_2 := 2 * f8
	f8_19 := 19 * f8
	f9_2 := 2 * f9
	f9_19 := 19 * f9
	h0 := f0*f0 + f1_4*f9_19 + f2_2*f8_19 + f3_4*f7_19 + f4_2*f6_19 + f5_2*f5_19
	h1 := f0_2*f1 + f2_2*f9_19 + f3_2*f8_19 + f4_2*f7_19 + f5_2*f6_19
	h2 := f0_2*f2 + f1_2*f1 + f3_4*f9_19 + f4_2*f8_19 + f5_4*f7_19 + f6*f6_19
	h3 := f0_2*f3 + f1_2*f2 + f4_2*f9_19 + f5_2*f8_19 + f6_2*f7_19
	h4 := f0_2*f4 + f1_4*f3 + f2*f2 + f5_4*f9_19 + f6_2*f8_19 + f7_2*f7_19
	h5 := f0_2*f5 + f1_2*f4 + f2_2*f3 + f6_2*f9_19 + f7_2*f8_19
	h6 := f0_2*f6 + f1_4*f5 + f2_2*f4 + f3_2*f3 + f7_4*f9_19 + f8*f8_19
	h7 := f0_2*f7 + f1_2*f6 + f2_2*f5 + f3_2*f4 + f8_2*f9_19
	h8 := f0_2*f8 + f1_4*f7 + f2_2*f6 + f3_4*f5 + f4*f4 + f9_2*f9_19
	h9 := f0_2*f9 + f1_2*f8 + f2_2*f7 + f3_2*f6 + f4_2*f5
	return v.carry(h0, h1, h2, h3, h4, h5, h6, h7, h8, h9)
}

// SetBytes sets v to the 32-byte little-endian x, ignoring its top bit and
// accepting non-canonical values, like field.Element.SetBytes.
func (v *fe32) SetBytes(x []byte) (*fe32, error) {
	if len(x) != 32 {
		return nil, errors.New("ed25519fast: invalid field element length")
	}
	var w [5]uint64
	for i := range 4 {
		w[i] = le64(x[8*i:])
	}
	w[3] &^= 1 << 63
	for i, off := range feOffsets {
		idx, sh := off/64, off%64
		t := w[idx] >> sh
		if sh != 0 {
			t |= w[idx+1] << (64 - sh)
		}
		v.l[i] = uint32(t & (1<<feWidth(i) - 1))
	}
	return v, nil
}

// reduce returns the canonical limbs of v (value < p, each limb in width).
func (v *fe32) reduce() [10]uint32 {
	var t fe32
	t.carry(uint64(v.l[0]), uint64(v.l[1]), uint64(v.l[2]), uint64(v.l[3]), uint64(v.l[4]),
		uint64(v.l[5]), uint64(v.l[6]), uint64(v.l[7]), uint64(v.l[8]), uint64(v.l[9]))
	// Now t < 2^255 + 2^52, so t - p < p. q = 1 iff t >= p, i.e. t + 19 >= 2^255.
	q := (uint64(t.l[0]) + 19) >> 26
	for i := 1; i < 10; i++ {
		q = (uint64(t.l[i]) + q) >> feWidth(i)
	}
	var h [10]uint64
	for i := range h {
		h[i] = uint64(t.l[i])
	}
	h[0] += 19 * q
	var out [10]uint32
	for i := range 9 {
		h[i+1] += h[i] >> feWidth(i)
		out[i] = uint32(h[i] & (1<<feWidth(i) - 1))
	}
	out[9] = uint32(h[9] & m25) // drops 2^255: subtracts q*p in total
	return out
}

// Bytes returns the canonical 32-byte little-endian encoding of v.
func (v *fe32) Bytes() []byte {
	var out [32]byte
	return v.bytes(&out)
}

func (v *fe32) bytes(out *[32]byte) []byte {
	l := v.reduce()
	var w [5]uint64
	for i, off := range feOffsets {
		idx, sh := off/64, off%64
		w[idx] |= uint64(l[i]) << sh
		if sh+feWidth(i) > 64 {
			w[idx+1] |= uint64(l[i]) >> (64 - sh)
		}
	}
	for i := range 4 {
		put64(out[8*i:], w[i])
	}
	return out[:]
}

// Equal returns 1 if v and u are equal, and 0 otherwise.
func (v *fe32) Equal(u *fe32) int {
	if v.reduce() == u.reduce() {
		return 1
	}
	return 0
}

// IsNegative returns 1 if v is odd (in canonical form), and 0 otherwise.
func (v *fe32) IsNegative() int {
	return int(v.reduce()[0] & 1)
}

func (v *fe32) square(x *fe32, n int) *fe32 {
	v.Square(x)
	for i := 1; i < n; i++ {
		v.Square(v)
	}
	return v
}

// pow2250 returns z^(2^250-1) and z^11.
func (v *fe32) pow2250(z *fe32) (z2250, z11 fe32) {
	var z2, z9, z2_5, z2_10, z2_20, z2_40, z2_50, z2_100, t fe32
	z2.Square(z)                // 2
	t.square(&z2, 2)            // 8
	z9.Multiply(&t, z)          // 9
	z11.Multiply(&z9, &z2)      // 11
	t.Square(&z11)              // 22
	z2_5.Multiply(&t, &z9)      // 2^5 - 1
	t.square(&z2_5, 5)          //
	z2_10.Multiply(&t, &z2_5)   // 2^10 - 1
	t.square(&z2_10, 10)        //
	z2_20.Multiply(&t, &z2_10)  // 2^20 - 1
	t.square(&z2_20, 20)        //
	z2_40.Multiply(&t, &z2_20)  // 2^40 - 1
	t.square(&z2_40, 10)        //
	z2_50.Multiply(&t, &z2_10)  // 2^50 - 1
	t.square(&z2_50, 50)        //
	z2_100.Multiply(&t, &z2_50) // 2^100 - 1
	t.square(&z2_100, 100)      //
	t.Multiply(&t, &z2_100)     // 2^200 - 1
	t.square(&t, 50)            //
	z2250.Multiply(&t, &z2_50)  // 2^250 - 1
	return z2250, z11
}

// Invert sets v = 1/z mod p (0 if z is 0).
func (v *fe32) Invert(z *fe32) *fe32 {
	t, z11 := v.pow2250(z)
	t.square(&t, 5)             // 2^255 - 2^5
	return v.Multiply(&t, &z11) // 2^255 - 21 = p - 2
}

// Pow22523 sets v = x^((p-5)/8) = x^(2^252-3).
func (v *fe32) Pow22523(x *fe32) *fe32 {
	t, _ := v.pow2250(x)
	t.square(&t, 2)          // 2^252 - 4
	return v.Multiply(&t, x) // 2^252 - 3
}

// addLazy sets v = a + b without carrying. a and b must be carried (outputs
// of any operation but addLazy and subLazy), and v may only be used as an
// input to Multiply or Square: with limbs below 3*2^26 (even) and 3*2^25
// (odd), every column of a product stays below 2^62.2.
func (v *fe32) addLazy(a, b *fe32) *fe32 {
	for i := range v.l {
		v.l[i] = a.l[i] + b.l[i]
	}
	return v
}

// subLazy sets v = a - b (as a + 2p - b) without carrying, with the same
// restrictions as addLazy.
func (v *fe32) subLazy(a, b *fe32) *fe32 {
	v.l[0] = a.l[0] + twoP0 - b.l[0]
	v.l[1] = a.l[1] + twoPOdd - b.l[1]
	v.l[2] = a.l[2] + twoPEven - b.l[2]
	v.l[3] = a.l[3] + twoPOdd - b.l[3]
	v.l[4] = a.l[4] + twoPEven - b.l[4]
	v.l[5] = a.l[5] + twoPOdd - b.l[5]
	v.l[6] = a.l[6] + twoPEven - b.l[6]
	v.l[7] = a.l[7] + twoPOdd - b.l[7]
	v.l[8] = a.l[8] + twoPEven - b.l[8]
	v.l[9] = a.l[9] + twoPOdd - b.l[9]
	return v
}
