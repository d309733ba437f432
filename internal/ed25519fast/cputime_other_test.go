// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

//go:build unix && !(js && wasm)

package ed25519fast

import "syscall"

// cpuMicros returns the CPU time (user + system) used by the process so far,
// in microseconds.
func cpuMicros() float64 {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Sec+r.Stime.Sec)*1e6 + float64(r.Utime.Usec+r.Stime.Usec)
}
