//go:build !unix

package main

// connLimit is the default cap on public connections where the descriptor
// limit cannot be read.
func connLimit() int { return 1024 }
