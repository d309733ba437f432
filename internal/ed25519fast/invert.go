// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"math/bits"
)

// Variable-time modular inversion by the Bernstein-Yang "safegcd" algorithm
// with 30-bit batches of divsteps, following the variable-time variant
// described in libsecp256k1's doc/safegcd_implementation.md. Only 32x32->64
// multiplications are used, so it is fast under wasm as well as natively:
// several times cheaper than Fermat's z^(p-2). Only for public values.

const m30 = 1<<30 - 1

var (
	// p = 2^255 - 19 in nine 30-bit limbs.
	pLimbs30 = [9]int32{1<<30 - 19, m30, m30, m30, m30, m30, m30, m30, 1<<15 - 1}
	pInv30   uint32     // p^-1 mod 2^30
	inv256   [128]uint8 // inv256[i] = -(2i+1)^-1 mod 256
	fe2to240 fe         // 2^240
)

func init() {
	// Newton's iteration x = x(2 - ax) doubles the number of correct low bits;
	// x = a is correct to 3 bits for odd a.
	a := uint32(pLimbs30[0])
	x := a
	for range 4 {
		x *= 2 - a*x
	}
	pInv30 = x & m30
	for i := range inv256 {
		f := uint32(2*i + 1)
		y := f
		for range 3 {
			y *= 2 - f*y
		}
		inv256[i] = uint8(-y)
	}
	var b [32]byte
	b[30] = 1 // 2^240
	fe2to240.SetBytes(b[:])
}

// trans is the transition matrix of 30 divsteps, scaled by 2^30.
type trans struct{ u, v, q, r int32 }

// divsteps30 performs 30 divsteps on the low bits f0, g0 of f, g and returns
// the new eta (= -delta) and the matrix in t.
func divsteps30(eta int32, f0, g0 uint32, t *trans) int32 {
	u, v, q, r := uint32(1), uint32(0), uint32(0), uint32(1)
	f, g := f0, g0
	i := 30
	for {
		// Count zeros up to i (sentinel bit), and do that many divsteps at
		// once: they only halve g.
		zeros := bits.TrailingZeros32(g | ^uint32(0)<<i)
		g >>= zeros
		u <<= zeros
		v <<= zeros
		eta -= int32(zeros)
		i -= zeros
		if i == 0 {
			break
		}
		// g is odd now. If eta < 0, swap: (f, g) = (g, -f).
		if eta < 0 {
			eta = -eta
			f, g = g, -f
			u, q = q, -u
			v, r = r, -v
		}
		// Cancel the low min(eta+1, i, 8) bits of g by adding a multiple of f.
		limit := int(eta) + 1
		if limit > i {
			limit = i
		}
		m := (^uint32(0) >> (32 - limit)) & 255
		w := (g * uint32(inv256[(f>>1)&127])) & m
		g += f * w
		q += u * w
		r += v * w
	}
	t.u, t.v, t.q, t.r = int32(u), int32(v), int32(q), int32(r)
	return eta
}

// updateDE sets (d, e) = t (d, e) / 2^30 mod p, keeping them in (-2p, p).
func updateDE(d, e *[9]int32, t *trans) {
	u, v, q, r := int64(t.u), int64(t.v), int64(t.q), int64(t.r)
	sd, se := d[8]>>31, e[8]>>31
	md := (t.u & sd) + (t.v & se)
	me := (t.q & sd) + (t.r & se)
	cd := u*int64(d[0]) + v*int64(e[0])
	ce := q*int64(d[0]) + r*int64(e[0])
	// Choose md, me so that the low 30 bits of cd + p*md, ce + p*me are zero.
	md -= int32((pInv30*uint32(cd) + uint32(md)) & m30)
	me -= int32((pInv30*uint32(ce) + uint32(me)) & m30)
	cd += int64(pLimbs30[0]) * int64(md)
	ce += int64(pLimbs30[0]) * int64(me)
	cd >>= 30
	ce >>= 30
	for i := 1; i < 9; i++ {
		cd += u*int64(d[i]) + v*int64(e[i]) + int64(pLimbs30[i])*int64(md)
		ce += q*int64(d[i]) + r*int64(e[i]) + int64(pLimbs30[i])*int64(me)
		d[i-1] = int32(cd) & m30
		e[i-1] = int32(ce) & m30
		cd >>= 30
		ce >>= 30
	}
	d[8] = int32(cd)
	e[8] = int32(ce)
}

// updateFG sets (f, g) = t (f, g) / 2^30 (exactly) on their n low limbs.
func updateFG(n int, f, g *[9]int32, t *trans) {
	u, v, q, r := int64(t.u), int64(t.v), int64(t.q), int64(t.r)
	fi, gi := int64(f[0]), int64(g[0])
	cf := (u*fi + v*gi) >> 30
	cg := (q*fi + r*gi) >> 30
	for i := 1; i < n; i++ {
		fi, gi = int64(f[i]), int64(g[i])
		cf += u*fi + v*gi
		cg += q*fi + r*gi
		f[i-1] = int32(cf) & m30
		g[i-1] = int32(cg) & m30
		cf >>= 30
		cg >>= 30
	}
	f[n-1] = int32(cf)
	g[n-1] = int32(cg)
}

// invertVar sets v = 1/z mod p (0 if z is 0), in variable time.
func invertVar(v, z *fe) *fe {
	var zb [32]byte
	copy(zb[:], z.Bytes())
	var w [5]uint64
	for i := range 4 {
		w[i] = le64(zb[8*i:])
	}
	var g [9]int32
	nonZero := false
	for i := range g {
		off := uint(30 * i)
		idx, sh := off/64, off%64
		t := w[idx] >> sh
		if sh > 34 {
			t |= w[idx+1] << (64 - sh)
		}
		g[i] = int32(t & m30)
		nonZero = nonZero || g[i] != 0
	}
	if !nonZero {
		return v.Zero()
	}
	f := pLimbs30
	var d, e [9]int32
	e[0] = 1
	eta := int32(-1)
	n := 9
	for iter := 0; ; iter++ {
		if iter == 40 { // 1200 divsteps: cannot happen (at most ~740 are needed)
			return v.Invert(z)
		}
		var t trans
		eta = divsteps30(eta, uint32(f[0]), uint32(g[0]), &t)
		updateDE(&d, &e, &t)
		updateFG(n, &f, &g, &t)
		if g[0] == 0 {
			var c int32
			for j := 1; j < n; j++ {
				c |= g[j]
			}
			if c == 0 {
				break
			}
		}
		// Shorten f and g when both top limbs are 0 or -1.
		fn, gn := f[n-1], g[n-1]
		c := (int32(n) - 2) >> 31
		c |= fn ^ (fn >> 31)
		c |= gn ^ (gn >> 31)
		if c == 0 {
			f[n-2] |= int32(uint32(fn) << 30)
			g[n-2] |= int32(uint32(gn) << 30)
			n--
		}
	}
	// Now f = ±1 and d*z = f (mod p): 1/z = d*f. d is in (-2p, p).
	var lo [32]byte
	var acc uint64
	var accBits uint
	j := 0
	for i := range 8 {
		acc |= uint64(uint32(d[i])) << accBits
		accBits += 30
		for accBits >= 8 {
			lo[j] = byte(acc)
			j++
			acc >>= 8
			accBits -= 8
		}
	}
	// 240 bits written exactly (30 bytes).
	v.SetBytes(lo[:])
	if hi := d[8]; hi != 0 {
		var h fe
		a := hi
		if a < 0 {
			a = -a
		}
		h = feSmall(uint32(a))
		h.Multiply(&h, &fe2to240)
		if hi < 0 {
			v.Subtract(v, &h)
		} else {
			v.Add(v, &h)
		}
	}
	if f[n-1] < 0 {
		v.Negate(v)
	}
	return v
}
