//go:build js && wasm && !kycvs_stock_shim

//lint:file-ignore U1000 the go:wasmexport functions are called by js/worker.mjs, which staticcheck does not see

package main

import "unsafe"

// The fast path's boundary (README.md, "Fast path"), over linear memory as
// verifierjs's: the shim writes the request's strings into the input buffer,
// separated by NUL, calls kycvs_worker_decide with their length and
// presence flags, and reads the answer (FastAnswer.Encode) from
// kycvs_worker_out, of the returned length.
var (
	in  = make([]byte, 16<<10)
	out = make([]byte, 0, 16<<10)
)

// kycvs_worker_in returns the input buffer, grown to at least n bytes.
//
//go:wasmexport kycvs_worker_in
func workerIn(n uint32) uint32 {
	if int(n) > len(in) {
		in = make([]byte, int(n)+int(n)/2)
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(in))))
}

// kycvs_worker_out returns the last answer.
//
//go:wasmexport kycvs_worker_out
func workerOut() uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(out)))) }

// kycvs_worker_decide decides on a request: input method, url, host,
// authorization, cookie and access-control-request-method, in n bytes
// separated by NUL (flags say which headers are present and whether there
// is a body). It returns the answer's length. Input that is not six fields
// (a NUL inside one) takes the full path.
//
//go:wasmexport kycvs_worker_decide
func workerDecide(n, flags uint32) uint32 {
	if uint64(n) > uint64(len(in)) {
		panic("kycvs_worker_decide: input larger than the input buffer")
	}
	if enc, ok := handler.KeptAnswer(in[:n], flags); ok {
		out = append(out[:0], enc...)
		return uint32(len(out))
	}
	q, ok := ReadFastRequest(in[:n], flags)
	if !ok {
		full := FastAnswer{Full: true}
		out = full.Encode(out[:0])
		return uint32(len(out))
	}
	a := handler.Decide(q)
	out = a.Encode(out[:0])
	return uint32(len(out))
}

// kycvs_worker_lists answers the constant header lists (EncodeLists).
//
//go:wasmexport kycvs_worker_lists
func workerLists() uint32 {
	out = EncodeLists(out[:0])
	return uint32(len(out))
}

// kycvs_worker_unavailable answers a request whose origin fetch failed.
//
//go:wasmexport kycvs_worker_unavailable
func workerUnavailable() uint32 {
	a := handler.Unavailable()
	out = a.Encode(out[:0])
	return uint32(len(out))
}
