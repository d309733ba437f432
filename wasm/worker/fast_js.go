//go:build js && wasm && !kycvs_stock_shim

//lint:file-ignore U1000 the go:wasmexport functions are called by js/worker.mjs, which staticcheck does not see

package main

import "unsafe"

// The fast path's boundary (README.md, "Fast path"), over linear memory as
// verifierjs's: the shim writes the request's strings into the input buffer,
// separated by NUL, calls kycvs_worker_decide with their length and
// presence flags, and reads the answer (FastAnswer.Encode) from the output
// buffer. Each call into the module costs the shim time in workerd, so it
// keeps both buffers' addresses: it asks for the input buffer again only
// when it needs a larger one, and for the output buffer only when an answer
// says it moved (answered).
var (
	in  = make([]byte, 16<<10)
	out = make([]byte, 0, 16<<10)

	outAt uintptr // out's address as kycvs_worker_out last gave it
)

// stopTest is set only in the kycvs_stoptest build (stoptest_js.go), for
// TestWorkerdGoStops.
var stopTest func(in []byte)

// Flags in an answer's length: moved, the answer is not at the address
// kycvs_worker_out last gave; kept, it is the kept refusal of a request
// without credentials (Handler.KeptAnswer), the same bytes every time in
// this instance, so the shim may reuse what it made of them.
const (
	moved = 1 << 31
	kept  = 1 << 30
)

// answered is the length of the answer in out, with moved set when the shim
// must ask kycvs_worker_out where it is, and with flags (kept). An answer
// too long for the flags (1 GiB; the runtime's request limits keep answers
// far below it) becomes "full", without flags.
func answered(flags uint32) uint32 {
	if len(out) >= kept {
		out, flags = append(out[:0], "full\x00"...), 0
	}
	n := uint32(len(out)) | flags
	if uintptr(unsafe.Pointer(unsafe.SliceData(out))) != outAt {
		n |= moved
	}
	return n
}

// kycvs_worker_in returns the input buffer, grown to at least n bytes.
//
//go:wasmexport kycvs_worker_in
func workerIn(n uint32) uint32 {
	if int(n) > len(in) {
		in = make([]byte, int(n)+int(n)/2)
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(in))))
}

// kycvs_worker_out returns the address of the last answer (and of the
// next ones, until an answer says it moved).
//
//go:wasmexport kycvs_worker_out
func workerOut() uint32 {
	outAt = uintptr(unsafe.Pointer(unsafe.SliceData(out)))
	return uint32(outAt)
}

// kycvs_worker_decide decides on a request: input method, url, host,
// authorization, cookie and access-control-request-method, in n bytes
// separated by NUL (flags say which headers are present and whether there
// is a body). It returns the answer's length (answered). Input that is not
// six fields (a NUL inside one) takes the full path.
//
//go:wasmexport kycvs_worker_decide
func workerDecide(n, flags uint32) uint32 {
	if uint64(n) > uint64(len(in)) {
		panic("kycvs_worker_decide: input larger than the input buffer")
	}
	if stopTest != nil {
		stopTest(in[:n])
	}
	if enc, ok := handler.KeptAnswer(in[:n], flags); ok {
		out = append(out[:0], enc...)
		return answered(kept)
	}
	q, ok := ReadFastRequest(in[:n], flags)
	if !ok {
		full := FastAnswer{Full: true}
		out = full.Encode(out[:0])
		return answered(0)
	}
	a := handler.Decide(q)
	out = a.Encode(out[:0])
	return answered(0)
}

// kycvs_worker_lists answers the constant header lists (EncodeLists).
//
//go:wasmexport kycvs_worker_lists
func workerLists() uint32 {
	out = EncodeLists(out[:0])
	return answered(0)
}

// kycvs_worker_unavailable answers a request whose origin fetch failed.
//
//go:wasmexport kycvs_worker_unavailable
func workerUnavailable() uint32 {
	a := handler.Unavailable()
	out = a.Encode(out[:0])
	return answered(0)
}
