package ed25519fast

import (
	"crypto/ed25519"
	"testing"
)

func TestQuick(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	k, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	sig := ed25519.Sign(priv, msg)
	if !k.Verify(msg, sig) {
		t.Fatal("valid rejected")
	}
	sig[3] ^= 1
	if k.Verify(msg, sig) {
		t.Fatal("invalid accepted")
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	k, _ := NewPublicKey(pub)
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.Verify(msg, sig) {
				b.Fatal("fail")
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("fail")
			}
		}
	})
}
