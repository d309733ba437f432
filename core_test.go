package kycvs_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
)

func testClaims(now int64) kycvs.Claims {
	return kycvs.Claims{Issuer: "https://issuer.example", Subject: "h2mF0X9q3kQ_Ygq8S1m0sA", Audience: "rail",
		IssuedAt: now, Expires: now + 300, ID: kycvs.NewTokenID(), Nonce: "nonce-0001", Status: kycvs.FullyVaccinated}
}

func newSignerAndVerifier(t *testing.T, opts ...kycvs.Option) (*kycvs.Signer, *kycvs.Verifier) {
	t.Helper()
	s, err := kycvs.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := kycvs.PublicJWKS(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := kycvs.NewVerifier(ks, "https://issuer.example", "rail", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func wantCode(t *testing.T, err error, code kycvs.Code) {
	t.Helper()
	if got := kycvs.CodeOf(err); got != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestKeySetSizeLimit(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	// White space after the object pads the document to the limit exactly.
	atLimit := string(jwks) + strings.Repeat(" ", kycvs.MaxKeySetSize-len(jwks))
	if _, err := kycvs.ParseKeySet([]byte(atLimit)); err != nil {
		t.Fatalf("a key set of exactly MaxKeySetSize bytes: %v", err)
	}
	_, err := kycvs.ParseKeySet([]byte(atLimit + " "))
	wantCode(t, err, kycvs.CodeJWKS)
}

func TestKeySetMaxKeys(t *testing.T) {
	var keys []string
	for i := 0; i < kycvs.MaxKeys; i++ {
		_, priv, _ := ed25519.GenerateKey(nil)
		pub := priv.Public().(ed25519.PublicKey)
		keys = append(keys, fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k%d","x":%q}`, i, b64.Encode(pub)))
	}
	ks, err := kycvs.ParseKeySet([]byte(`{"keys":[` + strings.Join(keys, ",") + `]}`))
	if err != nil {
		t.Fatalf("%d keys: %v", kycvs.MaxKeys, err)
	}
	if n := len(ks.KeyIDs()); n != kycvs.MaxKeys {
		t.Fatalf("%d keys loaded", n)
	}
	_, err = kycvs.ParseKeySet([]byte(`{"keys":[` + strings.Join(append(keys, `{"kty":"RSA"}`), ",") + `]}`))
	wantCode(t, err, kycvs.CodeJWKS)
}

func TestKeySetDeepNesting(t *testing.T) {
	deep := `{"keys":[],"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	_, err := kycvs.ParseKeySet([]byte(deep))
	wantCode(t, err, kycvs.CodeJWKS)
}

func TestNewVerifierConfig(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	cases := []struct {
		name string
		keys *kycvs.KeySet
		iss  string
		aud  string
		opts []kycvs.Option
		want kycvs.Code
	}{
		{"no key set", nil, "i", "a", nil, kycvs.CodeJWKS},
		{"no issuer", ks, "", "a", nil, kycvs.CodeConfig},
		{"no audience", ks, "i", "", nil, kycvs.CodeConfig},
		{"issuer over 4096 bytes", ks, strings.Repeat("i", 4097), "a", nil, kycvs.CodeConfig},
		{"audience over 4096 bytes", ks, "i", strings.Repeat("a", 4097), nil, kycvs.CodeConfig},
		{"issuer not UTF-8", ks, "https://issuer.test\xff", "a", nil, kycvs.CodeConfig},
		{"audience not UTF-8", ks, "i", "rail\xed\xa0\x80", nil, kycvs.CodeConfig},
		{"negative leeway", ks, "i", "a", []kycvs.Option{kycvs.WithLeeway(-time.Second)}, kycvs.CodeConfig},
		{"leeway over an hour", ks, "i", "a", []kycvs.Option{kycvs.WithLeeway(kycvs.MaxLeeway + time.Second)}, kycvs.CodeConfig},
		{"leeway of an hour", ks, "i", "a", []kycvs.Option{kycvs.WithLeeway(kycvs.MaxLeeway)}, ""},
		{"empty allow-list", ks, "i", "a", []kycvs.Option{kycvs.WithAlgorithms()}, kycvs.CodeConfig},
		{"unsupported algorithm", ks, "i", "a", []kycvs.Option{kycvs.WithAlgorithms("EdDSA", "RS256")}, kycvs.CodeConfig},
		{"nil clock", ks, "i", "a", []kycvs.Option{kycvs.WithClock(nil)}, kycvs.CodeConfig},
	}
	for _, c := range cases {
		_, err := kycvs.NewVerifier(c.keys, c.iss, c.aud, c.opts...)
		if kycvs.CodeOf(err) != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestVerifyUsesInjectedClock(t *testing.T) {
	const t0 = 1_800_000_000
	clock := time.Unix(t0, 0)
	s, v := newSignerAndVerifier(t, kycvs.WithClock(func() time.Time { return clock }), kycvs.WithLeeway(0))
	c := testClaims(t0)
	tok, err := s.Sign(&c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok, c.Nonce); err != nil {
		t.Fatal(err)
	}
	clock = time.Unix(c.Expires+1, 0)
	_, err = v.Verify(tok, c.Nonce)
	wantCode(t, err, kycvs.CodeExpired)
	clock = time.Unix(t0-1, 0)
	_, err = v.Verify(tok, c.Nonce)
	wantCode(t, err, kycvs.CodeNotYetValid)
}

func TestSignRejectsBadClaims(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	for name, mutate := range map[string]func(*kycvs.Claims){
		"status 3":          func(c *kycvs.Claims) { c.Status = 3 },
		"short nonce":       func(c *kycvs.Claims) { c.Nonce = "short" },
		"exp before iat":    func(c *kycvs.Claims) { c.Expires = c.IssuedAt },
		"lifetime too long": func(c *kycvs.Claims) { c.Expires = c.IssuedAt + kycvs.MaxLifetime + 1 },
		"empty issuer":      func(c *kycvs.Claims) { c.Issuer = "" },
		"nmh of 15 bytes":   func(c *kycvs.Claims) { c.NameHash = make([]byte, 15) },
	} {
		c := testClaims(1_800_000_000)
		mutate(&c)
		_, err := s.Sign(&c)
		if kycvs.CodeOf(err) != kycvs.CodeClaims {
			t.Errorf("%s: got %v, want ERR_CLAIMS", name, err)
		}
	}
}

func TestSignerKeyFileRoundTrip(t *testing.T) {
	s, _ := kycvs.GenerateSigner()
	file, err := s.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := kycvs.ParseSigner(file)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyID() != s.KeyID() || !s2.PublicKey().Equal(s.PublicKey()) {
		t.Fatal("key file does not round-trip")
	}
	pub, _ := kycvs.PublicJWKS(s.PublicKey())
	_, err = kycvs.ParseSigner(pub)
	wantCode(t, err, kycvs.CodeJWKS)
	_, err = kycvs.ParseSigner([]byte("not a key"))
	wantCode(t, err, kycvs.CodeJWKS)
}

// TestThumbprintRFC8037 checks the kid against RFC 8037 Appendix A.3.
func TestThumbprintRFC8037(t *testing.T) {
	x, _ := b64.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got := kycvs.Thumbprint(x); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint %s", got)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Asha Devi":           "asha devi",
		"  ASHA \t\n  devi  ": "asha devi",
		"Ａｓｈａ　Ｄｅｖｉ":           "asha devi", // full-width letters and space (NFKC)
		"STRASSE":             "strasse",
		"Straße":              "strasse", // case folding, not lower-casing
		"आशा  देवी":           "आशा देवी",
		"":                    "",
		"Ma\u0301ria":         "mária", // combining accent composed
	} {
		if got := kycvs.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameHash(t *testing.T) {
	h := sha256.Sum256([]byte("kycvs-nmh-v1\x00nonce-0001\x00asha devi"))
	got := kycvs.NameHash("nonce-0001", "  ASHA   Devi ")
	if string(got) != string(h[:16]) {
		t.Fatalf("NameHash = %x, want %x", got, h[:16])
	}
}

func TestPairwiseSubject(t *testing.T) {
	secret := []byte("issuer secret")
	a := kycvs.PairwiseSubject(secret, "12345678901234", "rail")
	if len(a) != 22 || !b64.Valid(a) {
		t.Fatalf("sub %q", a)
	}
	if a != kycvs.PairwiseSubject(secret, "12345678901234", "rail") {
		t.Fatal("not stable")
	}
	if a == kycvs.PairwiseSubject(secret, "12345678901234", "office") {
		t.Fatal("linkable across audiences")
	}
	if a == kycvs.PairwiseSubject([]byte("other"), "12345678901234", "rail") {
		t.Fatal("independent of the secret")
	}
	// The 0x00 separator keeps id/audience boundaries apart.
	if kycvs.PairwiseSubject(secret, "1", "2rail") == kycvs.PairwiseSubject(secret, "12", "rail") {
		t.Fatal("ambiguous concatenation")
	}
}

func TestErrors(t *testing.T) {
	_, v := newSignerAndVerifier(t)
	_, err := v.Verify("x", "nonce-0001")
	wrapped := fmt.Errorf("checking: %w", err)
	if kycvs.CodeOf(wrapped) != kycvs.CodeMalformed {
		t.Fatalf("CodeOf(wrapped) = %q", kycvs.CodeOf(wrapped))
	}
	if !errors.Is(wrapped, &kycvs.Error{Code: kycvs.CodeMalformed}) || errors.Is(wrapped, &kycvs.Error{Code: kycvs.CodeExpired}) {
		t.Fatal("errors.Is does not match by code")
	}
	if kycvs.CodeOf(errors.New("other")) != "" {
		t.Fatal("CodeOf of a foreign error")
	}
	if !strings.HasPrefix(err.Error(), "ERR_MALFORMED: ") {
		t.Fatalf("message %q", err)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[kycvs.Status]string{0: "not vaccinated", 1: "partially vaccinated", 2: "fully vaccinated", 3: "invalid status"} {
		if s.String() != want || s.Valid() != (s <= 2) {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

func TestNewTokenIDAndNonce(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := kycvs.NewTokenID()
		n := kycvs.NewNonce()
		if len(id) != 22 || !b64.Valid(id) || seen[id] || !kycvs.ValidNonce(n) {
			t.Fatalf("id %q nonce %q", id, n)
		}
		seen[id] = true
	}
}

// TestNonceRequired: an empty nonce is the caller's mistake (ERR_CONFIG)
// unless the Verifier opted out by name; an opted-out Verifier still
// compares a nonce it is given.
func TestNonceRequired(t *testing.T) {
	now := time.Now().Unix()
	c := testClaims(now)
	s, strict := newSignerAndVerifier(t)
	tok, err := s.Sign(&c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Verify(tok, ""); kycvs.CodeOf(err) != kycvs.CodeConfig {
		t.Fatalf("empty nonce: %v, want ERR_CONFIG", err)
	}
	if _, err := strict.Verify(tok, c.Nonce); err != nil {
		t.Fatal(err)
	}
	jwks, _ := kycvs.PublicJWKS(s.PublicKey())
	ks, _ := kycvs.ParseKeySet(jwks)
	open, err := kycvs.NewVerifier(ks, "https://issuer.example", "rail", kycvs.WithoutNonce())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Verify(tok, ""); err != nil {
		t.Fatalf("WithoutNonce, empty nonce: %v", err)
	}
	if _, err := open.Verify(tok, "another-nonce"); kycvs.CodeOf(err) != kycvs.CodeNonce {
		t.Fatalf("WithoutNonce, another nonce: %v, want ERR_NONCE", err)
	}
}

// TestClockRange: the clock must read within [0, MaxTime], in Go as in JS.
func TestClockRange(t *testing.T) {
	s, v := newSignerAndVerifier(t)
	c := testClaims(time.Now().Unix())
	tok, _ := s.Sign(&c)
	for _, at := range []time.Time{time.Unix(-1, 0), time.Unix(kycvs.MaxTime+1, 0), time.Unix(1<<62, 0)} {
		if _, err := v.VerifyAt(tok, c.Nonce, at); kycvs.CodeOf(err) != kycvs.CodeConfig {
			t.Fatalf("at %d: %v, want ERR_CONFIG", at.Unix(), err)
		}
	}
	if _, err := v.VerifyAt(tok, c.Nonce, time.Unix(kycvs.MaxTime, 0)); kycvs.CodeOf(err) != kycvs.CodeExpired {
		t.Fatalf("at MaxTime: %v, want ERR_EXPIRED", err)
	}
}
