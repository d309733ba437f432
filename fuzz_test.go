package kycvs_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
	"github.com/kycvs/kycvs/internal/wire"
)

var knownCodes = map[kycvs.Code]bool{
	kycvs.CodeTooLarge: true, kycvs.CodeMalformed: true, kycvs.CodeAlg: true, kycvs.CodeType: true,
	kycvs.CodeKIDUnknown: true, kycvs.CodeSignature: true, kycvs.CodeClaims: true, kycvs.CodeIssuer: true,
	kycvs.CodeAudience: true, kycvs.CodeExpired: true, kycvs.CodeNotYetValid: true, kycvs.CodeNonce: true,
}

// FuzzVerify: any string gets a result or an *Error with a verification
// code, never a panic, and whatever we accept go-jose accepts too.
func FuzzVerify(f *testing.F) {
	vs := loadVectors(f)
	var okv *vector
	for i := range vs {
		f.Add(vs[i].Token)
		if vs[i].Name == "ok-second-key" {
			okv = &vs[i]
		}
	}
	ks, err := kycvs.ParseKeySet([]byte(okv.JWKS))
	if err != nil {
		f.Fatal(err)
	}
	// Any token with any nonce: the nonce is checked when the token's own
	// is the one given, and not compared otherwise (WithoutNonce).
	v, err := kycvs.NewVerifier(ks, okv.Issuer, okv.Audience, kycvs.WithoutNonce())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := v.VerifyAt(token, "", time.Unix(okv.Now, 0))
		if err != nil {
			if !knownCodes[kycvs.CodeOf(err)] {
				t.Fatalf("error without a verification code: %v", err)
			}
			return
		}
		if !tok.Status.Valid() {
			t.Fatalf("accepted status %d", tok.Status)
		}
		if goJoseVerify(t, okv.JWKS, token) == nil {
			t.Fatalf("we accept %q, go-jose rejects it", token)
		}
	})
}

// FuzzParseKeySet: any bytes give a key set or ERR_JWKS, never a panic.
func FuzzParseKeySet(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.JWKS))
	}
	f.Fuzz(func(t *testing.T, jwks []byte) {
		ks, err := kycvs.ParseKeySet(jwks)
		if err != nil {
			if kycvs.CodeOf(err) != kycvs.CodeJWKS {
				t.Fatalf("error without ERR_JWKS: %v", err)
			}
			return
		}
		if len(ks.KeyIDs()) == 0 {
			t.Fatal("a key set with no key")
		}
	})
}

// FuzzDecodeClaims: any bytes decode or fail with a ClaimsError; whatever
// decodes encodes again (generated msgp code) and decodes to the same.
func FuzzDecodeClaims(f *testing.F) {
	for _, v := range loadVectors(f) {
		var p []byte
		for i, seg := range bytes.Split([]byte(v.Token), []byte(".")) {
			if i == 1 {
				p, _ = b64.DecodeString(string(seg))
			}
		}
		if p != nil {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := wire.DecodeClaims(payload)
		if err != nil {
			if _, ok := err.(wire.ClaimsError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		again, err := c.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := wire.DecodeClaims(again)
		if err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
		if c.Iss != c2.Iss || c.Sub != c2.Sub || c.Aud != c2.Aud || c.Iat != c2.Iat || c.Exp != c2.Exp ||
			c.Jti != c2.Jti || c.Nonce != c2.Nonce || c.Vs != c2.Vs || !bytes.Equal(c.Nmh, c2.Nmh) {
			t.Fatalf("%+v != %+v", c, c2)
		}
	})
}
