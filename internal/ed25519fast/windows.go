// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

// Window widths of the fixed-base tables: a table of width w has
// ceil(253/w) * 2^(w-1) entries of 120 bytes, and a scalar multiplication
// with it costs ceil(253/w) mixed additions.
const (
	windowB = 8
	windowA = 8
)
