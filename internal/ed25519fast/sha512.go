// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import "math/bits"

// A small SHA-512 (FIPS 180-4) of R ‖ A ‖ M, for GOOS=js GOARCH=wasm: there,
// crypto/sha512 brings the FIPS 140 module (os, reflect, AES, DRBG, ...)
// into the binary and costs V8 compile and start-up time. It compiles
// everywhere so that native tests check it against crypto/sha512; native
// builds use crypto/sha512 (see hash_*.go). The block function follows the
// Go standard library's generic one.

var sha512K = [80]uint64{
	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f,
	0xe9b5dba58189dbbc, 0x3956c25bf348b538, 0x59f111f1b605d019,
	0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242,
	0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
	0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3,
	0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65, 0x2de92c6f592b0275,
	0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f,
	0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
	0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc,
	0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6,
	0x92722c851482353b, 0xa2bfe8a14cf10364, 0xa81a664bbc423001,
	0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
	0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99,
	0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb,
	0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc,
	0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915,
	0xc67178f2e372532b, 0xca273eceea26619c, 0xd186b8c721c0c207,
	0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba,
	0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
	0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a,
	0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
}

// sha512RAM sets out to SHA-512(r ‖ a ‖ m) for 32-byte r and a.
func sha512RAM(out *[64]byte, r, a *[32]byte, m []byte) {
	h := [8]uint64{0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
		0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179}
	var buf [128]byte
	copy(buf[:32], r[:])
	copy(buf[32:64], a[:])
	n := uint64(64 + len(m))
	// The first block: r ‖ a ‖ the start of m.
	k := copy(buf[64:], m)
	m = m[k:]
	if 64+k == 128 {
		sha512Block(&h, buf[:])
		for len(m) >= 128 {
			sha512Block(&h, m[:128])
			m = m[128:]
		}
		k = copy(buf[:], m)
	} else {
		k += 64
	}
	// Padding: 0x80, zeros, the length in bits as 128 bits big endian.
	buf[k] = 0x80
	clear(buf[k+1:])
	if k+1 > 112 {
		sha512Block(&h, buf[:])
		clear(buf[:])
	}
	bitLen := n << 3
	buf[119] = byte(n >> 61)
	for i := range 8 {
		buf[120+i] = byte(bitLen >> (56 - 8*i))
	}
	sha512Block(&h, buf[:])
	for i, v := range h {
		for j := range 8 {
			out[8*i+j] = byte(v >> (56 - 8*j))
		}
	}
}

// sha512Block processes one 128-byte block p.
func sha512Block(hh *[8]uint64, p []byte) {
	_ = p[127]
	var w [80]uint64
	for i := range 16 {
		j := i * 8
		w[i] = uint64(p[j])<<56 | uint64(p[j+1])<<48 | uint64(p[j+2])<<40 | uint64(p[j+3])<<32 |
			uint64(p[j+4])<<24 | uint64(p[j+5])<<16 | uint64(p[j+6])<<8 | uint64(p[j+7])
	}
	for i := 16; i < 80; i++ {
		v1 := w[i-2]
		t1 := bits.RotateLeft64(v1, -19) ^ bits.RotateLeft64(v1, -61) ^ (v1 >> 6)
		v2 := w[i-15]
		t2 := bits.RotateLeft64(v2, -1) ^ bits.RotateLeft64(v2, -8) ^ (v2 >> 7)
		w[i] = t1 + w[i-7] + t2 + w[i-16]
	}
	a, b, c, d, e, f, g, h := hh[0], hh[1], hh[2], hh[3], hh[4], hh[5], hh[6], hh[7]
	for i := range 80 {
		t1 := h + (bits.RotateLeft64(e, -14) ^ bits.RotateLeft64(e, -18) ^ bits.RotateLeft64(e, -41)) + ((e & f) ^ (^e & g)) + sha512K[i] + w[i]
		t2 := (bits.RotateLeft64(a, -28) ^ bits.RotateLeft64(a, -34) ^ bits.RotateLeft64(a, -39)) + ((a & b) ^ (a & c) ^ (b & c))
		h = g
		g = f
		f = e
		e = d + t1
		d = c
		c = b
		b = a
		a = t1 + t2
	}
	hh[0] += a
	hh[1] += b
	hh[2] += c
	hh[3] += d
	hh[4] += e
	hh[5] += f
	hh[6] += g
	hh[7] += h
}
