//go:build js && wasm

// Command wasmcrash is a stand-in for kycvs.wasm in verifierjs's tests: it
// has the verifier's ABI, and its Go runtime dies inside kycvs_verify after
// it has written an answer that looks valid, as a runtime that runs out of
// memory does. verifierjs must then answer ERR_CONFIG, never that answer.
package main

//lint:file-ignore U1000 the host calls these through go:wasmexport, which staticcheck does not see

import "unsafe"

var (
	in  = make([]byte, 16<<10)
	out [2*4096 + 64]byte
)

//go:wasmexport kycvs_in
func kycvsIn(n uint32) uint32 {
	if int(n) > len(in) {
		in = make([]byte, n)
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(in))))
}

//go:wasmexport kycvs_out
func kycvsOut() uint32 { return uint32(uintptr(unsafe.Pointer(&out[0]))) }

//go:wasmexport kycvs_new
func kycvsNew(jwksLen, issLen, audLen uint32, leeway float64, flags uint32) int32 { return 1 }

//go:wasmexport kycvs_free
func kycvsFree(h int32) {}

var sink [][]byte // keeps the allocation, so that the call does some work first

//go:wasmexport kycvs_verify
func kycvsVerify(h int32, tokLen, nonceLen uint32, now float64) int32 {
	// A plausible success answer: status 2, empty strings.
	clear(out[:])
	out[0] = 2
	sink = append(sink, make([]byte, 1<<20))
	panic("the Go runtime dies here") // no recover: the program exits inside the call
}

func main() { select {} }
