// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import "testing"

// TestCurveConstants checks the encoded constants of point.go against
// their definitions: d = -121665/121666 and sqrt(-1) = 2^((p-1)/4).
func TestCurveConstants(t *testing.T) {
	num, den := feSmall(121665), feSmall(121666)
	num.Negate(&num)
	den.Invert(&den)
	var d fe
	d.Multiply(&num, &den)
	if d.Equal(&curveD) != 1 {
		t.Errorf("d = %x, want %x", curveD.Bytes(), d.Bytes())
	}
	var d2 fe
	d2.Add(&d, &d)
	if d2.Equal(&curveD2) != 1 {
		t.Error("2d is wrong")
	}
	two := feSmall(2)
	var s fe
	s.Pow22523(&two) // 2^((p-5)/8)
	s.Square(&s)
	s.Multiply(&s, &two) // 2^((p-1)/4)
	if s.Equal(&sqrtM1) != 1 {
		t.Errorf("sqrt(-1) = %x, want %x", sqrtM1.Bytes(), s.Bytes())
	}
	var check, minusOne fe
	check.Square(&sqrtM1)
	minusOne.Negate(&feOne)
	if check.Equal(&minusOne) != 1 {
		t.Error("sqrt(-1)^2 != -1")
	}
}
