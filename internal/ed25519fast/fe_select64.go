// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build !((wasm && !ed25519fast_fe64) || ed25519fast_fe32)

package ed25519fast

import "filippo.io/edwards25519/field"

// fe is the field element type used by the point arithmetic:
// filippo.io/edwards25519/field (64-bit limbs, assembly multiply on amd64)
// everywhere except wasm (or with -tags ed25519fast_fe64 under wasm).
type fe = field.Element

const feName = "field.Element"

// feAddLazy and feSubLazy are Add and Subtract whose result is only used as
// a Multiply or Square input (field.Element always carries).
func feAddLazy(v, a, b *fe) { v.Add(a, b) }
func feSubLazy(v, a, b *fe) { v.Subtract(a, b) }
