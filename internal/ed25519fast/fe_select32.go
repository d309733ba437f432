// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build (wasm && !ed25519fast_fe64) || ed25519fast_fe32

package ed25519fast

// fe is the field element type used by the point arithmetic: 32-bit limbs
// under wasm (or with -tags ed25519fast_fe32).
type fe = fe32

const feName = "fe32"
