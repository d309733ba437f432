package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
)

func init() {
	register("verify", command{summary: "verify a token and print the result as JSON", run: runVerify,
		synopsis: "--jwks FILE|URL --issuer ISS --audience AUD (--nonce N | --no-nonce) [--now UNIX] [TOKEN]"})
}

// verifyResult is what verify prints on success, in this member order.
type verifyResult struct {
	Status int    `json:"status"`
	Sub    string `json:"sub"`
	Jti    string `json:"jti"`
	Iat    int64  `json:"iat"`
	Exp    int64  `json:"exp"`
	Kid    string `json:"kid"`
	Nmh    string `json:"nmh,omitempty"`
}

type failure struct {
	Code    kycvs.Code `json:"code"`
	Message string     `json:"message"`
}

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stderr)
	jwksFrom := fs.String("jwks", "", "the key set: a file, or an http(s) URL")
	issuer := fs.String("issuer", "", "the expected issuer (iss)")
	audience := fs.String("audience", "", "the expected audience (aud): your client id")
	nonce := fs.String("nonce", "", "the expected nonce of the transaction (required unless --no-nonce)")
	noNonce := fs.Bool("no-nonce", false, "do not check the nonce: only where it cannot be known")
	now := fs.Int64("now", 0, "verify at this Unix time instead of the clock")
	leeway := fs.Duration("leeway", kycvs.DefaultLeeway, "allowed clock skew")
	if !parseFlags(fs, args, stderr) || !requireFlags(fs, stderr, "jwks", "issuer", "audience") {
		return 2
	}
	if *jwksFrom == "" || *issuer == "" || *audience == "" || fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	// The nonce binds the token to one transaction: leaving it out is a
	// choice made by name, never a default.
	if (*nonce == "") == !*noNonce {
		fmt.Fprintln(stderr, "kycvs verify: give the transaction's --nonce N, or --no-nonce to skip the check (not both)")
		return 2
	}
	nowSet := false
	fs.Visit(func(f *flag.Flag) { nowSet = nowSet || f.Name == "now" })
	var token string
	if fs.NArg() == 1 {
		token = fs.Arg(0)
	} else {
		// Read one byte more than a token may hold plus its newline, so an
		// oversized token is reported as ERR_TOO_LARGE without reading on.
		b, err := io.ReadAll(io.LimitReader(stdin, kycvs.MaxTokenSize+3))
		if err != nil {
			fmt.Fprintln(stderr, "kycvs verify: reading the token:", err)
			return 2
		}
		s := string(b)
		if strings.HasSuffix(s, "\r\n") {
			s = s[:len(s)-2]
		} else if strings.HasSuffix(s, "\n") {
			s = s[:len(s)-1]
		}
		token = s
	}
	out := json.NewEncoder(stdout)
	fail := func(err error) int {
		f := failure{Code: kycvs.CodeJWKS, Message: err.Error()} // an unreadable key set
		var e *kycvs.Error
		if errors.As(err, &e) {
			f = failure{Code: e.Code, Message: e.Message}
		}
		out.Encode(f)
		return 1
	}
	jwks, err := readJWKS(*jwksFrom)
	if err != nil {
		return fail(err)
	}
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		return fail(err)
	}
	opts := []kycvs.Option{kycvs.WithLeeway(*leeway)}
	if *noNonce {
		opts = append(opts, kycvs.WithoutNonce())
	}
	v, err := kycvs.NewVerifier(ks, *issuer, *audience, opts...)
	if err != nil {
		return fail(err)
	}
	at := time.Now()
	if nowSet {
		at = time.Unix(*now, 0)
	}
	tok, err := v.VerifyAt(token, *nonce, at)
	if err != nil {
		return fail(err)
	}
	r := verifyResult{Status: int(tok.Status), Sub: tok.Subject, Jti: tok.ID, Iat: tok.IssuedAt, Exp: tok.Expires, Kid: tok.KeyID}
	if tok.NameHash != nil {
		r.Nmh = b64.Encode(tok.NameHash)
	}
	out.Encode(r)
	return 0
}

// readJWKS reads a key set from a file or an http(s) URL, at most one byte
// more than kycvs.MaxKeySetSize so the parser reports an oversized set.
func readJWKS(from string) ([]byte, error) {
	limit := int64(kycvs.MaxKeySetSize + 1)
	if strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://") {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(from)
		if err != nil {
			return nil, &kycvs.Error{Code: kycvs.CodeJWKS, Message: "fetching the key set: " + err.Error()}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, &kycvs.Error{Code: kycvs.CodeJWKS, Message: "fetching the key set: HTTP " + resp.Status}
		}
		return io.ReadAll(io.LimitReader(resp.Body, limit))
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, &kycvs.Error{Code: kycvs.CodeJWKS, Message: "reading the key set: " + err.Error()}
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(io.LimitReader(f, limit))
	return buf.Bytes(), err
}
