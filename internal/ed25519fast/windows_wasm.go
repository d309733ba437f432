// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build wasm

package ed25519fast

// Window widths under wasm. The tables are built only by a key's 17th
// verification (onthefly.go), so cold start does not pay for them and the
// widest that stay modest in memory are used. Measured with Node 20
// (go test -bench under go_js_wasm_exec, same run): 7/6 verify in 38.5 µs
// (tables 284 + 165 KB), 8/8 in 31.5 µs (491 + 491 KB, 3.3 ms to build B's),
// 9/8 the same as 8/8, 10/8 in 29.5 µs (B's: 1.6 MB, 10.3 ms). In
// verifierjs (steady.mjs, 4 alternating runs) 8/8 36.5 µs, 10/8 34.1 µs.
// B's table is made once per process, so it gets the widest window.
const (
	windowB = 10 // 26 * 512 entries, 1.6 MB, once per process
	windowA = 8  // 32 * 128 entries, 491 KB per key used more than 16 times
)
