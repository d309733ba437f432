package kycvs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
)

// vector is one file of testdata/vectors (see its README.md).
type vector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	JWKS        string `json:"jwks"`
	Issuer      string `json:"issuer"`
	Audience    string `json:"audience"`
	Leeway      *int   `json:"leeway"`
	Nonce       string `json:"nonce"`
	NoNonce     bool   `json:"no_nonce"`
	Now         int64  `json:"now"`
	Token       string `json:"token"`
	Expect      struct {
		Code   string `json:"code"`
		Status *int   `json:"status"`
		Sub    string `json:"sub"`
		Jti    string `json:"jti"`
		Iat    int64  `json:"iat"`
		Exp    int64  `json:"exp"`
		Kid    string `json:"kid"`
		Nmh    string `json:"nmh"`
	} `json:"expect"`
}

func loadVectors(t testing.TB) []vector {
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 60 {
		t.Fatalf("only %d vectors in testdata/vectors", len(files))
	}
	var vs []vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Name+".json" != filepath.Base(f) {
			t.Fatalf("%s: name %q does not match the file", f, v.Name)
		}
		vs = append(vs, v)
	}
	return vs
}

// runVector builds a verifier as the vector says and verifies its token.
func runVector(v *vector) (*kycvs.Token, error) {
	ks, err := kycvs.ParseKeySet([]byte(v.JWKS))
	if err != nil {
		return nil, err
	}
	var opts []kycvs.Option
	if v.Leeway != nil {
		opts = append(opts, kycvs.WithLeeway(time.Duration(*v.Leeway)*time.Second))
	}
	if v.NoNonce {
		opts = append(opts, kycvs.WithoutNonce())
	}
	ver, err := kycvs.NewVerifier(ks, v.Issuer, v.Audience, opts...)
	if err != nil {
		return nil, err
	}
	return ver.VerifyAt(v.Token, v.Nonce, time.Unix(v.Now, 0))
}

func TestVectors(t *testing.T) {
	codes := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			tok, err := runVector(&v)
			if v.Expect.Code != "" {
				codes[v.Expect.Code]++
				if got := kycvs.CodeOf(err); string(got) != v.Expect.Code {
					t.Fatalf("%s: got %v, want %s", v.Description, err, v.Expect.Code)
				}
				return
			}
			codes["ok"]++
			if err != nil {
				t.Fatalf("%s: %v", v.Description, err)
			}
			e := v.Expect
			if e.Status == nil || int(tok.Status) != *e.Status || tok.Subject != e.Sub || tok.ID != e.Jti ||
				tok.IssuedAt != e.Iat || tok.Expires != e.Exp || tok.KeyID != e.Kid {
				t.Fatalf("got %+v, want %+v", tok, e)
			}
			if got := ""; tok.NameHash != nil {
				got = b64.Encode(tok.NameHash)
				if got != e.Nmh {
					t.Fatalf("nmh %q, want %q", got, e.Nmh)
				}
			} else if e.Nmh != "" {
				t.Fatalf("no nmh, want %q", e.Nmh)
			}
		})
	}
	// Every code of the verification table and of construction has a vector.
	for _, c := range []kycvs.Code{kycvs.CodeTooLarge, kycvs.CodeMalformed, kycvs.CodeAlg, kycvs.CodeType,
		kycvs.CodeKIDUnknown, kycvs.CodeSignature, kycvs.CodeClaims, kycvs.CodeIssuer, kycvs.CodeAudience,
		kycvs.CodeExpired, kycvs.CodeNotYetValid, kycvs.CodeNonce, kycvs.CodeJWKS, kycvs.CodeConfig} {
		if codes[string(c)] == 0 {
			t.Errorf("no vector expects %s", c)
		}
	}
	if codes["ok"] < 10 {
		t.Errorf("only %d accepting vectors", codes["ok"])
	}
}

func TestVectorsDescribed(t *testing.T) {
	for _, v := range loadVectors(t) {
		if strings.TrimSpace(v.Description) == "" {
			t.Errorf("%s has no description", v.Name)
		}
	}
}
