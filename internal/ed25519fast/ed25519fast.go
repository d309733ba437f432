// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

// Package ed25519fast verifies Ed25519 signatures (RFC 8032) for a fixed,
// pre-parsed public key, faster than crypto/ed25519.Verify, with exactly its
// acceptance rules for any key [NewPublicKey] accepts.
//
// # How
//
// [NewPublicKey] decodes and checks the key once. Its first verifications
// compute R' = [S]B - [k]A by interleaved wNAF double-and-add; a later one
// precomputes, like the table for the base point B, a table of multiples
// j * 2^(w*i) * A, and from then on R' is a sum of table entries only (no
// doublings, no point decompression). R' is encoded (inverting Z with a
// variable-time Bernstein-Yang safegcd rather than Fermat's z^(p-2)) and
// compared with the R of the signature, as crypto/ed25519 does
// (cofactorless, S < L required).
//
// Everything handled here is public (keys, messages, signatures), so the code
// is variable-time.
//
// Field arithmetic is filippo.io/edwards25519/field (64-bit limbs, assembly
// multiply on amd64) except under GOOS=js GOARCH=wasm, which has no
// 64x64->128 multiply: there a 10-limb radix-2^25.5 field (fe32) is used.
package ed25519fast

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"
)

// PublicKey is a checked Ed25519 public key with its precomputed tables.
// It is safe for concurrent use. Its first tableAfter+1 valid signatures
// are verified without tables (onthefly.go); the last of them builds the key's table
// (and, once per process, the base point's), so that a key set with many
// keys costs nothing for the keys never used and a single verification
// (a browser page, a cold worker) pays for no table at all.
type PublicKey struct {
	enc   [32]byte
	point point
	uses  atomic.Uint32 // valid signatures verified before a is built
	once  sync.Once
	a     atomic.Pointer[table]
}

// tableAfter is the number of valid signatures of a key verified without
// its table (see onthefly.go); the next valid one builds it. Failed
// verifications never count.
const tableAfter = 16

var (
	baseOnce  sync.Once
	baseTable *table
)

// basePointEnc is the RFC 8032 base point, y = 4/5.
var basePointEnc = [32]byte{0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66}

func initBase() {
	var b point
	if err := b.decode(basePointEnc[:]); err != nil {
		panic("ed25519fast: base point: " + err.Error())
	}
	baseTable = newTable(&b, windowB)
}

// NewPublicKey checks an encoded Ed25519 public key. It rejects keys that
// are not 32 bytes, not canonically encoded (y >= p, or x = 0 with the sign
// bit set), not on the curve, or of small order. The key's table, which
// costs about as much as 20-60 verifications, is built by a later Verify.
//
// Every caller that gives the same 32 bytes while a PublicKey for them is
// still reachable gets that same PublicKey, so a key's table is built once
// per process however many key sets (verifiers, refreshed JWKS, WebAssembly
// handles the JavaScript collector has not freed yet) hold the key.
func NewPublicKey(pub []byte) (*PublicKey, error) {
	if len(pub) == 32 {
		if k := cached([32]byte(pub)); k != nil {
			return k, nil
		}
	}
	var a point
	if err := a.decode(pub); err != nil {
		return nil, err
	}
	var t point
	t.double(&a)
	t.double(&t)
	t.double(&t)
	if t.isIdentity() {
		return nil, errSmallOrder
	}
	k := &PublicKey{point: a}
	copy(k.enc[:], pub)
	return share(k), nil
}

// keys holds every live PublicKey by its encoding, weakly: an entry goes
// when its key is collected.
var (
	keysMu sync.Mutex
	keys   = map[[32]byte]weak.Pointer[PublicKey]{}
)

func cached(enc [32]byte) *PublicKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	return keys[enc].Value()
}

// share returns the live PublicKey for k's encoding, k itself if there is none.
func share(k *PublicKey) *PublicKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	if old := keys[k.enc].Value(); old != nil {
		return old
	}
	keys[k.enc] = weak.Make(k)
	runtime.AddCleanup(k, forget, k.enc)
	return k
}

func forget(enc [32]byte) {
	keysMu.Lock()
	defer keysMu.Unlock()
	if wp, ok := keys[enc]; ok && wp.Value() == nil {
		delete(keys, enc)
	}
}

func (k *PublicKey) precompute() {
	baseOnce.Do(initBase)
	k.a.Store(newTable(&k.point, windowA))
}

// Bytes returns the encoded public key.
func (k *PublicKey) Bytes() []byte {
	b := k.enc
	return b[:]
}

// Verify reports whether sig is a valid Ed25519 signature of msg by k, with
// the acceptance rules of crypto/ed25519.Verify: S must be below the group
// order L, and the cofactorless equation [S]B = R + [k]A is checked by
// comparing the encoding of [S]B - [k]A with R.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	a := k.a.Load()
	ok := k.verify(msg, sig, a)
	// Only valid signatures count toward the table: forged or garbled ones
	// are unauthenticated input and must not make anyone build 1.6 MB of
	// tables. The table is then used from the next verification on.
	if ok && a == nil && k.uses.Add(1) > tableAfter {
		k.once.Do(k.precompute)
	}
	return ok
}

// HasTable reports whether k's table has been built (tests, benchmarks).
func (k *PublicKey) HasTable() bool { return k.a.Load() != nil }

// verify is Verify with the key's table a, or on the fly if a is nil.
func (k *PublicKey) verify(msg, sig []byte, a *table) bool {
	if !scIsCanonical(sig[32:]) {
		return false
	}
	var digest [64]byte
	hashRAM(&digest, (*[32]byte)(sig[:32]), &k.enc, msg)
	var sb, kb [32]byte
	copy(sb[:], sig[32:])
	scReduce(&kb, &digest)
	var r point
	if a == nil {
		r.doubleScalarVar(&k.point, &kb, &sb)
	} else {
		var sd, kd [64]int32 // ceil(253/w) digits, w >= 4
		recode(sd[:], &sb, baseTable.w, baseTable.n)
		recode(kd[:], &kb, a.w, a.n)
		r.identity()
		r.addMul(baseTable, sd[:], false)
		r.addMul(a, kd[:], true)
	}
	var enc [32]byte
	r.encode(&enc)
	return enc == [32]byte(sig[:32])
}
