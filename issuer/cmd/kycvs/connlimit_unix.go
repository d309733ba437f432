//go:build unix

package main

import "syscall"

// connLimit is the default cap on public connections: half the soft limit
// on open files, so that the store, the admin socket, the metrics listener
// and outgoing webhook calls always find descriptors (at least 64).
func connLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 || rl.Cur > 1<<20 {
		return 1024
	}
	return max(64, int(rl.Cur/2))
}
