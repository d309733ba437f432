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
	"github.com/kycvs/kycvs/internal/wire"
)

// MaxTokenSize is the longest token, in bytes, a verifier reads.
const MaxTokenSize = 4096

// MaxLifetime is the longest a token may live (exp - iat), in seconds.
const MaxLifetime = wire.MaxLifetime

// TokenType is the typ header of every token, compared exactly.
const TokenType = wire.TokenType

// Claims is what a token says (SPEC.md §4). It never carries the mobile
// number, the name, dose dates or vaccine names.
type Claims struct {
	Issuer   string // iss: the issuer's base URL
	Subject  string // sub: pairwise pseudonymous subject, see PairwiseSubject
	Audience string // aud: the verifying entity's client id
	IssuedAt int64  // iat, Unix seconds
	Expires  int64  // exp, Unix seconds; IssuedAt < Expires <= IssuedAt+MaxLifetime
	ID       string // jti: at least 128 random bits, base64url; see NewTokenID
	Nonce    string // nonce: the verifying entity's, 8–128 characters of [A-Za-z0-9_-]
	Status   Status // vs
	NameHash []byte // nmh: nil, or the 16 bytes of NameHash(Nonce, name)
}

func (c *Claims) toWire() wire.Claims {
	return wire.Claims{Iss: c.Issuer, Sub: c.Subject, Aud: c.Audience, Iat: c.IssuedAt, Exp: c.Expires,
		Jti: c.ID, Nonce: c.Nonce, Vs: int64(c.Status), Nmh: c.NameHash}
}

func claimsFromWire(w *wire.Claims) Claims {
	return Claims{Issuer: w.Iss, Subject: w.Sub, Audience: w.Aud, IssuedAt: w.Iat, Expires: w.Exp,
		ID: w.Jti, Nonce: w.Nonce, Status: Status(w.Vs), NameHash: w.Nmh}
}

// ValidNonce reports whether s is a well-formed nonce: 8–128 characters of
// [A-Za-z0-9_-].
func ValidNonce(s string) bool { return wire.ValidNonce(s) }

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
