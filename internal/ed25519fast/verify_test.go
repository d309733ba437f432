// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"filippo.io/edwards25519"
	"github.com/c2sp/wycheproof"
)

// The number of random differential cases: -ed25519fast.cases, else
// $ED25519FAST_CASES, else 100000 (20000 under wasm, 10000 with -short).
var casesFlag = flag.Int("ed25519fast.cases", 0, "number of random differential cases against crypto/ed25519")

func numCases(t testing.TB) int {
	if *casesFlag > 0 {
		return *casesFlag
	}
	if s := os.Getenv("ED25519FAST_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("ED25519FAST_CASES=%q: want a positive integer", s)
		}
		return n
	}
	switch {
	case testing.Short():
		return 10000
	case runtime.GOARCH == "wasm":
		return 20000
	}
	return 100000
}

// groupOrder is L = 2^252 + 27742317777372353535851937790883648493.
var groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// scalarMulBig computes [n]p for any non-negative n with the package's own
// point arithmetic (double and add).
func scalarMulBig(p *point, n *big.Int) point {
	var acc point
	acc.identity()
	for i := n.BitLen() - 1; i >= 0; i-- {
		acc.double(&acc)
		if n.Bit(i) == 1 {
			acc.add(&acc, p)
		}
	}
	return acc
}

// torsion returns the 8 points of order dividing 8, encoded, starting with
// the identity, as T^0..T^7 for a point T of order 8.
func torsion(t testing.TB) [8][32]byte {
	for i := range 100 {
		// Hash to a y coordinate until it decodes to a point P, then [L]P
		// lies in the torsion subgroup.
		h := sha512.Sum512([]byte{byte(i)})
		h[31] &= 0x7f
		var p point
		if p.decode(h[:32]) != nil {
			continue
		}
		tp := scalarMulBig(&p, groupOrder)
		var t4 point
		t4.double(&tp)
		t4.double(&t4)
		if t4.isIdentity() { // order divides 4, try again
			continue
		}
		var out [8][32]byte
		var acc point
		acc.identity()
		for j := range 8 {
			acc.encode(&out[j])
			acc.add(&acc, &tp)
		}
		return out
	}
	t.Fatal("no point of order 8 found")
	panic("unreachable")
}

// stdlibAcceptsKey is the rule NewPublicKey must follow, written with
// filippo.io/edwards25519: a point, canonically encoded, not of small order.
func stdlibAcceptsKey(pub []byte) bool {
	if len(pub) != 32 {
		return false
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return false
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return false
	}
	return new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1
}

// nonCanonical returns the encodings of y + p for y in 0..18 with the
// given sign bit: values in [p, 2^255).
func nonCanonical(y int, sign byte) []byte {
	b := make([]byte, 32)
	b[0] = byte(0xed + y)
	for i := 1; i < 31; i++ {
		b[i] = 0xff
	}
	b[31] = 0x7f | sign<<7
	return b
}

func TestNewPublicKeyRejects(t *testing.T) {
	tor := torsion(t)
	for i, enc := range tor {
		p, err := new(edwards25519.Point).SetBytes(enc[:])
		if err != nil {
			t.Fatalf("torsion point %d %x: %v", i, enc, err)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("torsion point %d %x is not of small order", i, enc)
		}
		if _, err := NewPublicKey(enc[:]); err != errSmallOrder {
			t.Errorf("small-order key %x: got %v, want %v", enc, err, errSmallOrder)
		}
		// The same with the sign bit flipped: another small-order point, or
		// x = 0 with the sign bit set (non-canonical).
		enc[31] ^= 0x80
		if _, err := NewPublicKey(enc[:]); err == nil {
			t.Errorf("small-order key with flipped sign %x accepted", enc)
		}
	}
	for y := range 19 {
		for sign := range byte(2) {
			enc := nonCanonical(y, sign)
			if _, err := NewPublicKey(enc); err == nil {
				t.Errorf("non-canonical key %x accepted", enc)
			}
		}
	}
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := NewPublicKey(make([]byte, n)); err != errLength {
			t.Errorf("%d-byte key: got %v", n, err)
		}
	}
}

// TestNewPublicKeyRandom compares NewPublicKey's decision on random strings
// with the rule built from filippo.io/edwards25519.
func TestNewPublicKeyRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 2000
	if testing.Short() || runtime.GOARCH == "wasm" {
		n = 300
	}
	accepted := 0
	for range n {
		b := randFieldBytes(r)
		// Only decode and check: building tables for every key would be slow.
		var p point
		err := p.decode(b)
		if err == nil {
			var t8 point
			t8.double(&p)
			t8.double(&t8)
			t8.double(&t8)
			if t8.isIdentity() {
				err = errSmallOrder
			}
		}
		if want := stdlibAcceptsKey(b); (err == nil) != want {
			t.Fatalf("key %x: decode error %v, edwards25519 accepts %v", b, err, want)
		}
		if err == nil {
			accepted++
			var enc [32]byte
			p.encode(&enc)
			if !bytes.Equal(enc[:], b) {
				t.Fatalf("key %x re-encodes as %x", b, enc)
			}
		}
	}
	if accepted < n/4 {
		t.Fatalf("only %d of %d random keys accepted", accepted, n)
	}
}

// testKey is a key with its secret scalar, so that tests can sign for keys
// with a torsion component, which crypto/ed25519 cannot.
type testKey struct {
	a     edwards25519.Scalar
	pub   []byte
	point *edwards25519.Point
	fast  *PublicKey
}

func randScalar(r *rand.Rand) *edwards25519.Scalar {
	var b [64]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	s, _ := new(edwards25519.Scalar).SetUniformBytes(b[:])
	return s
}

func newTestKey(t testing.TB, r *rand.Rand, tor *[8][32]byte) *testKey {
	k := &testKey{}
	k.a.Set(randScalar(r))
	k.point = new(edwards25519.Point).ScalarBaseMult(&k.a)
	if r.IntN(4) == 0 { // a mixed-order key: aB + T, T of order 2, 4 or 8
		tp, _ := new(edwards25519.Point).SetBytes(tor[1+r.IntN(7)][:])
		k.point.Add(k.point, tp)
	}
	k.pub = k.point.Bytes()
	var err error
	if k.fast, err = NewPublicKey(k.pub); err != nil {
		t.Fatalf("NewPublicKey(%x): %v", k.pub, err)
	}
	return k
}

// sign signs msg for k (r: nonce scalar, rt: a torsion point added to R).
func (k *testKey) sign(msg []byte, nonce *edwards25519.Scalar, rt *edwards25519.Point) []byte {
	R := new(edwards25519.Point).ScalarBaseMult(nonce)
	if rt != nil {
		R.Add(R, rt)
	}
	h := sha512.New()
	h.Write(R.Bytes())
	h.Write(k.pub)
	h.Write(msg)
	kh, _ := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	S := new(edwards25519.Scalar).MultiplyAdd(kh, &k.a, nonce)
	return append(R.Bytes(), S.Bytes()...)
}

var scalarL = func() []byte {
	b := groupOrder.Bytes()
	le := make([]byte, 32)
	for i, c := range b {
		le[len(b)-1-i] = c
	}
	return le
}()

// addLE sets a = a + b (little-endian, 32 bytes, carry dropped).
func addLE(a, b []byte) {
	var c uint16
	for i := range 32 {
		c += uint16(a[i]) + uint16(b[i])
		a[i] = byte(c)
		c >>= 8
	}
}

// mutate corrupts (msg, sig) in one of many ways; kind 0 leaves it alone.
func mutate(r *rand.Rand, kind int, msg, sig []byte, tor *[8][32]byte) ([]byte, []byte) {
	switch kind {
	case 1: // flip one bit of the signature
		i := r.IntN(512)
		sig[i/8] ^= 1 << (i % 8)
	case 2: // flip one bit of the message, or extend it
		if len(msg) == 0 || r.IntN(4) == 0 {
			msg = append(msg, byte(r.Uint32()))
		} else {
			i := r.IntN(8 * len(msg))
			msg[i/8] ^= 1 << (i % 8)
		}
	case 3: // S + j*L: same value mod L, not canonical
		for range 1 + r.IntN(8) {
			addLE(sig[32:], scalarL)
		}
	case 4: // S with high bits set, or exactly L, or L-1, or random
		switch r.IntN(4) {
		case 0:
			sig[63] |= byte(0x10 << r.IntN(4))
		case 1:
			copy(sig[32:], scalarL)
		case 2:
			copy(sig[32:], scalarL)
			sig[32]--
		case 3:
			for i := 32; i < 64; i++ {
				sig[i] = byte(r.Uint32())
			}
		}
	case 5: // R replaced by a non-canonical encoding (y >= p)
		copy(sig, nonCanonical(r.IntN(19), byte(r.IntN(2))))
	case 6: // R replaced by a small-order point, maybe with the sign flipped
		copy(sig, tor[r.IntN(8)][:])
		if r.IntN(2) == 0 {
			sig[31] ^= 0x80
		}
	case 7: // R's sign bit flipped
		sig[31] ^= 0x80
	case 8: // R + torsion
		R, err := new(edwards25519.Point).SetBytes(sig[:32])
		if err == nil {
			tp, _ := new(edwards25519.Point).SetBytes(tor[1+r.IntN(7)][:])
			copy(sig, R.Add(R, tp).Bytes())
		}
	case 9: // a random signature
		for i := range sig {
			sig[i] = byte(r.Uint32())
		}
	case 10: // wrong length
		switch r.IntN(3) {
		case 0:
			sig = sig[:r.IntN(64)]
		case 1:
			sig = append(sig, 0)
		case 2:
			sig = nil
		}
	case 11: // R non-canonical in the top bit-only sense: y in [p, 2^255) but sign kept
		y := r.IntN(19)
		copy(sig, nonCanonical(y, sig[31]>>7))
	}
	return msg, sig
}

const numKinds = 12

// TestVerifyDifferential compares Verify with crypto/ed25519.Verify on
// random keys (some of mixed order), messages and signatures, valid and
// corrupted in every way mutate knows.
func TestVerifyDifferential(t *testing.T) {
	n := numCases(t)
	seed := uint64(5)
	if s := os.Getenv("ED25519FAST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 6))
	tor := torsion(t)
	var torPts [8]*edwards25519.Point
	for i := range tor {
		torPts[i], _ = new(edwards25519.Point).SetBytes(tor[i][:])
	}
	var key *testKey
	var stdPriv ed25519.PrivateKey
	var accepted, byKind [numKinds]int
	for i := range n {
		if i%200 == 0 {
			if r.IntN(2) == 0 {
				// A key made by crypto/ed25519, signing with its own nonces.
				seed := make([]byte, 32)
				for j := range seed {
					seed[j] = byte(r.Uint32())
				}
				stdPriv = ed25519.NewKeyFromSeed(seed)
				pub := stdPriv.Public().(ed25519.PublicKey)
				fast, err := NewPublicKey(pub)
				if err != nil {
					t.Fatalf("NewPublicKey(%x): %v", pub, err)
				}
				key = &testKey{pub: pub, fast: fast}
			} else {
				stdPriv = nil
				key = newTestKey(t, r, &tor)
			}
		}
		msg := make([]byte, r.IntN(300))
		for j := range msg {
			msg[j] = byte(r.Uint32())
		}
		var sig []byte
		if stdPriv != nil {
			sig = ed25519.Sign(stdPriv, msg)
		} else {
			nonce := randScalar(r)
			if r.IntN(16) == 0 {
				nonce = edwards25519.NewScalar() // R is a torsion point (or B^0)
			}
			var rt *edwards25519.Point
			if r.IntN(3) == 0 {
				rt = torPts[r.IntN(8)]
			}
			sig = key.sign(msg, nonce, rt)
		}
		kind := 0
		if r.IntN(3) != 0 {
			kind = 1 + r.IntN(numKinds-1)
		}
		msg, sig = mutate(r, kind, msg, sig, &tor)
		want := ed25519.Verify(key.pub, msg, sig)
		got := key.fast.Verify(msg, sig)
		if got != want {
			t.Fatalf("case %d (kind %d): Verify = %v, crypto/ed25519 = %v\npub %x\nmsg %x\nsig %x", i, kind, got, want, key.pub, msg, sig)
		}
		// Both paths on every case, whichever Verify took.
		if got := key.fast.verifyOnTheFly(msg, sig); got != want {
			t.Fatalf("case %d (kind %d): on the fly = %v, crypto/ed25519 = %v\npub %x\nmsg %x\nsig %x", i, kind, got, want, key.pub, msg, sig)
		}
		if got := key.fast.verifyTable(msg, sig); got != want {
			t.Fatalf("case %d (kind %d): with the table = %v, crypto/ed25519 = %v\npub %x\nmsg %x\nsig %x", i, kind, got, want, key.pub, msg, sig)
		}
		byKind[kind]++
		if want {
			accepted[kind]++
		}
	}
	t.Logf("%d cases; per kind (cases/accepted): %v / %v", n, byKind, accepted)
	if accepted[0] == 0 || accepted[0] == byKind[0] {
		t.Errorf("unmutated signatures: %d of %d accepted; want some of both (mixed-order keys)", accepted[0], byKind[0])
	}
}

// TestWycheproof runs the Wycheproof Ed25519 vectors: for every key that
// NewPublicKey accepts, Verify must agree with crypto/ed25519 and with the
// vector's expected result; the keys it rejects must be small-order or
// non-canonical.
func TestWycheproof(t *testing.T) {
	data, err := wycheproof.TestVectors.Open("ed25519_test.json")
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	var file struct {
		TestGroups []struct {
			PublicKey struct {
				PK string `json:"pk"`
			} `json:"publicKey"`
			Tests []struct {
				TCID   int    `json:"tcId"`
				Msg    string `json:"msg"`
				Sig    string `json:"sig"`
				Result string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.NewDecoder(data).Decode(&file); err != nil {
		t.Fatal(err)
	}
	run := 0
	for _, g := range file.TestGroups {
		pub, err := hex.DecodeString(g.PublicKey.PK)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewPublicKey(pub)
		if err != nil {
			if stdlibAcceptsKey(pub) {
				t.Errorf("key %x rejected: %v", pub, err)
			}
			t.Logf("key %x rejected (%v); its %d tests skipped", pub, err, len(g.Tests))
			continue
		}
		for _, tc := range g.Tests {
			msg, _ := hex.DecodeString(tc.Msg)
			sig, _ := hex.DecodeString(tc.Sig)
			got := k.Verify(msg, sig)
			want := ed25519.Verify(pub, msg, sig)
			if got != want {
				t.Errorf("tcId %d: Verify = %v, crypto/ed25519 = %v", tc.TCID, got, want)
			}
			if fly, tab := k.verifyOnTheFly(msg, sig), k.verifyTable(msg, sig); fly != want || tab != want {
				t.Errorf("tcId %d: on the fly %v, with the table %v, crypto/ed25519 = %v", tc.TCID, fly, tab, want)
			}
			switch tc.Result {
			case "valid":
				if !got {
					t.Errorf("tcId %d: valid signature rejected", tc.TCID)
				}
			case "invalid":
				if got {
					t.Errorf("tcId %d: invalid signature accepted", tc.TCID)
				}
			}
			run++
		}
	}
	if run < 100 {
		t.Fatalf("only %d Wycheproof tests run", run)
	}
	t.Logf("%d Wycheproof tests run", run)
}

// keyCache keeps the tables of fuzzed keys: building one costs about a
// millisecond.
var keyCache = map[string]*PublicKey{}

func FuzzVerify(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	tor := torsion(f)
	for i := range 16 {
		seed := make([]byte, 32)
		seed[0] = byte(i)
		priv := ed25519.NewKeyFromSeed(seed)
		msg := []byte("fuzz message " + strconv.Itoa(i))
		sig := ed25519.Sign(priv, msg)
		msg, sig = mutate(r, i%numKinds, msg, sig, &tor)
		f.Add([]byte(priv.Public().(ed25519.PublicKey)), msg, sig)
	}
	f.Add(tor[1][:], []byte{}, make([]byte, 64))
	f.Add(nonCanonical(1, 0), []byte{}, make([]byte, 64))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		k, ok := keyCache[string(pub)]
		if !ok {
			var err error
			k, err = NewPublicKey(pub)
			if (err == nil) != stdlibAcceptsKey(pub) {
				t.Fatalf("NewPublicKey(%x): %v, want accepted = %v", pub, err, stdlibAcceptsKey(pub))
			}
			if len(keyCache) < 4096 {
				keyCache[string(pub)] = k
			}
		}
		if k == nil {
			return
		}
		if !bytes.Equal(k.Bytes(), pub) {
			t.Fatalf("Bytes() = %x, want %x", k.Bytes(), pub)
		}
		want := ed25519.Verify(pub, msg, sig)
		if got := k.Verify(msg, sig); got != want {
			t.Fatalf("Verify = %v, crypto/ed25519 = %v", got, want)
		}
		if got := k.verifyOnTheFly(msg, sig); got != want {
			t.Fatalf("on the fly = %v, crypto/ed25519 = %v", got, want)
		}
		if got := k.verifyTable(msg, sig); got != want {
			t.Fatalf("with the table = %v, crypto/ed25519 = %v", got, want)
		}
	})
}

// verifyOnTheFly and verifyTable are Verify by either path.
func (k *PublicKey) verifyOnTheFly(msg, sig []byte) bool {
	return len(sig) == 64 && k.verify(msg, sig, nil)
}

func (k *PublicKey) verifyTable(msg, sig []byte) bool {
	k.once.Do(k.precompute)
	return len(sig) == 64 && k.verify(msg, sig, k.a.Load())
}

// TestTableAfter checks that a key's first tableAfter verifications build no
// table and the next one does.
func TestTableAfter(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 42
	priv := ed25519.NewKeyFromSeed(seed)
	k, err := NewPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(priv, nil)
	for i := range tableAfter + 1 {
		if k.a.Load() != nil {
			t.Fatalf("table built after %d verifications", i)
		}
		if !k.Verify(nil, sig) {
			t.Fatal("Verify failed")
		}
	}
	if k.a.Load() == nil {
		t.Fatalf("no table after %d verifications", tableAfter+1)
	}
}

// TestForgeriesBuildNoTable checks that failed verifications, however many,
// never count toward a key's table: only the key's own valid signatures do.
func TestForgeriesBuildNoTable(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 43
	priv := ed25519.NewKeyFromSeed(seed)
	k, err := NewPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(priv, []byte("m"))
	forged := append([]byte(nil), sig...)
	forged[0] ^= 1 // canonical S, wrong R: the whole check runs and fails
	for i := range 10 * tableAfter {
		if k.Verify([]byte("m"), forged) {
			t.Fatal("a forged signature verified")
		}
		if k.Verify([]byte("other"), sig) {
			t.Fatal("a signature verified for another message")
		}
		if k.HasTable() {
			t.Fatalf("table built after %d failed verifications", 2*(i+1))
		}
	}
	for range tableAfter + 1 {
		if !k.Verify([]byte("m"), sig) {
			t.Fatal("Verify failed")
		}
	}
	if !k.HasTable() {
		t.Fatal("no table after the valid signatures")
	}
}

func TestNonAdjacentForm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for it := range 20000 {
		var s [32]byte
		for i := range s {
			s[i] = byte(r.Uint32())
		}
		s[31] &= 0x1f // below 2^253
		if it%7 == 0 {
			for i := range s {
				s[i] = 0xff
			}
			s[31] = 0x1f
		}
		want := new(big.Int)
		for i := 31; i >= 0; i-- {
			want.Lsh(want, 8)
			want.Or(want, big.NewInt(int64(s[i])))
		}
		for _, w := range []uint{nafWidthA, nafWidthB} {
			var naf [256]int8
			nonAdjacentForm(&naf, &s, w)
			sum := new(big.Int)
			last := 1 << 20
			for i := 255; i >= 0; i-- {
				d := naf[i]
				if d != 0 {
					if d%2 == 0 || d >= 1<<(w-1) || d <= -(1<<(w-1)) {
						t.Fatalf("w=%d: digit %d = %d", w, i, d)
					}
					if last-i < int(w) {
						t.Fatalf("w=%d: digits %d and %d closer than w", w, last, i)
					}
					last = i
				}
				sum.Lsh(sum, 1)
				sum.Add(sum, big.NewInt(int64(d)))
			}
			if sum.Cmp(want) != 0 {
				t.Fatalf("w=%d: NAF of %x sums to %x", w, s, sum)
			}
		}
	}
}

func TestTables(t *testing.T) {
	// Every entry of the base table against edwards25519.
	baseOnce.Do(initBase)
	tb := baseTable
	for i := range tb.n {
		for j := 1; j <= tb.half; j++ {
			var sb [32]byte
			n := new(big.Int).Lsh(big.NewInt(int64(j)), uint(tb.w*i))
			if n.Cmp(groupOrder) >= 0 {
				n.Mod(n, groupOrder)
			}
			nb := n.FillBytes(make([]byte, 32))
			for k := range 32 {
				sb[k] = nb[31-k]
			}
			s, err := new(edwards25519.Scalar).SetCanonicalBytes(sb[:])
			if err != nil {
				t.Fatal(err)
			}
			want := new(edwards25519.Point).ScalarBaseMult(s).Bytes()
			var p point
			p.identity()
			p.addNiels(&p, &tb.e[i*tb.half+j-1])
			var got [32]byte
			p.encode(&got)
			if !bytes.Equal(got[:], want) {
				t.Fatalf("base table entry %d*2^(%d*%d): got %x, want %x", j, tb.w, i, got, want)
			}
		}
	}
}

func TestRecode(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for it := range 20000 {
		var s [32]byte
		for i := range s {
			s[i] = byte(r.Uint32())
		}
		s[31] &= 0x1f // below 2^253
		if it%7 == 0 {
			for i := range s { // all ones below 2^253: maximal carries
				s[i] = 0xff
			}
			s[31] = 0x1f
		}
		for w := 4; w <= 8; w++ {
			n := (253 + w - 1) / w
			d := make([]int32, n)
			recode(d, &s, w, n)
			sum := new(big.Int)
			for i := n - 1; i >= 0; i-- {
				if d[i] < -(1<<(w-1)) || d[i] > 1<<(w-1) {
					t.Fatalf("w=%d: digit %d = %d out of range", w, i, d[i])
				}
				sum.Lsh(sum, uint(w))
				sum.Add(sum, big.NewInt(int64(d[i])))
			}
			want := new(big.Int)
			for i := 31; i >= 0; i-- {
				want.Lsh(want, 8)
				want.Or(want, big.NewInt(int64(s[i])))
			}
			if sum.Cmp(want) != 0 {
				t.Fatalf("w=%d: digits of %x sum to %x", w, s, sum)
			}
		}
	}
}

// TestConcurrent verifies with several keys from several goroutines while
// the first NewPublicKey calls build the base table (run with -race).
func TestConcurrent(t *testing.T) {
	done := make(chan error)
	for g := range 4 {
		go func() {
			seed := make([]byte, 32)
			seed[0] = byte(g)
			priv := ed25519.NewKeyFromSeed(seed)
			k, err := NewPublicKey(priv.Public().(ed25519.PublicKey))
			if err != nil {
				done <- err
				return
			}
			for i := range 50 {
				msg := []byte{byte(i)}
				sig := ed25519.Sign(priv, msg)
				if !k.Verify(msg, sig) || k.Verify(msg[:0], sig) {
					done <- errors.New("wrong result")
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeysShared: the same encoding gives the same PublicKey while one is
// reachable, so its table is built once per process; once none is, the
// entry goes.
func TestKeysShared(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 44
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	a, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPublicKey(append([]byte(nil), pub...))
	if a != b {
		t.Fatal("two PublicKeys for one encoding")
	}
	enc := [32]byte(pub)
	a, b = nil, nil
	for i := 0; cached(enc) != nil || func() bool { keysMu.Lock(); defer keysMu.Unlock(); _, ok := keys[enc]; return ok }(); i++ {
		if i == 1000 {
			t.Fatal("the entry of an unreachable key stays")
		}
		runtime.GC()
		runtime.Gosched()
	}
}
