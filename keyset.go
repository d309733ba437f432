package kycvs

import (
	"sort"
	"strconv"

	"github.com/kycvs/kycvs/internal/b64"
	"github.com/kycvs/kycvs/internal/ed25519fast"
	"github.com/kycvs/kycvs/internal/strictjson"
)

// Limits of a key set document.
const (
	MaxKeySetSize = 64 << 10 // bytes of JWKS JSON
	MaxKeys       = 100      // entries of its keys array, of any type
)

// KeySet is a parsed JWKS of Ed25519 verification keys, indexed by kid.
// It is immutable and safe for concurrent use.
type KeySet struct {
	keys map[string]*publicKey
}

type publicKey struct {
	kid string
	key *ed25519fast.PublicKey
}

// ParseKeySet parses a JWKS document (RFC 7517 §5) strictly. Keys of other
// types or curves are skipped. It fails with CodeJWKS when the document is
// not a JWKS, is larger than MaxKeySetSize or has more than MaxKeys keys, or
// when any OKP/Ed25519 key is unusable: a missing or empty kid, a kid used
// twice, an x that is not exactly 32 bytes of strict base64url, not a
// canonical encoding of a curve point, or a point of small order, private
// material (d), or a use, alg or key_ops that contradicts verifying EdDSA
// signatures. A set with no usable key fails too.
func ParseKeySet(jwks []byte) (*KeySet, error) {
	if len(jwks) > MaxKeySetSize {
		return nil, errorf(CodeJWKS, "key set larger than "+strconv.Itoa(MaxKeySetSize)+" bytes")
	}
	doc, err := strictjson.Parse(jwks)
	if err != nil {
		return nil, errorf(CodeJWKS, "key set is not valid JSON: "+err.Error())
	}
	if doc.Kind != strictjson.Object {
		return nil, errorf(CodeJWKS, "key set is not a JSON object")
	}
	list := doc.Get("keys")
	if list == nil || list.Kind != strictjson.Array {
		return nil, errorf(CodeJWKS, `key set has no "keys" array`)
	}
	if len(list.Items) > MaxKeys {
		return nil, errorf(CodeJWKS, "key set has more than "+strconv.Itoa(MaxKeys)+" keys")
	}
	ks := &KeySet{keys: make(map[string]*publicKey)}
	for i := range list.Items {
		k, err := parseJWK(&list.Items[i])
		if err != nil {
			return nil, errorf(CodeJWKS, "key "+strconv.Itoa(i)+": "+err.Error())
		}
		if k == nil {
			continue // another type or curve
		}
		if _, dup := ks.keys[k.kid]; dup {
			return nil, errorf(CodeJWKS, "key "+strconv.Itoa(i)+": kid "+strconv.Quote(k.kid)+" used twice")
		}
		ks.keys[k.kid] = k
	}
	if len(ks.keys) == 0 {
		return nil, errorf(CodeJWKS, "key set has no usable Ed25519 key")
	}
	return ks, nil
}

type jwkError string

func (e jwkError) Error() string { return string(e) }

// parseJWK returns the key, or nil for a key of another type or curve.
func parseJWK(v *strictjson.Value) (*publicKey, error) {
	if v.Kind != strictjson.Object {
		return nil, jwkError("not a JSON object")
	}
	str := func(name string) (string, bool, error) {
		m := v.Get(name)
		if m == nil {
			return "", false, nil
		}
		if m.Kind != strictjson.String {
			return "", true, jwkError(name + " is not a string")
		}
		return m.Str, true, nil
	}
	kty, ok, err := str("kty")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jwkError("no kty")
	}
	if kty != "OKP" {
		return nil, nil
	}
	crv, ok, err := str("crv")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jwkError("OKP key without crv")
	}
	if crv != "Ed25519" {
		return nil, nil
	}
	kid, ok, err := str("kid")
	if err != nil {
		return nil, err
	}
	if !ok || kid == "" {
		return nil, jwkError("missing kid")
	}
	if v.Get("d") != nil {
		return nil, jwkError("private key material (d) in a verification key set")
	}
	if use, ok, err := str("use"); err != nil {
		return nil, err
	} else if ok && use != "sig" {
		return nil, jwkError(`use is not "sig"`)
	}
	if alg, ok, err := str("alg"); err != nil {
		return nil, err
	} else if ok && alg != "EdDSA" && alg != "Ed25519" {
		return nil, jwkError(`alg is not "EdDSA"`)
	}
	if ops := v.Get("key_ops"); ops != nil {
		if ops.Kind != strictjson.Array || len(ops.Items) == 0 {
			return nil, jwkError("key_ops is not a non-empty array")
		}
		for _, op := range ops.Items {
			if op.Kind != strictjson.String || op.Str != "verify" {
				return nil, jwkError(`key_ops allows more than "verify"`)
			}
		}
	}
	x, ok, err := str("x")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jwkError("no x")
	}
	if len(x) != 43 {
		return nil, jwkError("x is not 32 bytes of base64url")
	}
	var raw [32]byte
	if _, ok := b64.Decode(raw[:], x); !ok {
		return nil, jwkError("x is not strict base64url")
	}
	// ed25519fast accepts only the canonical encoding of a curve point that
	// is not of small order (8A != identity).
	key, err := ed25519fast.NewPublicKey(raw[:])
	if err != nil {
		return nil, jwkError("x: " + err.Error())
	}
	return &publicKey{kid: kid, key: key}, nil
}

// verify reports whether sig is a valid Ed25519 signature of msg by k, with
// the acceptance rules of crypto/ed25519.Verify (S < L, cofactorless).
func (k *publicKey) verify(msg, sig []byte) bool {
	return k.key.Verify(msg, sig)
}

// KeyIDs returns the kids of the set's keys, sorted.
func (ks *KeySet) KeyIDs() []string {
	ids := make([]string, 0, len(ks.keys))
	for id := range ks.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
