// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build !wasm

package ed25519fast

import "crypto/sha512"

// hashRAM sets out to SHA-512(r ‖ a ‖ m): crypto/sha512 (assembly) natively.
func hashRAM(out *[64]byte, r, a *[32]byte, m []byte) {
	h := sha512.New()
	h.Write(r[:])
	h.Write(a[:])
	h.Write(m)
	h.Sum(out[:0])
}
