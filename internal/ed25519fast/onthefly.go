// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"sync"
)

// The first uses of a key: [S]B - [k]A by interleaved width-w NAF
// double-and-add (Straus), without the per-key and base tables, which cost
// about as much as 20-60 such verifications. A verifier that checks one
// token with a key (a browser page, a cold worker) never pays for them.

// Widths of the on-the-fly NAFs: odd multiples up to 2^(w-1)-1 are used,
// 32 of B (made once per process) and 8 of A (made at every call).
const (
	nafWidthB = 7
	nafWidthA = 5
)

var (
	nafBOnce sync.Once
	nafB     [1 << (nafWidthB - 2)]niels // (2j+1)B
)

func initNafB() {
	var b point
	b.decode(basePointEnc[:]) // checked by the package's tests
	oddMultiples(nafB[:], &b)
}

// oddMultiples writes P, 3P, 5P, ... to out.
func oddMultiples(out []niels, p *point) {
	var pts [1 << (nafWidthB - 2)]point
	var p2 point
	p2.double(p)
	pts[0] = *p
	for i := 1; i < len(out); i++ {
		pts[i].add(&pts[i-1], &p2)
	}
	normalize(pts[:len(out)], out)
}

// doubleScalarVar sets v = [s]B - [k]A for scalars s, k below 2^255
// (little-endian), in variable time.
func (v *point) doubleScalarVar(a *point, k, s *[32]byte) {
	nafBOnce.Do(initNafB)
	var ta [1 << (nafWidthA - 2)]niels
	oddMultiples(ta[:], a)
	var ns, nk [256]int8
	nonAdjacentForm(&ns, s, nafWidthB)
	nonAdjacentForm(&nk, k, nafWidthA)
	i := 255
	for i >= 0 && ns[i] == 0 && nk[i] == 0 {
		i--
	}
	v.identity()
	for ; i >= 0; i-- {
		ds, dk := ns[i], nk[i]
		v.doubleT(v, ds != 0 || dk != 0)
		switch {
		case ds > 0:
			v.addNiels(v, &nafB[ds/2])
		case ds < 0:
			v.subNiels(v, &nafB[-ds/2])
		}
		switch {
		case dk > 0:
			v.subNiels(v, &ta[dk/2])
		case dk < 0:
			v.addNiels(v, &ta[-dk/2])
		}
	}
}

// doubleT sets v = 2p like double, computing T only if withT (double reads
// only X, Y and Z; the additions need T).
func (v *point) doubleT(p *point, withT bool) *point {
	var a, b, c, e, f, g, h fe
	a.Square(&p.X)
	b.Square(&p.Y)
	c.Square(&p.Z)
	c.Add(&c, &c)
	feAddLazy(&e, &p.X, &p.Y)
	e.Square(&e)
	e.Subtract(&e, &a)
	e.Subtract(&e, &b) // 2xy
	g.Subtract(&b, &a)
	f.Subtract(&g, &c)
	h.Add(&a, &b)
	h.Negate(&h)
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.Z.Multiply(&f, &g)
	if withT {
		v.T.Multiply(&e, &h)
	}
	return v
}

// nonAdjacentForm writes the width-w non-adjacent form of the little-endian
// s (below 2^255) to naf: s = sum naf[i] 2^i, each digit zero or odd with
// |digit| < 2^(w-1), and at most one nonzero digit in any w consecutive
// ones. Adapted from filippo.io/edwards25519's Scalar.nonAdjacentForm
// (BSD-3-Clause), itself from curve25519-dalek.
func nonAdjacentForm(naf *[256]int8, s *[32]byte, w uint) {
	var digits [5]uint64
	for i := range 4 {
		digits[i] = le64(s[i*8:])
	}
	width := uint64(1) << w
	windowMask := width - 1
	pos := uint(0)
	carry := uint64(0)
	for pos < 256 {
		indexU64 := pos / 64
		indexBit := pos % 64
		var bitBuf uint64
		if indexBit < 64-w {
			bitBuf = digits[indexU64] >> indexBit
		} else {
			bitBuf = (digits[indexU64] >> indexBit) | (digits[1+indexU64] << (64 - indexBit))
		}
		window := carry + (bitBuf & windowMask)
		if window&1 == 0 {
			// An even window keeps the carry: 0 stays 0, and with a
			// carry of 1 the window's low bit was 1, so it carries on.
			pos++
			continue
		}
		if window < width/2 {
			carry = 0
			naf[pos] = int8(window)
		} else {
			carry = 1
			naf[pos] = int8(window) - int8(width)
		}
		pos += w
	}
}
