// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build (wasm && !ed25519fast_fe64) || ed25519fast_fe32

package ed25519fast

// fe is the field element type used by the point arithmetic: 32-bit limbs
// under wasm (or with -tags ed25519fast_fe32).
type fe = fe32

const feName = "fe32"

// feAddLazy and feSubLazy are Add and Subtract whose result is only used as
// a Multiply or Square input; see fe32.addLazy.
func feAddLazy(v, a, b *fe) { v.addLazy(a, b) }
func feSubLazy(v, a, b *fe) { v.subLazy(a, b) }
