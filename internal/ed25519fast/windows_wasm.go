// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build wasm

package ed25519fast

// Window widths under wasm, where building tables costs about 5x more than
// natively and cold start matters (browsers, workers): measured with Node 20,
// 8/8 verify in 38 µs after 4.3 ms (B, once) + 4.6 ms (each key) of tables;
// 7/6 verify in 42 µs after 2.5 ms + 1.4 ms; 6/5 in 47 µs after 1.3 ms + 0.9 ms.
const (
	windowB = 7 // 37 * 64 entries, 284 KB
	windowA = 6 // 43 * 32 entries, 165 KB per key
)
