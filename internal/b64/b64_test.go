package b64

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		s := Encode(b)
		got, ok := DecodeString(s)
		if !ok || !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: %q does not round-trip", n, s)
		}
		// Agrees with the standard library's strict decoder.
		std, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || !bytes.Equal(std, b) {
			t.Fatalf("stdlib disagrees on %q", s)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, s := range []string{
		"A",       // 1 mod 4
		"AAAAA",   // 1 mod 4
		"AB",      // non-zero unused bits (4)
		"AAB",     // non-zero unused bits (2)
		"AA==",    // padding
		"AA\nAA",  // line break (the stdlib skips it)
		"AA\rAA",  // carriage return
		"AA AA",   // space
		"AA+A",    // standard alphabet
		"AA/A",    // standard alphabet
		"AA\x00A", // NUL
		"AAé",     // non-ASCII
	} {
		if _, ok := DecodeString(s); ok {
			t.Errorf("%q decoded", s)
		}
	}
	for _, s := range []string{"", "AA", "AAA", "AAAA", "_-8"} {
		if _, ok := DecodeString(s); !ok {
			t.Errorf("%q rejected", s)
		}
	}
}

func TestDecodeShortBuffer(t *testing.T) {
	if _, ok := Decode(make([]byte, 2), "AAAA"); ok {
		t.Fatal("decoded into a buffer too small")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("AAAA")
	f.Add("AB")
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := DecodeString(s)
		if ok && Encode(b) != s {
			t.Fatalf("%q accepted but not canonical", s)
		}
		std, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if ok && (err != nil || !bytes.Equal(std, b)) {
			t.Fatalf("%q: stdlib disagrees", s)
		}
	})
}
