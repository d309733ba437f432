//go:build !js

package kycvs

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"

	"github.com/go-jose/go-jose/v4"

	"github.com/kycvs/kycvs/internal/b64"
)

// Signer signs tokens with one Ed25519 key. It is safe for concurrent use.
//
// Signer is not built for GOOS=js: the WebAssembly verifier and the edge
// worker only verify, and leaving go-jose out keeps them small.
type Signer struct {
	priv ed25519.PrivateKey
	kid  string
	jose jose.Signer
}

// NewSigner returns a Signer for priv, whose tokens carry the key's RFC 7638
// thumbprint as kid.
func NewSigner(priv ed25519.PrivateKey) *Signer {
	kid := Thumbprint(priv.Public().(ed25519.PublicKey))
	opts := (&jose.SignerOptions{}).WithType(TokenType).WithHeader("kid", kid)
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, opts)
	if err != nil {
		panic("kycvs: go-jose rejected an Ed25519 key: " + err.Error())
	}
	return &Signer{priv: priv, kid: kid, jose: js}
}

// GenerateSigner returns a Signer for a new random key.
func GenerateSigner() (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv), nil
}

// ParseSigner reads a key file: a private OKP/Ed25519 JWK (RFC 8037) as
// written by MarshalPrivateJWK. Failures are CodeJWKS.
func ParseSigner(privateJWK []byte) (*Signer, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(privateJWK); err != nil {
		return nil, errorf(CodeJWKS, "key file is not a JWK: "+err.Error())
	}
	priv, ok := k.Key.(ed25519.PrivateKey)
	if !ok {
		return nil, errorf(CodeJWKS, "key file is not a private Ed25519 JWK")
	}
	return NewSigner(priv), nil
}

// MarshalPrivateJWK returns the private key as a JWK. It is a secret: store
// it with file mode 0600.
func (s *Signer) MarshalPrivateJWK() ([]byte, error) {
	k := jose.JSONWebKey{Key: s.priv, KeyID: s.kid, Algorithm: string(jose.EdDSA), Use: "sig"}
	return k.MarshalJSON()
}

// KeyID returns the key's kid, its RFC 7638 thumbprint.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey returns the verification key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Sign checks c with the rules a verifier applies to the payload (CodeClaims
// if it breaks one) and returns the signed token.
func (s *Signer) Sign(c *Claims) (string, error) {
	w := c.toWire()
	if err := w.Check(); err != nil {
		return "", errorf(CodeClaims, err.Error())
	}
	payload, err := w.MarshalMsg(nil)
	if err != nil {
		return "", errorf(CodeClaims, err.Error())
	}
	jws, err := s.jose.Sign(payload)
	if err != nil {
		return "", errorf(CodeSignature, "signing failed: "+err.Error())
	}
	return jws.CompactSerialize()
}

// Thumbprint returns the RFC 7638 JWK thumbprint of pub: base64url of the
// SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"…"}.
func Thumbprint(pub ed25519.PublicKey) string {
	t, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		panic("kycvs: thumbprint of an Ed25519 key: " + err.Error())
	}
	return b64.Encode(t)
}

// PublicJWKS returns a JWKS of the given verification keys, each with its
// thumbprint as kid, use "sig" and alg "EdDSA".
func PublicJWKS(keys ...ed25519.PublicKey) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: Thumbprint(k), Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	return json.Marshal(set)
}
