// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519/field"
)

// randFieldBytes returns 32 random bytes, biased towards edge values
// (all ones, values near p, small values) and sometimes with the top bit set.
func randFieldBytes(r *rand.Rand) []byte {
	b := make([]byte, 32)
	switch r.IntN(6) {
	case 0: // p + small (non-canonical) or p - small
		b[0] = byte(0xed - r.IntN(40) + 20)
		for i := 1; i < 31; i++ {
			b[i] = 0xff
		}
		b[31] = 0x7f
	case 1: // small
		b[0] = byte(r.IntN(256))
	case 2: // all ones
		for i := range b {
			b[i] = 0xff
		}
	default:
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
	if r.IntN(2) == 0 {
		b[31] |= 0x80
	}
	return b
}

// TestFe32 checks fe32 against field.Element on random operation chains,
// so that every operation sees outputs of every other one as input.
func TestFe32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const regs = 6
	var a [regs]fe32
	var b [regs]field.Element
	load := func(i int) {
		x := randFieldBytes(r)
		a[i].SetBytes(x)
		b[i].SetBytes(x)
	}
	for i := range regs {
		load(i)
	}
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for it := range n {
		d, x, y := r.IntN(regs), r.IntN(regs), r.IntN(regs)
		op := r.IntN(11)
		switch op {
		case 0:
			load(d)
		case 1:
			a[d].Add(&a[x], &a[y])
			b[d].Add(&b[x], &b[y])
		case 2:
			a[d].Subtract(&a[x], &a[y])
			b[d].Subtract(&b[x], &b[y])
		case 3:
			a[d].Multiply(&a[x], &a[y])
			b[d].Multiply(&b[x], &b[y])
		case 4:
			a[d].Square(&a[x])
			b[d].Square(&b[x])
		case 5:
			a[d].Negate(&a[x])
			b[d].Negate(&b[x])
		case 6:
			if r.IntN(50) == 0 {
				a[d].Invert(&a[x])
				b[d].Invert(&b[x])
			}
		case 7:
			if r.IntN(50) == 0 {
				a[d].Pow22523(&a[x])
				b[d].Pow22523(&b[x])
			}
		case 9: // lazy sum times lazy difference
			z, w := r.IntN(regs), r.IntN(regs)
			var s, u fe32
			s.addLazy(&a[x], &a[y])
			u.subLazy(&a[z], &a[w])
			a[d].Multiply(&s, &u)
			var bs, bu field.Element
			bs.Add(&b[x], &b[y])
			bu.Subtract(&b[z], &b[w])
			b[d].Multiply(&bs, &bu)
		case 10: // square of a lazy difference
			var u fe32
			u.subLazy(&a[x], &a[y])
			a[d].Square(&u)
			var bu field.Element
			bu.Subtract(&b[x], &b[y])
			b[d].Square(&bu)
		case 8:
			if a[x].IsNegative() != b[x].IsNegative() {
				t.Fatalf("iteration %d: IsNegative differs", it)
			}
			var ca, cb int
			ca = a[x].Equal(&a[y])
			cb = b[x].Equal(&b[y])
			if ca != cb {
				t.Fatalf("iteration %d: Equal differs", it)
			}
		}
		if !bytes.Equal(a[d].Bytes(), b[d].Bytes()) {
			t.Fatalf("iteration %d op %d: fe32 %x, field.Element %x", it, op, a[d].Bytes(), b[d].Bytes())
		}
	}
}

// TestFe32Limits checks the largest limb values each operation can receive.
func TestFe32Limits(t *testing.T) {
	var big fe32 // every limb at its maximum after a carry
	for i := range big.l {
		big.l[i] = 1<<feWidth(i) - 1
	}
	big.l[1] += 1 << 17
	big.l[5] += 1 << 17
	var ref field.Element
	ref.SetBytes(big.Bytes())
	var a fe32
	var b field.Element
	a.Multiply(&big, &big)
	b.Multiply(&ref, &ref)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Multiply at limb limits")
	}
	a.Square(&big)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Square at limb limits")
	}
	var zero fe32
	var bz field.Element
	a.Subtract(&zero, &big)
	b.Subtract(&bz, &ref)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Subtract at limb limits")
	}
	a.Add(&big, &big)
	b.Add(&ref, &ref)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Add at limb limits")
	}
	// The largest lazy values: big + 2p - 0 and big + big, squared and
	// multiplied.
	var l1, l2 fe32
	l1.subLazy(&big, &zero)
	l2.addLazy(&big, &big)
	var r1, r2 field.Element
	r1.Subtract(&ref, &bz)
	r2.Add(&ref, &ref)
	a.Multiply(&l1, &l1)
	b.Multiply(&r1, &r1)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Multiply of lazy values at limb limits")
	}
	a.Square(&l1)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Square of lazy values at limb limits")
	}
	a.Multiply(&l1, &l2)
	b.Multiply(&r1, &r2)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Multiply of lazy values at limb limits")
	}
}
