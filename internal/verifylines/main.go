// Command verifylines verifies one case per line of standard input with the
// native Go verifier and prints one answer per line, for the differential
// test of verifierjs (verifierjs/test/differential.test.js): the same
// random cases go through the Go core natively and through the WebAssembly
// build behind verifierjs, and the answers must be identical.
//
// A case is {"jwks","issuer","audience","leeway"?,"no_nonce"?,"nonce","now","token"},
// built as a Go integrator would: ParseKeySet, NewVerifier (WithLeeway,
// WithoutNonce), VerifyAt(token, nonce, time.Unix(now, 0)). An answer is
// {"code"} or {"status","sub","jti","iat","exp","kid","nmh"?}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
)

type input struct {
	JWKS     string  `json:"jwks"`
	Issuer   string  `json:"issuer"`
	Audience string  `json:"audience"`
	Leeway   *int64  `json:"leeway"`
	NoNonce  bool    `json:"no_nonce"`
	Nonce    string  `json:"nonce"`
	Now      float64 `json:"now"`
	Token    string  `json:"token"`
}

type answer struct {
	Code   kycvs.Code `json:"code,omitempty"`
	Status *int       `json:"status,omitempty"`
	Sub    string     `json:"sub,omitempty"`
	Jti    string     `json:"jti,omitempty"`
	Iat    int64      `json:"iat,omitempty"`
	Exp    int64      `json:"exp,omitempty"`
	Kid    string     `json:"kid,omitempty"`
	Nmh    string     `json:"nmh,omitempty"`
}

func run(in *input) answer {
	ks, err := kycvs.ParseKeySet([]byte(in.JWKS))
	if err != nil {
		return answer{Code: kycvs.CodeOf(err)}
	}
	var opts []kycvs.Option
	if in.Leeway != nil {
		opts = append(opts, kycvs.WithLeeway(time.Duration(*in.Leeway)*time.Second))
	}
	if in.NoNonce {
		opts = append(opts, kycvs.WithoutNonce())
	}
	v, err := kycvs.NewVerifier(ks, in.Issuer, in.Audience, opts...)
	if err != nil {
		return answer{Code: kycvs.CodeOf(err)}
	}
	// Unix seconds with a fraction, as a Go caller would make a time.Time
	// of them (the cases stay within ±2^62, where that is exact enough).
	sec := math.Floor(in.Now)
	t, err := v.VerifyAt(in.Token, in.Nonce, time.Unix(int64(sec), int64((in.Now-sec)*1e9)))
	if err != nil {
		return answer{Code: kycvs.CodeOf(err)}
	}
	status := int(t.Status)
	a := answer{Status: &status, Sub: t.Subject, Jti: t.ID, Iat: t.IssuedAt, Exp: t.Expires, Kid: t.KeyID}
	if t.NameHash != nil {
		a.Nmh = b64.Encode(t.NameHash)
	}
	return a
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		var in input
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			fmt.Fprintln(os.Stderr, "verifylines:", err)
			os.Exit(2)
		}
		if err := enc.Encode(run(&in)); err != nil {
			fmt.Fprintln(os.Stderr, "verifylines:", err)
			os.Exit(2)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "verifylines:", err)
		os.Exit(2)
	}
	if err := w.Flush(); err != nil {
		os.Exit(2)
	}
}
