package kycvs

import (
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/kycvs/kycvs/internal/b64"
	"github.com/kycvs/kycvs/internal/wire"
)

// DefaultLeeway is the clock skew a Verifier allows unless told otherwise.
const DefaultLeeway = 60 * time.Second

// MaxLeeway is the largest leeway a Verifier accepts.
const MaxLeeway = time.Hour

// AlgEdDSA is the only signature algorithm of token format v1.
const AlgEdDSA = "EdDSA"

const signatureSize = 64 // Ed25519

// Verifier checks tokens for one issuer and one audience against a key set,
// locally and in the fixed order of SPEC.md §5. It is safe for concurrent use.
type Verifier struct {
	keys     *KeySet
	issuer   string
	audience string
	o        options
}

type options struct {
	leeway int64 // seconds
	now    func() time.Time
	algs   []string
	// noNonce: Verify with an empty nonce skips the nonce check instead of
	// failing with CodeConfig (WithoutNonce).
	noNonce bool
	err     *Error
}

// An Option changes a Verifier's defaults.
type Option func(*options)

// WithLeeway sets the clock skew allowed on exp and iat, from 0 to MaxLeeway
// (default DefaultLeeway). It is counted in whole seconds.
func WithLeeway(d time.Duration) Option {
	return func(o *options) {
		if d < 0 || d > MaxLeeway {
			o.err = errorf(CodeConfig, "leeway must be between 0 and 1h")
			return
		}
		o.leeway = int64(d / time.Second)
	}
}

// WithClock sets the clock used by Verify (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now == nil {
			o.err = errorf(CodeConfig, "clock is nil")
			return
		}
		o.now = now
	}
}

// WithAlgorithms sets the allow-list of signature algorithms (default
// EdDSA, the only one of format v1). An empty list or an unknown name is
// CodeConfig.
func WithAlgorithms(algs ...string) Option {
	return func(o *options) {
		if len(algs) == 0 {
			o.err = errorf(CodeConfig, "the algorithm allow-list is empty")
			return
		}
		for _, a := range algs {
			if a != AlgEdDSA {
				o.err = errorf(CodeConfig, "unsupported algorithm "+a+" (only EdDSA)")
				return
			}
		}
		o.algs = append([]string(nil), algs...)
	}
}

// WithoutNonce lets Verify be called with an empty nonce, which then skips
// the nonce check. Without it an empty nonce is CodeConfig: a token bound to
// another transaction must not pass because a caller forgot its nonce. Use it
// only where the nonce cannot be known, as at an edge gate in front of an
// origin that checks the nonce itself. A non-empty nonce is still compared.
func WithoutNonce() Option {
	return func(o *options) { o.noNonce = true }
}

// NewVerifier returns a Verifier for tokens of issuer addressed to audience,
// signed by a key of keys. Issuer and audience are required: non-empty
// valid UTF-8 of at most MaxTokenSize bytes (CodeConfig otherwise).
func NewVerifier(keys *KeySet, issuer, audience string, opts ...Option) (*Verifier, error) {
	if keys == nil || len(keys.keys) == 0 {
		return nil, errorf(CodeJWKS, "no key set")
	}
	o, err := verifierOptions(issuer, audience, opts)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys, issuer: issuer, audience: audience, o: o}, nil
}

// verifierOptions checks what NewVerifier and NewRemoteVerifier are given
// besides the keys, in this order, and applies opts.
func verifierOptions(issuer, audience string, opts []Option) (options, error) {
	o := options{leeway: int64(DefaultLeeway / time.Second), now: time.Now, algs: []string{AlgEdDSA}}
	if issuer == "" {
		return o, errorf(CodeConfig, "the expected issuer is required")
	}
	if audience == "" {
		return o, errorf(CodeConfig, "the expected audience is required")
	}
	// A token holds at most MaxTokenSize bytes of valid UTF-8, so an issuer
	// or audience beyond either could never match: a mistake, said at once.
	for _, f := range [...]struct{ name, v string }{{"issuer", issuer}, {"audience", audience}} {
		if len(f.v) > MaxTokenSize {
			return o, errorf(CodeConfig, "the expected "+f.name+" is longer than 4096 bytes")
		}
		if !utf8.ValidString(f.v) {
			return o, errorf(CodeConfig, "the expected "+f.name+" is not valid UTF-8")
		}
	}
	for _, opt := range opts {
		opt(&o)
		if o.err != nil {
			return o, o.err
		}
	}
	return o, nil
}

// Token is a verified token: its claims and the kid of the key that signed it.
type Token struct {
	KeyID string
	Claims
}

// Verify checks token at the Verifier's clock; the token's nonce must equal
// nonce. An empty nonce is CodeConfig, unless the Verifier was built with
// WithoutNonce, which skips the check for an empty nonce. Every failure is an
// *Error whose Code names the first check that failed.
func (v *Verifier) Verify(token, nonce string) (*Token, error) {
	return v.VerifyAt(token, nonce, v.o.now())
}

// VerifyAt is Verify at the time now instead of the Verifier's clock.
// now must lie within [0, MaxTime] Unix seconds (CodeConfig otherwise), the
// range every runtime accepts.
func (v *Verifier) VerifyAt(token, nonce string, now time.Time) (*Token, error) {
	if nonce == "" && !v.o.noNonce {
		return nil, errorf(CodeConfig, "a nonce is required (kycvs.WithoutNonce opts out)")
	}
	t := now.Unix()
	if t < 0 || t > wire.MaxTime {
		return nil, errorf(CodeConfig, "the clock is outside 0..2^53-1 Unix seconds")
	}
	if len(token) > MaxTokenSize {
		return nil, errorf(CodeTooLarge, "token longer than 4096 bytes")
	}
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return nil, errorf(CodeMalformed, "token is not three segments")
	}
	d2 := d1 + 1 + strings.IndexByte(token[d1+1:], '.')
	if d2 == d1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return nil, errorf(CodeMalformed, "token is not three segments")
	}
	hs, ps, ss := token[:d1], token[d1+1:d2], token[d2+1:]
	if hs == "" || ps == "" || ss == "" {
		return nil, errorf(CodeMalformed, "token has an empty segment")
	}
	var buf [MaxTokenSize]byte
	hn, ok1 := b64.Decode(buf[:], hs)
	pn, ok2 := b64.Decode(buf[hn:], ps)
	sn, ok3 := b64.Decode(buf[hn+pn:], ss)
	if !ok1 || !ok2 || !ok3 {
		return nil, errorf(CodeMalformed, "a segment is not strict unpadded base64url")
	}
	header, payload, sig := buf[:hn], buf[hn:hn+pn], buf[hn+pn:hn+pn+sn]

	h, err := wire.ParseHeader(header)
	if err != nil {
		return nil, errorf(CodeMalformed, "protected header: "+err.Error())
	}
	if !v.algAllowed(h.Alg) {
		return nil, errorf(CodeAlg, "algorithm "+h.Alg+" is not allowed")
	}
	if h.Typ != TokenType {
		return nil, errorf(CodeType, "typ is not "+TokenType)
	}
	key := v.keys.keys[h.Kid]
	if key == nil {
		return nil, errorf(CodeKIDUnknown, "no key with this kid in the key set")
	}
	if len(sig) != signatureSize {
		return nil, errorf(CodeSignature, "signature is not 64 bytes")
	}
	// ed25519.Verify neither keeps nor changes the message, so the signing
	// input is read in place instead of copied out of the token.
	signingInput := unsafe.Slice(unsafe.StringData(token), d2)
	if !key.verify(signingInput, sig) {
		return nil, errorf(CodeSignature, "signature does not verify")
	}
	w, err := wire.DecodeClaims(payload)
	if err != nil {
		return nil, errorf(CodeClaims, err.Error())
	}
	if w.Iss != v.issuer {
		return nil, errorf(CodeIssuer, "issuer differs")
	}
	if w.Aud != v.audience {
		return nil, errorf(CodeAudience, "audience differs")
	}
	if t > w.Exp+v.o.leeway {
		return nil, errorf(CodeExpired, "token expired")
	}
	if t < w.Iat-v.o.leeway {
		return nil, errorf(CodeNotYetValid, "token not yet valid")
	}
	if nonce != "" && w.Nonce != nonce {
		return nil, errorf(CodeNonce, "nonce differs")
	}
	return &Token{KeyID: key.kid, Claims: claimsFromWire(&w)}, nil
}

func (v *Verifier) algAllowed(alg string) bool {
	for _, a := range v.o.algs {
		if a == alg {
			return true
		}
	}
	return false
}
