// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build !wasm

package ed25519fast

// Window widths of the fixed-base tables. A table of width w has
// ceil(253/w) * 2^(w-1) entries of 120 bytes, costs about 0.27 µs per entry
// to build natively, and a scalar multiplication with it is ceil(253/w)
// mixed additions. Natively, the widest tables: 491 KB and about 1.1 ms for
// each key (and once for B), for 64 additions per verification.
const (
	windowB = 8
	windowA = 8
)
