//go:build js && wasm && !kycvs_stock_shim

//lint:file-ignore U1000 the go:wasmexport functions are called by js/worker.mjs, which staticcheck does not see

package main

import "unsafe"

// The fast path's boundary (README.md, "Fast path"), over linear memory as
// verifierjs's: the shim writes the request's strings into the input buffer
// one after another, calls kycvs_worker_decide with their byte lengths and
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

// Presence flags of kycvs_worker_decide.
const (
	hasHost = 1 << iota
	hasAuthorization
	hasCookie
	hasACRM
	hasBodyStream
)

// kycvs_worker_decide decides on a request: input method ‖ url ‖ host ‖
// authorization ‖ cookie ‖ access-control-request-method (the lengths
// given; flags say which headers are present and whether there is a body).
// It returns the answer's length.
//
//go:wasmexport kycvs_worker_decide
func workerDecide(method, url, host, authz, cookie, acrm, flags uint32) uint32 {
	var p uint64
	next := func(n uint32, present bool) *string {
		s := string(in[p : p+uint64(n)]) // copied: Go may keep it
		p += uint64(n)
		if !present {
			return nil
		}
		return &s
	}
	if uint64(method)+uint64(url)+uint64(host)+uint64(authz)+uint64(cookie)+uint64(acrm) > uint64(len(in)) {
		panic("kycvs_worker_decide: inputs larger than the input buffer")
	}
	q := FastRequest{Method: *next(method, true), URL: *next(url, true)}
	q.Host = next(host, flags&hasHost != 0)
	q.Authorization = next(authz, flags&hasAuthorization != 0)
	q.Cookie = next(cookie, flags&hasCookie != 0)
	q.ACRM = next(acrm, flags&hasACRM != 0)
	q.HasBody = flags&hasBodyStream != 0
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
