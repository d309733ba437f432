// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"crypto/sha512"
	"testing"

	"filippo.io/edwards25519"
)

// Benchmarks of the parts of Verify, to see where its time goes.

func BenchmarkPartFeMultiply(b *testing.B) {
	x, y := feSmall(12345), curveD
	for b.Loop() {
		x.Multiply(&x, &y)
	}
}

func BenchmarkPartFeSquare(b *testing.B) {
	x := curveD
	for b.Loop() {
		x.Square(&x)
	}
}

func BenchmarkPartFeAdd(b *testing.B) {
	x, y := feSmall(12345), curveD
	for b.Loop() {
		x.Add(&x, &y)
	}
}

func BenchmarkPartFeInvert(b *testing.B) {
	x := curveD
	for b.Loop() {
		x.Invert(&x)
	}
}

func BenchmarkPartAddNiels(b *testing.B) {
	baseOnce.Do(initBase)
	var p point
	p.identity()
	for b.Loop() {
		p.addNiels(&p, &baseTable.e[77])
	}
}

func BenchmarkPartSHA512(b *testing.B) {
	msg := make([]byte, 364)
	for b.Loop() {
		h := sha512.New()
		h.Write(msg)
		var d [64]byte
		h.Sum(d[:0])
	}
}

func BenchmarkPartScalarReduce(b *testing.B) {
	var d [64]byte
	for i := range d {
		d[i] = byte(i * 7)
	}
	var s edwards25519.Scalar
	for b.Loop() {
		s.SetUniformBytes(d[:])
		s.Bytes()
	}
}

func BenchmarkPartSHA512RAM(b *testing.B) {
	msg := make([]byte, 300)
	var r, a [32]byte
	for b.Loop() {
		var d [64]byte
		sha512RAM(&d, &r, &a, msg)
	}
}

func BenchmarkPartScReduce(b *testing.B) {
	var d [64]byte
	for i := range d {
		d[i] = byte(i * 7)
	}
	var s [32]byte
	for b.Loop() {
		scReduce(&s, &d)
	}
}

// BenchmarkPartBaseTable measures building the base point's table, which the
// first NewPublicKey call of a process pays.
func BenchmarkPartBaseTable(b *testing.B) {
	baseOnce.Do(initBase)
	var p point
	p.identity()
	p.addNiels(&p, &baseTable.e[0])
	for b.Loop() {
		newTable(&p, windowB)
	}
}

// BenchmarkPartNafB measures making the 32 odd multiples of B that the
// on-the-fly path uses (once per process).
func BenchmarkPartNafB(b *testing.B) {
	for b.Loop() {
		initNafB()
	}
}

// BenchmarkPartDecode measures decoding a point (a square root).
func BenchmarkPartDecode(b *testing.B) {
	var p point
	for b.Loop() {
		p.decode(basePointEnc[:])
	}
}
