//go:build !js

package kycvs

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/kycvs/kycvs/internal/b64"
)

// The issuer's helpers: name normalisation and binding, pairwise subjects,
// fresh token ids and nonces. Name normalisation needs Unicode tables
// (x/text) whose start-up and size the WebAssembly verifier should not pay
// for, and a verifier never needs any of these, so, like Signer, they are
// not built for GOOS=js.

var caseFolder = cases.Fold()

// NormalizeName returns name as names are compared: NFKC-normalised, case
// folded, trimmed, with each inner run of white space collapsed to one space.
func NormalizeName(name string) string {
	s := norm.NFKC.String(name)
	s = caseFolder.String(s)
	s = norm.NFKC.String(s)
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// NameHash returns the 16-byte name binding (nmh) of name for nonce: the
// first 16 bytes of SHA-256("kycvs-nmh-v1" ‖ 0x00 ‖ nonce ‖ 0x00 ‖
// NormalizeName(name)).
func NameHash(nonce, name string) []byte {
	h := sha256.New()
	h.Write([]byte("kycvs-nmh-v1\x00"))
	h.Write([]byte(nonce))
	h.Write([]byte{0})
	h.Write([]byte(NormalizeName(name)))
	return h.Sum(nil)[:16]
}

// PairwiseSubject returns the sub of a beneficiary for one verifying entity:
// base64url(HMAC-SHA256(secret, beneficiaryID ‖ 0x00 ‖ audience)) cut to 22
// characters. It is stable for one audience and unlinkable across two.
func PairwiseSubject(secret []byte, beneficiaryID, audience string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(beneficiaryID))
	m.Write([]byte{0})
	m.Write([]byte(audience))
	return b64.Encode(m.Sum(nil))[:22]
}

// NewTokenID returns a fresh jti: 128 random bits, base64url (22 characters).
func NewTokenID() string { return random22() }

// NewNonce returns a fresh nonce of 128 random bits (22 characters), for
// callers that bring none.
func NewNonce() string { return random22() }

func random22() string {
	var b [16]byte
	rand.Read(b[:])
	return b64.Encode(b[:])
}
