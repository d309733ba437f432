// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build js && wasm

package ed25519fast

import "syscall/js"

// cpuMicros returns the CPU time (user + system) used by the process so far,
// in microseconds, from Node's process.cpuUsage().
func cpuMicros() float64 {
	u := js.Global().Get("process").Call("cpuUsage")
	return u.Get("user").Float() + u.Get("system").Float()
}
