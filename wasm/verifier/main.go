//go:build js && wasm

// Command verifier is the kycvs token verifier compiled to WebAssembly
// (GOOS=js GOARCH=wasm) for the verifierjs package, which loads it with the
// wasm_exec.js of the same Go toolchain. It is not meant to be called by hand.
//
// It runs the root package's verifier unchanged ([kycvs.ParseKeySet],
// [kycvs.NewVerifier], [kycvs.Verifier.VerifyAt]); only the boundary is here.
// The boundary is a few //go:wasmexport functions over linear memory instead
// of syscall/js: the host writes its inputs into one buffer, makes one call
// and reads the answer from another. No JS value is made on the Go side, so a
// verification costs one copy in (the token and nonce bytes, which Go reads
// in place) and one copy out (the answer's fields).
//
// # ABI
//
// Integers are little endian; pointers and lengths are uint32 offsets into
// the module's memory, which the host reads through a fresh view after every
// call (a call may grow the memory).
//
//	kycvs_in(n) ptr                        the input buffer, grown to at least n bytes
//	kycvs_out() ptr                        the answer buffer (OutSize bytes)
//	kycvs_new(jwks, iss, aud, leeway, flags) h
//	                                       input: jwks ‖ iss ‖ aud (lengths given);
//	                                       leeway in seconds, NaN for the default;
//	                                       flags bit 0: without nonce (kycvs.WithoutNonce);
//	                                       bits 1, 2: the host's issuer, audience was not
//	                                       well-formed text (a JS string with lone surrogates)
//	kycvs_verify(h, tok, nonce, now) r     input: token ‖ nonce (lengths given);
//	                                       now in Unix seconds, NaN for the clock
//	kycvs_free(h)                          forget verifier h
//
// kycvs_new returns a handle > 0; kycvs_verify returns 0. Both return -1 on
// failure with the error in the answer buffer. Handles are never reused: a
// handle that has been freed stays unknown for the life of the module (a
// stale handle fails, it never reaches another verifier), and kycvs_new fails
// once 2^31-1 verifiers have been made. now must be within [0, 2^53-1]
// (kycvs.MaxTime), as in Go. The error answer is
//
//	u8 len(code) ‖ u16 len(message) ‖ code ‖ message
//
// A verified token's answer is
//
//	u8 status ‖ u8 len(nmh) ‖ u16 len(sub) ‖ u16 len(jti) ‖ u16 len(kid) ‖
//	i64 iat ‖ i64 exp ‖ nmh (base64url, 0 or 22 bytes) ‖ sub ‖ jti ‖ kid
package main

import (
	"encoding/base64"
	"math"
	"time"
	"unsafe"

	"github.com/kycvs/kycvs"
)

// OutSize is the size of the answer buffer. A token is at most
// kycvs.MaxTokenSize bytes, so its claims always fit; long error messages
// are cut.
const OutSize = 2*kycvs.MaxTokenSize + 64

var (
	in  = make([]byte, 16<<10)
	out [OutSize]byte

	verifiers = map[int32]*kycvs.Verifier{} // live verifiers by handle
	last      int32                         // the last handle given; handles are never reused
)

//go:wasmexport kycvs_in
func kycvsIn(n uint32) uint32 {
	if int(n) > len(in) {
		in = make([]byte, int(n)+int(n)/2)
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(in))))
}

//lint:ignore U1000 the host calls it: go:wasmexport, which staticcheck does not see
//go:wasmexport kycvs_out
func kycvsOut() uint32 { return uint32(uintptr(unsafe.Pointer(&out[0]))) }

//go:wasmexport kycvs_new
func kycvsNew(jwksLen, issLen, audLen uint32, leeway float64, flags uint32) int32 {
	end := uint64(jwksLen) + uint64(issLen) + uint64(audLen)
	if end > uint64(len(in)) {
		return fail(kycvs.CodeConfig, "inputs larger than the input buffer")
	}
	// Copies: the key set and the verifier keep what they are given.
	jwks := append([]byte(nil), in[:jwksLen]...)
	iss := string(in[jwksLen : jwksLen+issLen])
	aud := string(in[jwksLen+issLen : end])

	var opts []kycvs.Option
	if !math.IsNaN(leeway) {
		// Out-of-range values become an out-of-range Duration, which
		// WithLeeway rejects with ERR_CONFIG like any other.
		d := time.Duration(-1)
		if leeway >= 0 && leeway <= float64(24*time.Hour/time.Second) {
			d = time.Duration(leeway * float64(time.Second))
		}
		opts = append(opts, kycvs.WithLeeway(d))
	}
	if flags&^7 != 0 {
		return fail(kycvs.CodeConfig, "unknown flags")
	}
	// Text the host could not encode exactly reaches NewVerifier as invalid
	// UTF-8, which it refuses in its own order (after the key set).
	if flags&2 != 0 {
		iss = "\xff"
	}
	if flags&4 != 0 {
		aud = "\xff"
	}
	if flags&1 != 0 {
		opts = append(opts, kycvs.WithoutNonce())
	}
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		return failErr(err, kycvs.CodeJWKS)
	}
	v, err := kycvs.NewVerifier(ks, iss, aud, opts...)
	if err != nil {
		return failErr(err, kycvs.CodeConfig)
	}
	if last == math.MaxInt32 {
		return fail(kycvs.CodeConfig, "no handles left in this module: load it anew")
	}
	last++
	verifiers[last] = v
	return last
}

//go:wasmexport kycvs_free
func kycvsFree(h int32) { delete(verifiers, h) }

//go:wasmexport kycvs_verify
func kycvsVerify(h int32, tokLen, nonceLen uint32, now float64) (r int32) {
	v := verifiers[h]
	if v == nil {
		return fail(kycvs.CodeConfig, "no such verifier (freed, or never made)")
	}
	if uint64(tokLen)+uint64(nonceLen) > uint64(len(in)) {
		return fail(kycvs.CodeConfig, "inputs larger than the input buffer")
	}
	defer func() {
		// The core is fuzzed and should never panic; if it does, the token
		// is rejected and the module stays usable.
		if recover() != nil {
			r = fail(kycvs.CodeMalformed, "internal error while verifying")
		}
	}()
	// The core only reads the token and nonce during the call, so they are
	// read in place; the host overwrites the buffer only on its next call.
	base := unsafe.SliceData(in)
	token := unsafe.String(base, tokLen)
	nonce := unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(base), tokLen)), nonceLen)
	var t time.Time
	switch {
	case math.IsNaN(now):
		t = time.Now()
	case now >= 0 && now <= kycvs.MaxTime:
		sec := math.Floor(now)
		t = time.Unix(int64(sec), int64((now-sec)*1e9))
	default:
		// Out of range (infinities included): VerifyAt says ERR_CONFIG
		// after its own first check, the nonce's, as in Go.
		t = time.Unix(-1, 0)
	}
	tok, err := v.VerifyAt(token, nonce, t)
	if err != nil {
		return failErr(err, kycvs.CodeMalformed)
	}
	return answer(tok)
}

func answer(t *kycvs.Token) int32 {
	const head = 24
	nmh := 0
	if len(t.NameHash) > 0 {
		nmh = base64.RawURLEncoding.EncodedLen(len(t.NameHash))
	}
	if head+nmh+len(t.Subject)+len(t.ID)+len(t.KeyID) > OutSize {
		return fail(kycvs.CodeClaims, "claims too large") // unreachable: a token is at most 4096 bytes
	}
	o := out[:]
	o[0] = byte(t.Status)
	o[1] = byte(nmh)
	put16(o[2:], uint16(len(t.Subject)))
	put16(o[4:], uint16(len(t.ID)))
	put16(o[6:], uint16(len(t.KeyID)))
	put64(o[8:], uint64(t.IssuedAt))
	put64(o[16:], uint64(t.Expires))
	p := head
	if nmh > 0 {
		base64.RawURLEncoding.Encode(o[p:], t.NameHash)
		p += nmh
	}
	p += copy(o[p:], t.Subject)
	p += copy(o[p:], t.ID)
	copy(o[p:], t.KeyID)
	return 0
}

// failErr writes err to the answer buffer; an error that is not a
// *kycvs.Error (there should be none) gets code def.
func failErr(err error, def kycvs.Code) int32 {
	if e, ok := err.(*kycvs.Error); ok {
		return fail(e.Code, e.Message)
	}
	return fail(def, err.Error())
}

func fail(code kycvs.Code, msg string) int32 {
	o := out[:]
	c := copy(o[3:255], code)
	m := copy(o[3+c:], msg)
	o[0] = byte(c)
	put16(o[1:], uint16(m))
	return -1
}

func put16(b []byte, v uint16) { _ = b[1]; b[0], b[1] = byte(v), byte(v>>8) }

func put64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func main() {
	// Stay alive: the host calls the exported functions after main has
	// started the runtime. Returning would end the program.
	select {}
}
