package kycvs

import "github.com/kycvs/kycvs/internal/wire"

// MaxTokenSize is the longest token, in bytes, a verifier reads.
const MaxTokenSize = 4096

// MaxLifetime is the longest a token may live (exp - iat), in seconds.
const MaxLifetime = wire.MaxLifetime

// MaxTime is the largest iat, exp or verification time, in Unix seconds:
// 2^53-1, exact in a JavaScript number. A Verifier's clock must read
// within [0, MaxTime] (Verify fails with CodeConfig otherwise), the same
// range in Go, WebAssembly and JavaScript.
const MaxTime = wire.MaxTime

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
