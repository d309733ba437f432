//go:build js && wasm

// Run with: GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/verifier
// (./build.sh test does, in test_js). verifierjs's tests cover the same ABI
// from the JavaScript side.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

type vector struct {
	JWKS     string `json:"jwks"`
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	Nonce    string `json:"nonce"`
	Now      int64  `json:"now"`
	Token    string `json:"token"`
	Expect   struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
		Sub    string `json:"sub"`
		Jti    string `json:"jti"`
		Iat    int64  `json:"iat"`
		Exp    int64  `json:"exp"`
		Kid    string `json:"kid"`
		Nmh    string `json:"nmh"`
	} `json:"expect"`
}

func load(t *testing.T, name string) vector {
	t.Helper()
	data, err := os.ReadFile("../../testdata/vectors/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// put writes the strings one after another into the input buffer, as the
// host does, and returns their lengths.
func put(t *testing.T, ss ...string) []uint32 {
	t.Helper()
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	kycvsIn(uint32(n))
	var lens []uint32
	off := 0
	for _, s := range ss {
		off += copy(in[off:], s)
		lens = append(lens, uint32(len(s)))
	}
	return lens
}

func newVerifier(t *testing.T, v vector, leeway float64) int32 {
	t.Helper()
	return newVerifierFlags(t, v, leeway, 0)
}

func newVerifierFlags(t *testing.T, v vector, leeway float64, flags uint32) int32 {
	t.Helper()
	l := put(t, v.JWKS, v.Issuer, v.Audience)
	h := kycvsNew(l[0], l[1], l[2], leeway, flags)
	if h <= 0 {
		code, msg := readError()
		t.Fatalf("kycvs_new = %d: %s %s", h, code, msg)
	}
	return h
}

func readError() (code, msg string) {
	c := int(out[0])
	m := int(binary.LittleEndian.Uint16(out[1:]))
	return string(out[3 : 3+c]), string(out[3+c : 3+c+m])
}

func verify(t *testing.T, h int32, token, nonce string, now float64) (code string) {
	t.Helper()
	l := put(t, token, nonce)
	if r := kycvsVerify(h, l[0], l[1], now); r != 0 {
		code, _ := readError()
		return code
	}
	return ""
}

func TestVerifyAnswer(t *testing.T) {
	v := load(t, "ok-with-nmh")
	h := newVerifier(t, v, math.NaN())
	defer kycvsFree(h)
	if code := verify(t, h, v.Token, v.Nonce, float64(v.Now)); code != "" {
		t.Fatalf("verify: %s", code)
	}
	o := out[:]
	nmh := int(o[1])
	sub := int(binary.LittleEndian.Uint16(o[2:]))
	jti := int(binary.LittleEndian.Uint16(o[4:]))
	kid := int(binary.LittleEndian.Uint16(o[6:]))
	p := 24
	got := map[string]any{
		"status": int(o[0]),
		"iat":    int64(binary.LittleEndian.Uint64(o[8:])),
		"exp":    int64(binary.LittleEndian.Uint64(o[16:])),
		"nmh":    string(o[p : p+nmh]),
		"sub":    string(o[p+nmh : p+nmh+sub]),
		"jti":    string(o[p+nmh+sub : p+nmh+sub+jti]),
		"kid":    string(o[p+nmh+sub+jti : p+nmh+sub+jti+kid]),
	}
	e := v.Expect
	want := map[string]any{"status": e.Status, "iat": e.Iat, "exp": e.Exp, "nmh": e.Nmh, "sub": e.Sub, "jti": e.Jti, "kid": e.Kid}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s = %v, want %v", k, got[k], want[k])
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(e.Nmh); err != nil || nmh != 22 {
		t.Errorf("nmh %q is not 16 bytes of base64url", e.Nmh)
	}
}

func TestVerifyErrorsAndClock(t *testing.T) {
	v := load(t, "ok-with-nmh")
	h := newVerifierFlags(t, v, 0, 1) // without nonce
	defer kycvsFree(h)
	strict := newVerifier(t, v, 0)
	defer kycvsFree(strict)
	if got := verify(t, strict, v.Token, "", float64(v.Now)); got != string(kycvs.CodeConfig) {
		t.Errorf("an empty nonce without the opt-out: %q, want ERR_CONFIG", got)
	}
	for _, c := range []struct {
		token, nonce string
		now          float64
		code         kycvs.Code
	}{
		{v.Token, v.Nonce, float64(v.Now), ""},
		{v.Token, "", float64(v.Now), ""},
		{v.Token, "another-nonce", float64(v.Now), kycvs.CodeNonce},
		{v.Token, "", float64(v.Expect.Exp) + 0.999, ""},
		{v.Token, "", float64(v.Expect.Exp + 1), kycvs.CodeExpired},
		{v.Token, "", float64(v.Expect.Iat) - 0.5, kycvs.CodeNotYetValid},
		{v.Token, "", math.NaN(), ""}, // the real clock: the vector's token is from 2023
		{"a.b", "", 0, kycvs.CodeMalformed},
		{string(make([]byte, kycvs.MaxTokenSize+1)), "", 0, kycvs.CodeTooLarge},
		{v.Token, "", -1, kycvs.CodeConfig},
		{v.Token, "", kycvs.MaxTime + 1, kycvs.CodeConfig},
		{v.Token, "", math.Inf(1), kycvs.CodeConfig},
		{v.Token, "", math.Inf(-1), kycvs.CodeConfig},
		{v.Token, "", 1e300, kycvs.CodeConfig},
	} {
		want := string(c.code)
		if c.now != c.now && time.Now().Unix() > v.Expect.Exp {
			want = string(kycvs.CodeExpired)
		}
		if got := verify(t, h, c.token, c.nonce, c.now); got != want {
			t.Errorf("verify(%.20q, %q, %v) = %q, want %q", c.token, c.nonce, c.now, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	v := load(t, "ok-with-nmh")
	for _, c := range []struct {
		jwks, iss, aud string
		leeway         float64
		code           kycvs.Code
	}{
		{"{}", v.Issuer, v.Audience, math.NaN(), kycvs.CodeJWKS},
		{v.JWKS, "", v.Audience, math.NaN(), kycvs.CodeConfig},
		{v.JWKS, v.Issuer, "", math.NaN(), kycvs.CodeConfig},
		{v.JWKS, v.Issuer, v.Audience, -1, kycvs.CodeConfig},
		{v.JWKS, v.Issuer, v.Audience, 3601, kycvs.CodeConfig},
		{v.JWKS, v.Issuer, v.Audience, 1e300, kycvs.CodeConfig},
		{v.JWKS, v.Issuer, v.Audience, math.Inf(1), kycvs.CodeConfig},
	} {
		l := put(t, c.jwks, c.iss, c.aud)
		if h := kycvsNew(l[0], l[1], l[2], c.leeway, 0); h != -1 {
			t.Errorf("kycvs_new(%q, %q, %v) = %d, want -1", c.iss, c.aud, c.leeway, h)
			continue
		}
		if code, _ := readError(); code != string(c.code) {
			t.Errorf("kycvs_new(%q, %q, %v): %s, want %s", c.iss, c.aud, c.leeway, code, c.code)
		}
	}
	if h := kycvsNew(uint32(len(in)), 1, 0, 0, 0); h != -1 {
		t.Errorf("lengths beyond the input buffer: %d", h)
	}
	l := put(t, v.JWKS, v.Issuer, v.Audience)
	if h := kycvsNew(l[0], l[1], l[2], math.NaN(), 2); h != -1 {
		t.Errorf("unknown flags: %d", h)
	}
}

func TestHandles(t *testing.T) {
	v := load(t, "ok-with-nmh")
	a := newVerifier(t, v, math.NaN())
	b := newVerifier(t, v, math.NaN())
	if a == b {
		t.Fatalf("two verifiers share handle %d", a)
	}
	kycvsFree(a)
	kycvsFree(a) // twice: ignored
	kycvsFree(0)
	kycvsFree(-3)
	kycvsFree(1 << 30)
	if code := verify(t, a, v.Token, v.Nonce, float64(v.Now)); code != string(kycvs.CodeConfig) {
		t.Errorf("verify with a freed handle: %q", code)
	}
	if code := verify(t, b, v.Token, v.Nonce, float64(v.Now)); code != "" {
		t.Errorf("verify with the other handle: %q", code)
	}
	// A freed handle is never given again: a stale handle must not reach
	// a verifier made later (for another issuer, say).
	seen := map[int32]bool{a: true, b: true}
	for range 1000 {
		c := newVerifier(t, v, math.NaN())
		if seen[c] {
			t.Fatalf("handle %d given twice", c)
		}
		seen[c] = true
		kycvsFree(c)
	}
	if code := verify(t, a, v.Token, v.Nonce, float64(v.Now)); code != string(kycvs.CodeConfig) {
		t.Errorf("verify with a freed handle after 1000 others: %q", code)
	}
	kycvsFree(b)
	if len(verifiers) != 0 {
		t.Errorf("%d verifiers left after freeing all", len(verifiers))
	}
}

// TestHandlesRunOut: past the last handle, kycvs_new fails instead of
// wrapping around to a handle that may still be in use.
func TestHandlesRunOut(t *testing.T) {
	v := load(t, "ok-with-nmh")
	saved := last
	defer func() { last = saved }()
	last = math.MaxInt32 - 1
	h := newVerifier(t, v, math.NaN())
	defer kycvsFree(h)
	l := put(t, v.JWKS, v.Issuer, v.Audience)
	if h := kycvsNew(l[0], l[1], l[2], math.NaN(), 0); h != -1 {
		t.Fatalf("kycvs_new after the last handle = %d, want -1", h)
	}
	if code, _ := readError(); code != string(kycvs.CodeConfig) {
		t.Fatalf("code %s, want ERR_CONFIG", code)
	}
}

func TestInputBufferGrows(t *testing.T) {
	p := kycvsIn(1 << 20)
	if len(in) < 1<<20 || p == 0 {
		t.Fatalf("kycvs_in(1 MiB): len %d, ptr %d", len(in), p)
	}
	if q := kycvsIn(16); q != p {
		t.Errorf("a smaller request moved the buffer")
	}
}
