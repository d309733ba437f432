// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import "errors"

// point is a point of edwards25519 in extended coordinates (X:Y:Z:T) with
// x = X/Z, y = Y/Z, x*y = T/Z (Hisil, Wong, Carter, Dawson 2008).
type point struct {
	X, Y, Z, T fe
}

// niels is an affine point in the form used by mixed additions:
// (y+x, y-x, 2*d*x*y).
type niels struct {
	ypx, ymx, xy2d fe
}

var (
	feOne, feZero fe
	curveD        fe // d = -121665/121666
	curveD2       fe // 2*d
	sqrtM1        fe // sqrt(-1) = 2^((p-1)/4)
)

func feSmall(x uint32) fe {
	var b [32]byte
	b[0], b[1], b[2], b[3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	var v fe
	v.SetBytes(b[:])
	return v
}

// The encodings of d and sqrt(-1) (checked by TestCurveConstants): set
// from bytes, which costs less at start-up (not yet optimised wasm) than
// an inversion and an exponentiation.
var (
	curveDBytes = [32]byte{0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
		0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52}
	sqrtM1Bytes = [32]byte{0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
		0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b}
)

func init() {
	feOne.One()
	curveD.SetBytes(curveDBytes[:])
	curveD2.Add(&curveD, &curveD)
	sqrtM1.SetBytes(sqrtM1Bytes[:])
}

func (v *point) identity() *point {
	v.X.Zero()
	v.Y.One()
	v.Z.One()
	v.T.Zero()
	return v
}

// addNiels sets v = p + q.
func (v *point) addNiels(p *point, q *niels) *point {
	var ypx, ymx, pp, mm, tt2d, zz2 fe
	feAddLazy(&ypx, &p.Y, &p.X)
	feSubLazy(&ymx, &p.Y, &p.X)
	pp.Multiply(&ypx, &q.ypx)
	mm.Multiply(&ymx, &q.ymx)
	tt2d.Multiply(&p.T, &q.xy2d)
	zz2.Add(&p.Z, &p.Z)
	var e, f, g, h fe
	feSubLazy(&e, &pp, &mm)
	feSubLazy(&f, &zz2, &tt2d)
	feAddLazy(&g, &zz2, &tt2d)
	feAddLazy(&h, &pp, &mm)
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.Z.Multiply(&f, &g)
	v.T.Multiply(&e, &h)
	return v
}

// subNiels sets v = p - q.
func (v *point) subNiels(p *point, q *niels) *point {
	var ypx, ymx, pp, mm, tt2d, zz2 fe
	feAddLazy(&ypx, &p.Y, &p.X)
	feSubLazy(&ymx, &p.Y, &p.X)
	pp.Multiply(&ypx, &q.ymx)
	mm.Multiply(&ymx, &q.ypx)
	tt2d.Multiply(&p.T, &q.xy2d)
	zz2.Add(&p.Z, &p.Z)
	var e, f, g, h fe
	feSubLazy(&e, &pp, &mm)
	feAddLazy(&f, &zz2, &tt2d)
	feSubLazy(&g, &zz2, &tt2d)
	feAddLazy(&h, &pp, &mm)
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.Z.Multiply(&f, &g)
	v.T.Multiply(&e, &h)
	return v
}

// add sets v = p + q (add-2008-hwcd-3).
func (v *point) add(p, q *point) *point {
	var a, b, c, d, t fe
	a.Subtract(&p.Y, &p.X)
	t.Subtract(&q.Y, &q.X)
	a.Multiply(&a, &t)
	b.Add(&p.Y, &p.X)
	t.Add(&q.Y, &q.X)
	b.Multiply(&b, &t)
	c.Multiply(&p.T, &q.T)
	c.Multiply(&c, &curveD2)
	d.Multiply(&p.Z, &q.Z)
	d.Add(&d, &d)
	var e, f, g, h fe
	e.Subtract(&b, &a)
	f.Subtract(&d, &c)
	g.Add(&d, &c)
	h.Add(&b, &a)
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.Z.Multiply(&f, &g)
	v.T.Multiply(&e, &h)
	return v
}

// double sets v = 2p (dbl-2008-hwcd with a = -1).
func (v *point) double(p *point) *point {
	var a, b, c, e, f, g, h fe
	a.Square(&p.X)
	b.Square(&p.Y)
	c.Square(&p.Z)
	c.Add(&c, &c)
	e.Add(&p.X, &p.Y)
	e.Square(&e)
	e.Subtract(&e, &a)
	e.Subtract(&e, &b) // 2xy
	g.Subtract(&b, &a) // -a*x^2 + y^2 with a = -1... = y^2 - x^2 is D + B with D = -A
	f.Subtract(&g, &c)
	h.Add(&a, &b)
	h.Negate(&h) // D - B = -A - B
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.Z.Multiply(&f, &g)
	v.T.Multiply(&e, &h)
	return v
}

// isIdentity reports whether v is the neutral element (0, 1).
func (v *point) isIdentity() bool {
	return v.X.Equal(&feZero) == 1 && v.Y.Equal(&v.Z) == 1
}

// encode writes the RFC 8032 encoding of v to out.
func (v *point) encode(out *[32]byte) {
	var zinv, x, y fe
	invertVar(&zinv, &v.Z)
	x.Multiply(&v.X, &zinv)
	y.Multiply(&v.Y, &zinv)
	copy(out[:], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
}

var (
	errLength     = errors.New("ed25519fast: public key is not 32 bytes")
	errNonCanon   = errors.New("ed25519fast: public key is not canonically encoded")
	errNotOnCurve = errors.New("ed25519fast: public key is not a point on the curve")
	errSmallOrder = errors.New("ed25519fast: public key is of small order")
)

// decode decodes a canonical RFC 8032 point encoding (y < p; x = 0 with the
// sign bit set is rejected).
func (v *point) decode(b []byte) error {
	if len(b) != 32 {
		return errLength
	}
	var y fe
	y.SetBytes(b)
	enc := y.Bytes()
	for i := range 31 {
		if enc[i] != b[i] {
			return errNonCanon
		}
	}
	if enc[31] != b[31]&0x7f {
		return errNonCanon
	}
	// x^2 = (y^2 - 1) / (d y^2 + 1) = u / v.
	var u, w, yy, x, t fe
	yy.Square(&y)
	u.Subtract(&yy, &feOne)
	w.Multiply(&yy, &curveD)
	w.Add(&w, &feOne)
	// x = u v^3 (u v^7)^((p-5)/8)
	var v3, v7 fe
	v3.Square(&w)
	v3.Multiply(&v3, &w)
	v7.Square(&v3)
	v7.Multiply(&v7, &w)
	t.Multiply(&u, &v7)
	t.Pow22523(&t)
	x.Multiply(&u, &v3)
	x.Multiply(&x, &t)
	var vxx, negU fe
	vxx.Square(&x)
	vxx.Multiply(&vxx, &w)
	negU.Negate(&u)
	switch {
	case vxx.Equal(&u) == 1:
	case vxx.Equal(&negU) == 1:
		x.Multiply(&x, &sqrtM1)
	default:
		return errNotOnCurve
	}
	sign := int(b[31] >> 7)
	if x.Equal(&feZero) == 1 && sign == 1 {
		return errNonCanon
	}
	if x.IsNegative() != sign {
		x.Negate(&x)
	}
	v.X = x
	v.Y = y
	v.Z.One()
	v.T.Multiply(&x, &y)
	return nil
}

// table holds, for positions i = 0..n-1, the multiples 1..2^(w-1) of
// 2^(w*i) P as affine niels points, so that [s]P for a scalar written in
// signed radix 2^w is a sum of n table entries and no doublings.
type table struct {
	w, n, half int
	e          []niels // e[i*half + j-1] = j * 2^(w*i) * P
}

// newTable precomputes the table of P for scalars below 2^253.
func newTable(p *point, w int) *table {
	if w < 4 || w > 16 {
		panic("ed25519fast: window out of range")
	}
	n := (253 + w - 1) / w
	half := 1 << (w - 1)
	// The row bases 2^(w*i) P, by doublings, then in affine niels form so
	// that each row is built with mixed additions.
	bases := make([]point, n)
	bases[0] = *p
	for i := 1; i < n; i++ {
		bases[i].double(&bases[i-1])
		for range w - 1 {
			bases[i].double(&bases[i])
		}
	}
	baseN := make([]niels, n)
	normalize(bases, baseN)
	pts := make([]point, n*half)
	for i := range n {
		row := pts[i*half : (i+1)*half]
		row[0].identity()
		for j := range half {
			if j > 0 {
				row[j] = row[j-1]
			}
			row[j].addNiels(&row[j], &baseN[i])
		}
	}
	t := &table{w: w, n: n, half: half, e: make([]niels, len(pts))}
	normalize(pts, t.e)
	return t
}

// normalize writes the affine niels form of pts to out, with a single
// inversion (Montgomery's trick). The prefix products are kept in the ypx
// fields of out until the backward pass overwrites them.
func normalize(pts []point, out []niels) {
	var acc fe
	acc.One()
	for i := range pts {
		out[i].ypx = acc
		acc.Multiply(&acc, &pts[i].Z)
	}
	invertVar(&acc, &acc)
	for i := len(pts) - 1; i >= 0; i-- {
		var zinv, x, y fe
		e := &out[i]
		zinv.Multiply(&acc, &e.ypx) // 1/Z_i
		acc.Multiply(&acc, &pts[i].Z)
		x.Multiply(&pts[i].X, &zinv)
		y.Multiply(&pts[i].Y, &zinv)
		e.ypx.Add(&y, &x)
		e.ymx.Subtract(&y, &x)
		e.xy2d.Multiply(&x, &y)
		e.xy2d.Multiply(&e.xy2d, &curveD2)
	}
}

// recode writes the signed radix-2^w digits of the little-endian scalar s
// (which must be below 2^253) to d[:n]: s = sum d[i] 2^(w*i), with
// -2^(w-1) <= d[i] <= 2^(w-1).
func recode(d []int32, s *[32]byte, w, n int) {
	var words [5]uint64
	for i := range 4 {
		words[i] = uint64(s[8*i]) | uint64(s[8*i+1])<<8 | uint64(s[8*i+2])<<16 | uint64(s[8*i+3])<<24 |
			uint64(s[8*i+4])<<32 | uint64(s[8*i+5])<<40 | uint64(s[8*i+6])<<48 | uint64(s[8*i+7])<<56
	}
	mask := uint64(1)<<w - 1
	half := int32(1) << (w - 1)
	carry := int32(0)
	for i := range n {
		bit := uint(i * w)
		idx, sh := bit/64, bit%64
		t := words[idx] >> sh
		if sh+uint(w) > 64 {
			t |= words[idx+1] << (64 - sh)
		}
		raw := int32(t&mask) + carry
		if raw >= half {
			d[i] = raw - int32(mask) - 1
			carry = 1
		} else {
			d[i] = raw
			carry = 0
		}
	}
}

// addMul sets v = v + [s]P, or v - [s]P if neg, for s given by its digits.
func (v *point) addMul(t *table, d []int32, neg bool) {
	e := t.e
	half := t.half
	for i := range t.n {
		di := d[i]
		if neg {
			di = -di
		}
		switch {
		case di > 0:
			v.addNiels(v, &e[i*half+int(di)-1])
		case di < 0:
			v.subNiels(v, &e[i*half+int(-di)-1])
		}
	}
}
