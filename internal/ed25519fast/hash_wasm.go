// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build wasm

package ed25519fast

// hashRAM sets out to SHA-512(r ‖ a ‖ m): sha512.go under wasm.
func hashRAM(out *[64]byte, r, a *[32]byte, m []byte) { sha512RAM(out, r, a, m) }
