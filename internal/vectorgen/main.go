// Command vectorgen writes the shared test vectors of testdata/vectors: one
// JSON file per case, deterministic (fixed keys, fixed clock), run by the Go
// tests and by verifierjs alike. Run it with go generate from the module root.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"filippo.io/edwards25519"
	"github.com/tinylib/msgp/msgp"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
)

// Vector is one case. The file format is described in testdata/vectors/README.md.
type Vector struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	JWKS        string   `json:"jwks"`
	Issuer      string   `json:"issuer"`
	Audience    string   `json:"audience"`
	Leeway      *int     `json:"leeway,omitempty"`
	Nonce       string   `json:"nonce"`
	NoNonce     bool     `json:"no_nonce,omitempty"`
	Now         int64    `json:"now"`
	Token       string   `json:"token"`
	Expect      Expected `json:"expect"`
}

// Expected is either a code or a verified result.
type Expected struct {
	Code   string `json:"code,omitempty"`
	Status *int   `json:"status,omitempty"`
	Sub    string `json:"sub,omitempty"`
	Jti    string `json:"jti,omitempty"`
	Iat    int64  `json:"iat,omitempty"`
	Exp    int64  `json:"exp,omitempty"`
	Kid    string `json:"kid,omitempty"`
	Nmh    string `json:"nmh,omitempty"`
}

const (
	issuer   = "https://issuer.kycvs.example"
	audience = "railway-booking"
	nonce    = "n0nce-Tr4nsaction_42"
	iat      = 1_700_000_000
	exp      = iat + 300
	now      = iat + 10
	sub      = "h2mF0X9q3kQ_Ygq8S1m0sA"
	jti      = "qL3b1PZkQ0uV9nP6h0cW2g"
)

func seedKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("kycvs test vector key: " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

var (
	keyA = seedKey("A")
	keyB = seedKey("B")
	kidA = kycvs.Thumbprint(pub(keyA))
	kidB = kycvs.Thumbprint(pub(keyB))
)

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func jwk(k ed25519.PublicKey, kid string, extra string) string {
	return fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":%q,"x":%q%s}`, kid, b64.Encode(k), extra)
}

func jwksOf(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

var jwksA = jwksOf(jwk(pub(keyA), kidA, `,"use":"sig","alg":"EdDSA"`))
var jwksAB = jwksOf(jwk(pub(keyA), kidA, ""), jwk(pub(keyB), kidB, ""))

// claim is one key/value of a hand-built payload; raw is its encoded value.
type claim struct {
	key string
	raw []byte
}

func str(s string) []byte  { return msgp.AppendString(nil, s) }
func i64(v int64) []byte   { return msgp.AppendInt64(nil, v) }
func bin(b []byte) []byte  { return msgp.AppendBytes(nil, b) }
func u64(v uint64) []byte  { return msgp.AppendUint64(nil, v) }
func f64(v float64) []byte { return msgp.AppendFloat64(nil, v) }

// int64Wide encodes v as a MessagePack int64 (0xd3), the widest form.
func int64Wide(v int64) []byte {
	b := []byte{0xd3, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[1:], uint64(v))
	return b
}

func nmh() []byte { return kycvs.NameHash(nonce, "Asha Devi") }

func baseClaims(vs int64) []claim {
	return []claim{
		{"iss", str(issuer)}, {"sub", str(sub)}, {"aud", str(audience)},
		{"iat", i64(iat)}, {"exp", i64(exp)}, {"jti", str(jti)},
		{"nonce", str(nonce)}, {"vs", i64(vs)},
	}
}

func with(cs []claim, key string, raw []byte) []claim {
	out := append([]claim(nil), cs...)
	for i := range out {
		if out[i].key == key {
			out[i].raw = raw
			return out
		}
	}
	return append(out, claim{key, raw})
}

func without(cs []claim, key string) []claim {
	var out []claim
	for _, c := range cs {
		if c.key != key {
			out = append(out, c)
		}
	}
	return out
}

func payload(cs []claim) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(cs)))
	for _, c := range cs {
		b = msgp.AppendString(b, c.key)
		b = append(b, c.raw...)
	}
	return b
}

func header(kid string) string {
	return fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"kycvs+msgpack"}`, kid)
}

// sign builds a token from raw header JSON and payload bytes with key.
func sign(hdr string, p []byte, key ed25519.PrivateKey) string {
	input := b64.Encode([]byte(hdr)) + "." + b64.Encode(p)
	return input + "." + b64.Encode(ed25519.Sign(key, []byte(input)))
}

func good(cs []claim) string { return sign(header(kidA), payload(cs), keyA) }

func intp(v int) *int { return &v }

func okExpect(vs int, withNmh bool) Expected {
	e := Expected{Status: intp(vs), Sub: sub, Jti: jti, Iat: iat, Exp: exp, Kid: kidA}
	if withNmh {
		e.Nmh = b64.Encode(nmh())
	}
	return e
}

func fail(code kycvs.Code) Expected { return Expected{Code: string(code)} }

func main() {
	out := "testdata/vectors"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	vs := vectors()
	names := map[string]bool{}
	old, _ := filepath.Glob(filepath.Join(out, "*.json"))
	for _, f := range old {
		os.Remove(f)
	}
	for i := range vs {
		v := &vs[i]
		if names[v.Name] {
			log.Fatalf("duplicate vector name %s", v.Name)
		}
		names[v.Name] = true
		if v.JWKS == "" {
			v.JWKS = jwksA
		}
		if v.Issuer == "" && !strings.HasPrefix(v.Name, "config-") {
			v.Issuer = issuer
		}
		if v.Audience == "" && !strings.HasPrefix(v.Name, "config-") {
			v.Audience = audience
		}
		if v.Now == 0 {
			v.Now = now
		}
		// A verifier needs a nonce unless it opted out (no_nonce): cases
		// about something else expect the right one.
		if v.Nonce == "" && !v.NoNonce && !strings.HasPrefix(v.Name, "nonce-missing") {
			v.Nonce = nonce
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, v.Name+".json"), append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	sort.Strings(old)
	fmt.Printf("vectorgen: wrote %d vectors to %s\n", len(vs), out)
}

func vectors() []Vector {
	base := baseClaims(2)
	tok := good(base)
	segs := strings.Split(tok, ".")
	v := []Vector{
		// Accepted tokens.
		{Name: "ok-status-0", Description: "a valid token saying not vaccinated", Nonce: nonce, Token: good(baseClaims(0)), Expect: okExpect(0, false)},
		{Name: "ok-status-1", Description: "a valid token saying partially vaccinated", Nonce: nonce, Token: good(baseClaims(1)), Expect: okExpect(1, false)},
		{Name: "ok-status-2", Description: "a valid token saying fully vaccinated", Nonce: nonce, Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-with-nmh", Description: "the optional name binding is returned as base64url", Nonce: nonce, Token: good(with(base, "nmh", bin(nmh()))), Expect: okExpect(2, true)},
		{Name: "ok-no-nonce-opt-out", Description: "a verifier that opted out of the nonce check (Go WithoutNonce, JS checkNonce: false) does not compare an empty nonce", NoNonce: true, Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-unknown-key-unicode", Description: "an unknown key may be any non-empty UTF-8 string", Nonce: nonce, Token: good(with(base, "x-नाम", str("ignored"))), Expect: okExpect(2, false)},
		{Name: "ok-header-member-order", Description: "header members may come in any order", Nonce: nonce, Token: sign(fmt.Sprintf(`{"typ":"kycvs+msgpack","kid":%q,"alg":"EdDSA"}`, kidA), payload(base), keyA), Expect: okExpect(2, false)},
		{Name: "ok-header-whitespace", Description: "JSON white space inside the header is allowed", Nonce: nonce, Token: sign(fmt.Sprintf("{ \"alg\" : \"EdDSA\",\n\t\"kid\":%q , \"typ\":\"kycvs+msgpack\" }", kidA), payload(base), keyA), Expect: okExpect(2, false)},
		{Name: "ok-header-escapes", Description: "header strings are compared after JSON unescaping", Nonce: nonce, Token: sign(fmt.Sprintf(`{"\u0061lg":"\u0045dDSA","kid":%q,"typ":"kycvs\u002bmsgpack"}`, kidA), payload(base), keyA), Expect: okExpect(2, false)},
		{Name: "ok-unknown-claim-ignored", Description: "unknown claims are ignored", Nonce: nonce, Token: good(with(base, "x-extra", str("ignored"))), Expect: okExpect(2, false)},
		{Name: "ok-unknown-nested-claim", Description: "unknown claims may hold any MessagePack value", Nonce: nonce, Token: good(with(base, "x-nested", nested())), Expect: okExpect(2, false)},
		{Name: "ok-claim-order", Description: "claims may come in any order", Nonce: nonce, Token: good(reversed(base)), Expect: okExpect(2, false)},
		{Name: "ok-int-widths", Description: "int claims may use any MessagePack integer encoding", Nonce: nonce, Token: good(with(with(with(base, "iat", u64(iat)), "exp", int64Wide(exp)), "vs", []byte{0xd0, 2})), Expect: okExpect(2, false)},
		{Name: "ok-max-lifetime", Description: "exp = iat + 3600 is the longest lifetime", Nonce: nonce, Token: good(with(base, "exp", i64(iat+3600))), Expect: func() Expected { e := okExpect(2, false); e.Exp = iat + 3600; return e }()},
		{Name: "ok-expired-within-leeway", Description: "now = exp + leeway is still valid", Nonce: nonce, Now: exp + 60, Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-early-within-leeway", Description: "now = iat - leeway is already valid", Nonce: nonce, Now: iat - 60, Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-second-key", Description: "the kid selects the second key of the set", Nonce: nonce, JWKS: jwksAB, Token: sign(header(kidB), payload(base), keyB), Expect: func() Expected { e := okExpect(2, false); e.Kid = kidB; return e }()},
		{Name: "ok-other-key-types-skipped", Description: "RSA, EC and X25519 keys in the set are skipped", Nonce: nonce, JWKS: jwksOf(`{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}`, `{"kty":"EC","crv":"P-256","kid":"e","x":"AA","y":"AA"}`, `{"kty":"OKP","crv":"X25519","kid":"x","x":"AA"}`, jwk(pub(keyA), kidA, "")), Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-key-alg-ed25519-key-ops", Description: `a key with alg "Ed25519", use "sig" and key_ops ["verify"] is usable`, Nonce: nonce, JWKS: jwksOf(jwk(pub(keyA), kidA, `,"alg":"Ed25519","use":"sig","key_ops":["verify"]`)), Token: tok, Expect: okExpect(2, false)},
		{Name: "ok-any-kid-string", Description: "any string is a well-formed kid, compared exactly", Nonce: nonce, JWKS: jwksOf(jwk(pub(keyA), "clé ✓ 1", "")), Token: sign(header("clé ✓ 1"), payload(base), keyA), Expect: func() Expected { e := okExpect(2, false); e.Kid = "clé ✓ 1"; return e }()},
		{Name: "ok-exactly-4096-bytes", Description: "a token of exactly 4096 bytes is read", Nonce: nonce, Token: padTo(base, 4096), Expect: okExpect(2, false)},
		{Name: "ok-leeway-zero-at-exp", Description: "with leeway 0, now = exp is still valid", Nonce: nonce, Leeway: intp(0), Now: exp, Token: tok, Expect: okExpect(2, false)},

		// ERR_TOO_LARGE
		{Name: "too-large-4097-bytes", Description: "a token of 4097 bytes, valid otherwise", Nonce: nonce, Token: padTo(base, 4097), Expect: fail(kycvs.CodeTooLarge)},
		{Name: "too-large-garbage", Description: "size is checked before anything else", Token: strings.Repeat("é", 2049), Expect: fail(kycvs.CodeTooLarge)},

		// ERR_MALFORMED
		{Name: "malformed-empty", Description: "the empty string", Token: "", Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-two-segments", Description: "header and payload only", Token: segs[0] + "." + segs[1], Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-four-segments", Description: "a fourth segment", Token: tok + ".AAAA", Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-empty-signature", Description: "an empty signature segment", Token: segs[0] + "." + segs[1] + ".", Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-empty-payload", Description: "an empty payload segment (detached payload)", Token: segs[0] + ".." + segs[2], Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-padding", Description: "base64 padding is not allowed", Token: segs[0] + "." + segs[1] + "." + segs[2] + "==", Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-crlf-in-segment", Description: "CR/LF inside a segment (go-jose accepts it)", Token: segs[0][:10] + "\r\n" + segs[0][10:] + "." + segs[1] + "." + segs[2], Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-space-in-segment", Description: "white space inside a segment", Token: segs[0] + "." + segs[1][:5] + " " + segs[1][5:] + "." + segs[2], Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-std-alphabet", Description: "'+' and '/' of standard base64", Token: strings.NewReplacer("-", "+", "_", "/").Replace(sign(header(kidA), payload(with(base, "x", str("\xfb\xff\xfe"))), keyA)), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-nonzero-unused-bits", Description: "the last character of the signature has non-zero unused bits (go-jose accepts it)", Token: segs[0] + "." + segs[1] + "." + bumpLast(segs[2]), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-length-1-mod-4", Description: "a segment whose length is 1 mod 4", Token: segs[0] + "." + segs[1] + "." + segs[2] + "AAA", Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-not-json", Description: "the header is not JSON", Token: sign("not json", payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-array", Description: "the header is a JSON array", Token: sign(`["EdDSA"]`, payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-crit", Description: "an extra crit member, even empty (go-jose accepts crit:[])", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"kycvs+msgpack","crit":[]}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-extra-member", Description: "any member beyond alg, kid and typ", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"kycvs+msgpack","jku":"https://evil.example"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-missing-typ", Description: "typ is required", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-missing-kid", Description: "kid is required", Token: sign(`{"alg":"EdDSA","typ":"kycvs+msgpack"}`, payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-duplicate-alg", Description: "a duplicate member name", Token: sign(fmt.Sprintf(`{"alg":"none","kid":%q,"alg":"EdDSA"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-duplicate-escaped", Description: "a duplicate member name, detected after unescaping", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"kycvs+msgpack","\u0074yp":"kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-kid-number", Description: "kid must be a string", Token: sign(`{"alg":"EdDSA","kid":1,"typ":"kycvs+msgpack"}`, payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-trailing", Description: "data after the header object", Token: sign(header(kidA)+"x", payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-invalid-utf8", Description: "invalid UTF-8 in a header string", Token: sign("{\"alg\":\"EdDSA\",\"kid\":\"\xff\",\"typ\":\"kycvs+msgpack\"}", payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-header-lone-surrogate", Description: "a lone surrogate escape in a header string", Token: sign(`{"alg":"EdDSA","kid":"\ud800","typ":"kycvs+msgpack"}`, payload(base), keyA), Expect: fail(kycvs.CodeMalformed)},
		{Name: "malformed-json-serialization", Description: "the JWS JSON serialization is not accepted", Token: fmt.Sprintf(`{"protected":%q,"payload":%q,"signature":%q}`, segs[0], segs[1], segs[2]), Expect: fail(kycvs.CodeMalformed)},

		// ERR_ALG
		{Name: "alg-none", Description: `alg "none"`, Token: sign(fmt.Sprintf(`{"alg":"none","kid":%q,"typ":"kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeAlg)},
		{Name: "alg-hs256", Description: "an HMAC algorithm", Token: sign(fmt.Sprintf(`{"alg":"HS256","kid":%q,"typ":"kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeAlg)},
		{Name: "alg-es256", Description: "an algorithm off the allow-list", Token: sign(fmt.Sprintf(`{"alg":"ES256","kid":%q,"typ":"kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeAlg)},
		{Name: "alg-lowercase", Description: "alg is compared exactly", Token: sign(fmt.Sprintf(`{"alg":"eddsa","kid":%q,"typ":"kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeAlg)},

		// ERR_TYPE
		{Name: "type-jwt", Description: `typ "JWT"`, Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"JWT"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeType)},
		{Name: "type-uppercase", Description: "typ is case-sensitive", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"KYCVS+MSGPACK"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeType)},
		{Name: "type-application-prefix", Description: "no application/ prefix", Token: sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"application/kycvs+msgpack"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeType)},

		// ERR_KID_UNKNOWN
		{Name: "kid-unknown", Description: "a kid not in the set", Token: sign(header("unknown-kid"), payload(base), keyA), Expect: fail(kycvs.CodeKIDUnknown)},
		{Name: "kid-empty", Description: "the empty kid is well-formed and unknown", Token: sign(header(""), payload(base), keyA), Expect: fail(kycvs.CodeKIDUnknown)},
		{Name: "kid-case-differs", Description: "kids are compared exactly", Token: sign(header(strings.ToLower(kidA)), payload(base), keyA), Expect: fail(kycvs.CodeKIDUnknown)},

		// ERR_SIGNATURE
		{Name: "signature-wrong-key", Description: "signed by key B under the kid of key A", JWKS: jwksAB, Token: sign(header(kidA), payload(base), keyB), Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-63-bytes", Description: "a signature one byte short", Token: segs[0] + "." + segs[1] + "." + b64.Encode(mustDecode(segs[2])[:63]), Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-65-bytes", Description: "a signature one byte long", Token: segs[0] + "." + segs[1] + "." + b64.Encode(append(mustDecode(segs[2]), 0)), Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-s-not-canonical", Description: "S + L in place of S (malleability)", Token: segs[0] + "." + segs[1] + "." + b64.Encode(addL(mustDecode(segs[2]))), Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-bit-flipped", Description: "one bit of R flipped", Token: segs[0] + "." + segs[1] + "." + b64.Encode(flip(mustDecode(segs[2]), 3)), Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-payload-changed", Description: "the payload changed after signing (status 0 → 2)", Token: strings.Split(good(baseClaims(0)), ".")[0] + "." + segs[1] + "." + strings.Split(good(baseClaims(0)), ".")[2], Expect: fail(kycvs.CodeSignature)},
		{Name: "signature-zero", Description: "an all-zero signature", Token: segs[0] + "." + segs[1] + "." + b64.Encode(make([]byte, 64)), Expect: fail(kycvs.CodeSignature)},

		// ERR_CLAIMS
		{Name: "claims-not-a-map", Description: "the payload is an array", Token: sign(header(kidA), msgp.AppendArrayHeader(nil, 0), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-json-payload", Description: "a JSON payload is not MessagePack", Token: sign(header(kidA), []byte(`{"vs":2}`), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-trailing-bytes", Description: "bytes after the map", Token: sign(header(kidA), append(payload(base), 0xc0), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-two-maps", Description: "two maps in the payload", Token: sign(header(kidA), append(payload(base), payload(baseClaims(0))...), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-duplicate-vs", Description: "a duplicate known key", Token: good(append(baseClaims(0), claim{"vs", i64(2)})), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-duplicate-unknown", Description: "a duplicate unknown key", Token: good(append(with(base, "x", i64(1)), claim{"x", i64(2)})), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-iss", Description: "iss is required", Token: good(without(base, "iss")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-sub", Description: "sub is required", Token: good(without(base, "sub")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-aud", Description: "aud is required", Token: good(without(base, "aud")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-iat", Description: "iat is required", Token: good(without(base, "iat")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-exp", Description: "exp is required", Token: good(without(base, "exp")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-jti", Description: "jti is required", Token: good(without(base, "jti")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-nonce", Description: "nonce is required", Token: good(without(base, "nonce")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-missing-vs", Description: "vs is required", Token: good(without(base, "vs")), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-vs-3", Description: "vs must be 0, 1 or 2", Token: good(with(base, "vs", i64(3))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-vs-negative", Description: "vs must be 0, 1 or 2", Token: good(with(base, "vs", i64(-1))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-vs-string", Description: "vs must be an int", Token: good(with(base, "vs", str("2"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-vs-float", Description: "a float is not an int", Token: good(with(base, "vs", f64(2))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iat-float", Description: "a float is not an int", Token: good(with(base, "iat", f64(iat))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iss-empty", Description: "strings must be non-empty", Token: good(with(base, "iss", str(""))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iss-bin", Description: "iss must be str, not bin", Token: good(with(base, "iss", bin([]byte(issuer)))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iss-invalid-utf8", Description: "strings must be valid UTF-8", Token: good(with(base, "iss", str("https://\xff"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-nmh-15-bytes", Description: "nmh must be exactly 16 bytes", Token: good(with(base, "nmh", bin(nmh()[:15]))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-nmh-empty", Description: "an empty nmh is not an absent one: nmh, when present, is exactly 16 bytes", Token: good(with(base, "nmh", bin([]byte{}))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-key-empty", Description: "a map key must not be empty, even an unknown one", Token: good(with(base, "", str("x"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-key-invalid-utf8", Description: "a map key must be valid UTF-8, even an unknown one", Token: good(with(base, "x-\xff", str("x"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-nmh-str", Description: "nmh must be bin", Token: good(with(base, "nmh", str(string(nmh())))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-exp-equals-iat", Description: "iat < exp", Token: good(with(base, "exp", i64(iat))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-lifetime-3601", Description: "exp <= iat + 3600", Token: good(with(base, "exp", i64(iat+3601))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iat-negative", Description: "iat >= 0", Token: good(with(with(base, "iat", i64(-100)), "exp", i64(100))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-exp-beyond-2-53", Description: "iat and exp stay below 2^53", Token: good(with(with(base, "iat", i64(1<<53-10)), "exp", i64(1<<53+10))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-iat-uint64-max", Description: "a uint64 beyond int64", Token: good(with(base, "iat", u64(1<<64-1))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-nonce-too-short", Description: "a nonce of 7 characters", Token: good(with(base, "nonce", str("abcdefg"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-nonce-bad-character", Description: "a nonce with a character outside [A-Za-z0-9_-]", Token: good(with(base, "nonce", str("nonce.with.dots"))), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-int-key", Description: "map keys must be strings", Token: sign(header(kidA), append(msgp.AppendInt(msgp.AppendMapHeader(nil, 1), 1), 0x01), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-map-count-too-large", Description: "a map header declaring more entries than the payload holds", Token: sign(header(kidA), append([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}, payload(base)[1:]...), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-str-length-too-large", Description: "a str whose declared length passes the end", Token: sign(header(kidA), append(payload(base), []byte{0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'}...), keyA), Expect: fail(kycvs.CodeClaims)},
		{Name: "claims-truncated", Description: "the payload is cut in the middle of a value", Token: sign(header(kidA), payload(base)[:40], keyA), Expect: fail(kycvs.CodeClaims)},

		// ERR_ISSUER, ERR_AUDIENCE
		{Name: "issuer-differs", Description: "iss is another issuer", Nonce: nonce, Token: good(with(base, "iss", str("https://evil.example"))), Expect: fail(kycvs.CodeIssuer)},
		{Name: "issuer-trailing-slash", Description: "iss is compared byte for byte", Nonce: nonce, Token: good(with(base, "iss", str(issuer+"/"))), Expect: fail(kycvs.CodeIssuer)},
		{Name: "audience-differs", Description: "aud is another verifying entity", Nonce: nonce, Token: good(with(base, "aud", str("event-tickets"))), Expect: fail(kycvs.CodeAudience)},

		// ERR_EXPIRED, ERR_NOT_YET_VALID
		{Name: "expired", Description: "now = exp + leeway + 1", Nonce: nonce, Now: exp + 61, Token: tok, Expect: fail(kycvs.CodeExpired)},
		{Name: "expired-leeway-zero", Description: "with leeway 0, now = exp + 1", Nonce: nonce, Leeway: intp(0), Now: exp + 1, Token: tok, Expect: fail(kycvs.CodeExpired)},
		{Name: "not-yet-valid", Description: "now = iat - leeway - 1", Nonce: nonce, Now: iat - 61, Token: tok, Expect: fail(kycvs.CodeNotYetValid)},

		// ERR_NONCE
		{Name: "nonce-differs", Description: "the token belongs to another transaction", Nonce: "another-transaction-nonce", Token: tok, Expect: fail(kycvs.CodeNonce)},
		{Name: "nonce-missing", Description: "an empty expected nonce is a caller's mistake unless the verifier opted out by name", Token: tok, Expect: fail(kycvs.CodeConfig)},
		{Name: "nonce-missing-malformed-token", Description: "the missing nonce is found before the token is read", Token: "not-a-token", Expect: fail(kycvs.CodeConfig)},
		{Name: "nonce-opt-out-still-compares", Description: "a verifier that opted out still compares a nonce it is given", NoNonce: true, Nonce: "another-transaction-nonce", Token: tok, Expect: fail(kycvs.CodeNonce)},
		{Name: "nonce-too-long", Description: "an expected nonce over 128 characters can never match", Nonce: nonce + strings.Repeat("x", 129-len(nonce)), Token: tok, Expect: fail(kycvs.CodeNonce)},
		{Name: "nonce-too-long-bad-signature", Description: "an over-long nonce does not change the order of checks", Nonce: strings.Repeat("x", 5000), Token: segs[0] + "." + segs[1] + "." + b64.Encode(flip(mustDecode(segs[2]), 5)), Expect: fail(kycvs.CodeSignature)},
		{Name: "nonce-non-ascii", Description: "a nonce outside [A-Za-z0-9_-] can never match", Nonce: "n0nce-Tr4nsaction_4２", Token: tok, Expect: fail(kycvs.CodeNonce)},

		// The clock's range, the same in every runtime.
		{Name: "clock-negative", Description: "a clock before 1970 is a caller's mistake", Nonce: nonce, Now: -1, Token: tok, Expect: fail(kycvs.CodeConfig)},
		{Name: "clock-too-large", Description: "a clock past 2^53-1 seconds is a caller's mistake", Nonce: nonce, Now: 1 << 53, Token: tok, Expect: fail(kycvs.CodeConfig)},
		{Name: "clock-max", Description: "2^53-1 seconds is a valid clock reading", Nonce: nonce, Now: 1<<53 - 1, Token: tok, Expect: fail(kycvs.CodeExpired)},

		// Order of checks.
		{Name: "order-alg-before-typ", Description: "alg is checked before typ", Token: sign(fmt.Sprintf(`{"alg":"none","kid":%q,"typ":"JWT"}`, kidA), payload(base), keyA), Expect: fail(kycvs.CodeAlg)},
		{Name: "order-signature-before-claims", Description: "a bad payload under a bad signature is ERR_SIGNATURE", Token: segs[0] + "." + b64.Encode([]byte("junk")) + "." + segs[2], Expect: fail(kycvs.CodeSignature)},
		{Name: "order-issuer-before-expiry", Description: "iss is checked before time", Nonce: nonce, Now: exp + 1000, Token: good(with(base, "iss", str("https://evil.example"))), Expect: fail(kycvs.CodeIssuer)},
		{Name: "order-expiry-before-nonce", Description: "time is checked before the nonce", Nonce: "another-transaction-nonce", Now: exp + 1000, Token: tok, Expect: fail(kycvs.CodeExpired)},

		// ERR_CONFIG
		{Name: "config-missing-issuer", Description: "the expected issuer is required", Audience: audience, Token: tok, Expect: fail(kycvs.CodeConfig)},
		{Name: "config-missing-audience", Description: "the expected audience is required", Issuer: issuer, Token: tok, Expect: fail(kycvs.CodeConfig)},
	}
	for _, j := range jwksCases() {
		v = append(v, Vector{Name: "jwks-" + j.name, Description: j.desc, JWKS: j.jwks, Token: tok, Expect: fail(kycvs.CodeJWKS)})
	}
	return v
}

type jwksCase struct{ name, desc, jwks string }

func jwksCases() []jwksCase {
	pa := pub(keyA)
	x := func(raw []byte) string {
		return jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q}`, b64.Encode(raw)))
	}
	identity := make([]byte, 32)
	identity[0] = 1
	order8, _ := hexBytes("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	yZero := make([]byte, 32)
	many := make([]string, 101)
	for i := range many {
		many[i] = `{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}`
	}
	return []jwksCase{
		{"not-json", "the key set is not JSON", "not json"},
		{"not-object", "the key set is an array", "[" + jwk(pa, kidA, "") + "]"},
		{"no-keys", "no keys member", `{"kids":[]}`},
		{"keys-not-array", "keys is an object", `{"keys":` + jwk(pa, kidA, "") + `}`},
		{"empty", "keys is empty", `{"keys":[]}`},
		{"only-other-types", "no Ed25519 key at all", jwksOf(`{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}`)},
		{"key-not-object", "a key is a string", jwksOf(`"key"`, jwk(pa, kidA, ""))},
		{"missing-kty", "a key without kty", jwksOf(`{"crv":"Ed25519","kid":"k","x":"` + b64.Encode(pa) + `"}`)},
		{"missing-kid", "an Ed25519 key without kid", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","x":%q}`, b64.Encode(pa)))},
		{"empty-kid", "an Ed25519 key with an empty kid", jwksOf(jwk(pa, "", ""))},
		{"kid-number", "kid is not a string", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":1,"x":%q}`, b64.Encode(pa)))},
		{"duplicate-kid", "two keys with one kid (go-jose takes the first)", jwksOf(jwk(pa, kidA, ""), jwk(pub(keyB), kidA, ""))},
		{"duplicate-member", "a key with x twice", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q,"x":%q}`, b64.Encode(pa), b64.Encode(pub(keyB))))},
		{"x-31-bytes", "x is 31 bytes", x(pa[:31])},
		{"x-33-bytes", "x is 33 bytes", x(append(append([]byte(nil), pa...), 0))},
		{"x-padded", "x with base64 padding", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q}`, b64.Encode(pa)+"="))},
		{"x-std-base64", "x in standard base64", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q}`, stdB64WithSlash()))},
		{"x-nonzero-unused-bits", "x whose last character has non-zero unused bits", jwksOf(fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"k","x":%q}`, bumpLast(b64.Encode(pa))))},
		{"x-missing", "an Ed25519 key without x", jwksOf(`{"kty":"OKP","crv":"Ed25519","kid":"k"}`)},
		{"x-not-on-curve", "x is not a point on the curve", x(notOnCurve())},
		{"x-non-canonical", "x is a non-canonical encoding (y >= p) of a valid point", x(nonCanonical())},
		{"x-small-order-identity", "x is the identity point (order 1)", x(identity)},
		{"x-small-order-4", "x is the point y=0 (order 4)", x(yZero)},
		{"x-small-order-8", "x is a point of order 8 (it makes some forged signatures valid)", x(order8)},
		{"private-d", "private material in the key set", jwksOf(jwk(pa, kidA, `,"d":"`+b64.Encode(keyA.Seed())+`"`))},
		{"use-enc", `use "enc"`, jwksOf(jwk(pa, kidA, `,"use":"enc"`))},
		{"alg-rs256", `alg "RS256" on an Ed25519 key`, jwksOf(jwk(pa, kidA, `,"alg":"RS256"`))},
		{"key-ops-sign", `key_ops allows "sign"`, jwksOf(jwk(pa, kidA, `,"key_ops":["sign","verify"]`))},
		{"too-many-keys", "more than 100 keys", jwksOf(append(many, jwk(pa, kidA, ""))...)},
		{"trailing-data", "data after the JSON object", jwksA + "{}"},
	}
}

func nested() []byte {
	b := msgp.AppendMapHeader(nil, 2)
	b = msgp.AppendString(b, "a")
	b = msgp.AppendArrayHeader(b, 3)
	b = msgp.AppendNil(b)
	b = msgp.AppendFloat64(b, 1.5)
	b = msgp.AppendBytes(b, []byte{1, 2})
	b = msgp.AppendString(b, "vs")
	return msgp.AppendInt(b, 99)
}

func reversed(cs []claim) []claim {
	out := make([]claim, len(cs))
	for i, c := range cs {
		out[len(cs)-1-i] = c
	}
	return out
}

// padTo returns a valid token of exactly n bytes, padded with an unknown claim.
func padTo(cs []claim, n int) string {
	for k := 0; k < 4; k++ {
		hdr := header(kidA) + strings.Repeat(" ", k) // JSON allows trailing white space
		for pad := 0; pad < n; pad++ {
			t := sign(hdr, payload(with(cs, "x-pad", str(strings.Repeat("p", pad)))), keyA)
			if len(t) == n {
				return t
			}
			if len(t) > n {
				break
			}
		}
	}
	log.Fatalf("cannot pad a token to %d bytes", n)
	return ""
}

func mustDecode(s string) []byte {
	b, ok := b64.DecodeString(s)
	if !ok {
		log.Fatalf("bad base64url %q", s)
	}
	return b
}

// bumpLast sets a non-zero unused bit in the last character of s.
func bumpLast(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func flip(b []byte, i int) []byte { b[i] ^= 1; return b }

// addL returns the signature with S replaced by S + L (still < 2^256).
func addL(sig []byte) []byte {
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	s := new(big.Int).SetBytes(reverse(sig[32:]))
	s.Add(s, l)
	out := append([]byte(nil), sig[:32]...)
	le := reverse(s.FillBytes(make([]byte, 32)))
	return append(out, le...)
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

func hexBytes(s string) ([]byte, error) {
	b := make([]byte, len(s)/2)
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

// notOnCurve returns the smallest y whose encoding is not a curve point.
func notOnCurve() []byte {
	for y := byte(2); ; y++ {
		enc := make([]byte, 32)
		enc[0] = y
		if _, err := new(edwards25519.Point).SetBytes(enc); err != nil {
			return enc
		}
	}
}

// nonCanonical returns p + y for the smallest y that gives a point of large
// order, an encoding that decoders reducing mod p would accept.
func nonCanonical() []byte {
	for y := byte(2); y < 19; y++ {
		enc := make([]byte, 32)
		enc[0] = y
		p, err := new(edwards25519.Point).SetBytes(enc)
		if err != nil || new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
			continue
		}
		// p = 2^255 - 19: little-endian ed ff .. ff 7f; add y to the low byte.
		nc := make([]byte, 32)
		for i := range nc {
			nc[i] = 0xff
		}
		nc[0] = 0xed + y
		nc[31] = 0x7f
		return nc
	}
	log.Fatal("no non-canonical point found")
	return nil
}

// stdB64WithSlash returns a 32-byte value whose standard base64 contains '/'.
func stdB64WithSlash() string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = 0xff
	}
	return strings.NewReplacer("-", "+", "_", "/").Replace(b64.Encode(b))
}
