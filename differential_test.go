package kycvs_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/wire"
)

// goJoseVerify parses token with go-jose (EdDSA only) against the vector's
// key set and returns the verified payload, or nil.
func goJoseVerify(t testing.TB, jwksText, token string) []byte {
	// Keys go-jose cannot load (the garbage RSA and EC keys some vectors
	// carry to be skipped) are left out one by one, as we skip them.
	var doc struct{ Keys []json.RawMessage }
	if json.Unmarshal([]byte(jwksText), &doc) != nil {
		return nil
	}
	var set jose.JSONWebKeySet
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) == nil {
			set.Keys = append(set.Keys, k)
		}
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return nil
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return nil
	}
	return payload
}

func randomClaims(r *rand.Rand) kycvs.Claims {
	iat := r.Int64N(1 << 40)
	c := kycvs.Claims{
		Issuer:   "https://issuer-" + strings.Repeat("x", r.IntN(40)) + ".example",
		Subject:  kycvs.PairwiseSubject([]byte("secret"), strings.Repeat("1", 1+r.IntN(14)), "aud"),
		Audience: "aud-" + strings.Repeat("é", r.IntN(10)),
		IssuedAt: iat,
		Expires:  iat + 1 + r.Int64N(kycvs.MaxLifetime),
		ID:       kycvs.NewTokenID(),
		Nonce:    kycvs.NewNonce(),
		Status:   kycvs.Status(r.IntN(3)),
	}
	if r.IntN(2) == 0 {
		c.NameHash = kycvs.NameHash(c.Nonce, "Asha Devi")
	}
	return c
}

// TestSignerAcceptedByGoJose: every token the Signer makes is accepted by
// go-jose, its payload decodes with the generated msgp code to the same
// claims, and our verifier returns the same claims.
func TestSignerAcceptedByGoJose(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		s, err := kycvs.GenerateSigner()
		if err != nil {
			t.Fatal(err)
		}
		c := randomClaims(r)
		tok, err := s.Sign(&c)
		if err != nil {
			t.Fatal(err)
		}
		jwks, err := kycvs.PublicJWKS(s.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		payload := goJoseVerify(t, string(jwks), tok)
		if payload == nil {
			t.Fatalf("go-jose rejects %s", tok)
		}
		var w wire.Claims
		if rest, err := w.UnmarshalMsg(payload); err != nil || len(rest) != 0 {
			t.Fatalf("generated decoder: %v, %d trailing", err, len(rest))
		}
		if w.Iss != c.Issuer || w.Sub != c.Subject || w.Aud != c.Audience || w.Iat != c.IssuedAt ||
			w.Exp != c.Expires || w.Jti != c.ID || w.Nonce != c.Nonce || w.Vs != int64(c.Status) || !bytes.Equal(w.Nmh, c.NameHash) {
			t.Fatalf("go-jose payload %+v, signed %+v", w, c)
		}
		ks, err := kycvs.ParseKeySet(jwks)
		if err != nil {
			t.Fatal(err)
		}
		v, err := kycvs.NewVerifier(ks, c.Issuer, c.Audience)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.VerifyAt(tok, c.Nonce, time.Unix(c.IssuedAt, 0))
		if err != nil {
			t.Fatal(err)
		}
		if got.KeyID != s.KeyID() || got.Status != c.Status || got.Subject != c.Subject || !bytes.Equal(got.NameHash, c.NameHash) {
			t.Fatalf("verified %+v, signed %+v", got, c)
		}
	}
}

// TestAcceptedVectorsAcceptedByGoJose: whatever our verifier accepts,
// go-jose accepts too; we are never the more lenient one.
func TestAcceptedVectorsAcceptedByGoJose(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if _, err := runVector(&v); err != nil {
			continue
		}
		if goJoseVerify(t, v.JWKS, v.Token) == nil {
			t.Errorf("%s: we accept, go-jose rejects", v.Name)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d accepted vectors", n)
	}
}

// TestStricterThanGoJose lists what go-jose v4 accepts and we reject. If
// go-jose tightens, the test says so and the list shrinks. (v4.1.9 already
// refuses small-order keys; earlier v4 releases loaded them.)
func TestStricterThanGoJose(t *testing.T) {
	vs := map[string]*vector{}
	all := loadVectors(t)
	for i := range all {
		vs[all[i].Name] = &all[i]
	}
	for _, name := range []string{
		"malformed-header-crit",         // crit: []
		"malformed-crlf-in-segment",     // CR/LF inside a segment
		"malformed-nonzero-unused-bits", // non-canonical base64
		"too-large-4097-bytes",          // any size
		"jwks-duplicate-kid",            // takes the first key
		"jwks-x-non-canonical",          // loads a key encoded with y >= p
		"jwks-x-not-on-curve",           // loads bytes that are no curve point
	} {
		v := vs[name]
		if v == nil {
			t.Fatalf("no vector %s", name)
		}
		if _, err := runVector(v); err == nil {
			t.Errorf("%s: we accept", name)
		}
		if strings.HasPrefix(name, "jwks-x-") {
			// go-jose loads the key; that is the leniency.
			var set jose.JSONWebKeySet
			if err := json.Unmarshal([]byte(v.JWKS), &set); err != nil {
				t.Errorf("%s: go-jose rejects the key set now: %v", name, err)
			}
			continue
		}
		if goJoseVerify(t, v.JWKS, v.Token) == nil {
			t.Errorf("%s: go-jose rejects it now", name)
		}
	}
}

// TestSmallOrderKeyRejected shows why small-order keys are refused: with the
// identity as public key, R = identity and S = 0 satisfy the verification
// equation for every message.
func TestSmallOrderKeyRejected(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	sig := make([]byte, 64)
	copy(sig, identity) // R = identity, S = 0
	if !ed25519.Verify(identity, []byte("any message at all"), sig) {
		t.Fatal("crypto/ed25519 no longer accepts the forgery: update this test's explanation")
	}
	if _, err := kycvs.ParseKeySet([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`)); kycvs.CodeOf(err) != kycvs.CodeJWKS {
		t.Fatalf("got %v, want ERR_JWKS", err)
	}
}
