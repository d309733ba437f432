package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kycvs/kycvs"
)

func init() {
	register("sign", command{summary: "sign a token with a key file (for integrators' tests)", run: runSign,
		synopsis: "--key FILE --issuer ISS --audience AUD --status N --nonce N [--ttl 5m] [--sub S] [--name NAME] [--now UNIX]"})
	register("keys generate", command{summary: "write a new Ed25519 key file and print its public JWKS", run: runKeysGenerate,
		synopsis: "--out FILE"})
}

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign", stderr)
	keyFile := fs.String("key", "", "the private key file (a JWK, as written by kycvs keys generate)")
	issuer := fs.String("issuer", "", "iss")
	audience := fs.String("audience", "", "aud: the verifying entity's client id")
	status := fs.Int("status", -1, "vs: 0, 1 or 2")
	nonce := fs.String("nonce", "", "the transaction's nonce: 8-128 characters of [A-Za-z0-9_-]")
	ttl := fs.Duration("ttl", 5*time.Minute, "lifetime, at most 1h")
	sub := fs.String("sub", "", "sub (default: a random pairwise-looking subject)")
	name := fs.String("name", "", "bind the token to this name (nmh)")
	now := fs.Int64("now", 0, "iat as Unix time instead of the clock")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if !requireFlags(fs, stderr, "key", "issuer", "audience", "status", "nonce") {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	if *status > 2 || !kycvs.ValidNonce(*nonce) || *ttl < time.Second || *ttl > kycvs.MaxLifetime*time.Second {
		fmt.Fprintln(stderr, "kycvs sign: --status must be 0, 1 or 2, --nonce 8-128 characters of [A-Za-z0-9_-], --ttl between 1s and 1h")
		return 2
	}
	data, err := os.ReadFile(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "kycvs sign:", err)
		return 1
	}
	s, err := kycvs.ParseSigner(data)
	if err != nil {
		fmt.Fprintln(stderr, "kycvs sign:", err)
		return 1
	}
	iat := time.Now().Unix()
	if *now != 0 {
		iat = *now
	}
	c := kycvs.Claims{Issuer: *issuer, Subject: *sub, Audience: *audience, IssuedAt: iat,
		Expires: iat + int64(*ttl/time.Second), ID: kycvs.NewTokenID(), Nonce: *nonce, Status: kycvs.Status(*status)}
	if c.Subject == "" {
		c.Subject = kycvs.NewTokenID()
	}
	if *name != "" {
		c.NameHash = kycvs.NameHash(*nonce, *name)
	}
	token, err := s.Sign(&c)
	if err != nil {
		fmt.Fprintln(stderr, "kycvs sign:", err)
		return 1
	}
	fmt.Fprintln(stdout, token)
	return 0
}

func runKeysGenerate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("keys generate", stderr)
	out := fs.String("out", "", "where to write the private key file (mode 0600; an existing file is never overwritten)")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if !requireFlags(fs, stderr, "out") {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	s, err := kycvs.GenerateSigner()
	if err != nil {
		fmt.Fprintln(stderr, "kycvs keys generate:", err)
		return 1
	}
	priv, err := s.MarshalPrivateJWK()
	if err != nil {
		fmt.Fprintln(stderr, "kycvs keys generate:", err)
		return 1
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "kycvs keys generate: %s exists; not overwriting a key\n", *out)
		} else {
			fmt.Fprintln(stderr, "kycvs keys generate:", err)
		}
		return 1
	}
	if _, err := f.Write(append(priv, '\n')); err != nil {
		f.Close()
		os.Remove(*out)
		fmt.Fprintln(stderr, "kycvs keys generate:", err)
		return 1
	}
	if err := f.Sync(); err != nil || f.Close() != nil {
		os.Remove(*out)
		fmt.Fprintln(stderr, "kycvs keys generate: writing the key failed")
		return 1
	}
	jwks, err := kycvs.PublicJWKS(s.PublicKey())
	if err != nil {
		fmt.Fprintln(stderr, "kycvs keys generate:", err)
		return 1
	}
	fmt.Fprintln(stdout, string(jwks))
	return 0
}
