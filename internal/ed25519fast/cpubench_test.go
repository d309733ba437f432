// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build unix || (js && wasm)

package ed25519fast

import (
	"crypto/ed25519"
	"slices"
	"testing"
	"time"
)

// BenchmarkCPUTimeVerify measures Verify and crypto/ed25519.Verify side by
// side in CPU time rather than wall time, alternating in rounds and keeping
// the best round of each, which is robust on a loaded machine. One run is
// the whole measurement:
//
//	go test -run '^$' -bench CPUTime -benchtime 1x -v ./internal/ed25519fast
func BenchmarkCPUTimeVerify(t *testing.B) {
	pub, k, msg, sig := benchFixture(t)
	measure := func(n int, f func()) (cpu, wall float64) {
		c0, w0 := cpuMicros(), time.Now()
		for range n {
			f()
		}
		return (cpuMicros() - c0) / float64(n), float64(time.Since(w0).Microseconds()) / float64(n)
	}
	fast := func() {
		if !k.Verify(msg, sig) {
			t.Fatal("Verify failed")
		}
	}
	std := func() {
		if !ed25519.Verify(pub, msg, sig) {
			t.Fatal("ed25519.Verify failed")
		}
	}
	newKey := func() {
		k, _ := NewPublicKey(pub)
		k.precompute() // the table a key's 17th Verify builds
	}
	baseOnce.Do(initBase)
	var bp point
	bp.identity()
	bp.addNiels(&bp, &baseTable.e[0])
	newBase := func() { newTable(&bp, windowB) }
	// Size the rounds to about 0.2 s each.
	nFast := max(1, int(200000/max(1, must(measure(200, fast)))))
	nStd := max(1, int(200000/max(1, must(measure(50, std)))))
	nKey := max(1, int(200000/max(1, must(measure(5, newKey)))))
	var fc, sc, kc, bc, fw, sw []float64
	for range 8 {
		c, w := measure(nFast, fast)
		fc, fw = append(fc, c), append(fw, w)
		c, w = measure(nStd, std)
		sc, sw = append(sc, c), append(sw, w)
		c, _ = measure(nKey, newKey)
		kc = append(kc, c)
		c, _ = measure(nKey, newBase)
		bc = append(bc, c)
	}
	f, s := slices.Min(fc), slices.Min(sc)
	t.Logf("%s, best of 8 rounds, CPU time: fast %.2f µs/op, stdlib %.2f µs/op, ratio %.2fx; NewPublicKey %.0f µs (window %d); base table %.0f µs (window %d, once per process)",
		feName, f, s, s/f, slices.Min(kc), windowA, slices.Min(bc), windowB)
	t.Logf("wall time, best round: fast %.2f µs/op, stdlib %.2f µs/op", slices.Min(fw), slices.Min(sw))
}

func must(cpu, _ float64) float64 { return cpu }
