package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/pgstore"
)

// counting is a store that records which of its methods are called, in
// order: the work the issuer does, observed without timing it.
type counting struct {
	store.Store
	mu    sync.Mutex
	calls []string
}

func (c *counting) rec(name string) {
	c.mu.Lock()
	c.calls = append(c.calls, name)
	c.mu.Unlock()
}

func (c *counting) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *counting) Beneficiaries(ctx context.Context, m string) ([]store.Beneficiary, error) {
	c.rec("Beneficiaries")
	return c.Store.Beneficiaries(ctx, m)
}

func (c *counting) Txn(ctx context.Context, id string) (*store.Txn, error) {
	c.rec("Txn")
	return c.Store.Txn(ctx, id)
}

func (c *counting) Redeem(ctx context.Context, id string, d []byte, now int64, issue func(*store.Txn) (*store.Issued, error)) (*store.Txn, error) {
	c.rec("Redeem")
	return c.Store.Redeem(ctx, id, d, now, issue)
}

func (c *counting) Take(ctx context.Context, now int64, l ...store.Limit) error {
	c.rec("Take")
	return c.Store.Take(ctx, now, l...)
}

func (c *counting) CreateTxn(ctx context.Context, t store.Txn, now int64, l ...store.Limit) error {
	c.rec("CreateTxn")
	return c.Store.CreateTxn(ctx, t, now, l...)
}

func (c *counting) Client(ctx context.Context, id string) (*store.Client, error) {
	c.rec("Client")
	return c.Store.Client(ctx, id)
}

// pgStore opens PostgreSQL (KYCVS_TEST_POSTGRES, by default the local one)
// on a fresh schema, dropped afterwards; skipped when unreachable, except
// under CI=true.
func pgStore(t *testing.T) store.Store {
	t.Helper()
	dsn := os.Getenv("KYCVS_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable under CI=true: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%s): %v", dsn, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kycvs_work_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := pgstore.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	return st
}

func bothEngines(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("bolt", func(t *testing.T) { f(t, openStore(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, pgStore(t)) })
}

var otpRE = regexp.MustCompile(`^(\d{6}) is your kycvs code`)

// lastOTP is the newest OTP the inbox holds for mobile.
func lastOTP(t *testing.T, in *Inbox, mobile string) []byte {
	t.Helper()
	for _, m := range in.Messages() {
		if s := otpRE.FindStringSubmatch(m.Text); s != nil && m.To == "+91"+mobile {
			sum := sha256.Sum256([]byte(s[1]))
			return sum[:]
		}
	}
	t.Fatalf("no OTP for %s", mobile)
	return nil
}

// TestWorkBeforeTheOTPIsProven: until a confirmation proves its OTP, the
// issuer does the same store calls for a registered number (six long
// Devanagari names) as for an unregistered one, and never reads the
// registry; a proven OTP reads it once.
func TestWorkBeforeTheOTPIsProven(t *testing.T) {
	bothEngines(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(1_900_000_000)
		cs := &counting{Store: st}
		in := &Inbox{Max: 200}
		srv, err := New(ctx, Config{Issuer: "https://issuer.test", Store: cs, Sender: in, ResendCooldown: -1,
			Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
		if err != nil {
			t.Fatal(err)
		}
		const registered, unregistered = "9876543210", "9123456789"
		var bs []store.Beneficiary
		for i := range store.MaxPerMobile {
			bs = append(bs, store.Beneficiary{ID: fmt.Sprint("b", i), Mobile: registered, Name: fmt.Sprintf("अनुराधा रामचंद्रन कृष्णमूर्ति वेंकटसुब्रमण्यम %d", i),
				Doses: []store.Dose{{Vaccine: "COVISHIELD", Number: 1, Date: "2021-05-03"}, {Vaccine: "COVISHIELD", Number: 2, Date: "2021-08-01"}}})
		}
		if err := st.PutBeneficiaries(ctx, bs); err != nil {
			t.Fatal(err)
		}
		c := &store.Client{ID: "rail", Name: "Rail", KeyHash: make([]byte, 32)}
		if err := st.PutClient(ctx, *c); err != nil {
			t.Fatal(err)
		}
		name := bs[0].Name
		start := func(mobile string) (string, []byte) {
			s, err := srv.StartOTP(ctx, c, mobile, name, "", APINative, "", "en")
			if err != nil {
				t.Fatal(err)
			}
			return s.Txn, lastOTP(t, in, mobile)
		}
		wrong := sha256.Sum256([]byte("not-the-otp"))
		work := map[string][]string{}
		for _, mobile := range []string{registered, unregistered} {
			txn, otp := start(mobile)
			expired, expiredOTP := start(mobile)
			embedTxn, _ := srv.StartOTP(ctx, c, mobile, name, "", APIEmbed, "192.0.2.1", "en")
			cs.take()
			var codes []kycvs.Code
			code := func(err error) {
				var ae *apiError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: %v", mobile, err)
				}
				codes = append(codes, ae.Code)
			}
			for range 5 { // wrong OTPs until the transaction is dead
				_, _, err := srv.Confirm(ctx, c, APINative, "", txn, wrong[:], true)
				code(err)
			}
			_, _, err := srv.Confirm(ctx, c, APINative, "", txn, otp, true) // dead, with the right OTP
			code(err)
			_, _, err = srv.Confirm(ctx, c, APINative, "", "no-such-transaction", otp, true)
			code(err)
			_, _, err = srv.Confirm(ctx, c, APICoWIN, "", expired, expiredOTP, true) // another API
			code(err)
			code(srv.Verify(ctx, c, APIEmbed, "192.0.2.1", embedTxn.Txn, wrong[:]))
			clock.Add(int64(srv.Config().OTPTTL/time.Second) + 1)
			_, _, err = srv.Confirm(ctx, c, APINative, "", expired, expiredOTP, true) // expired, right OTP
			code(err)
			want := []kycvs.Code{kycvs.CodeOTPInvalid, kycvs.CodeOTPInvalid, kycvs.CodeOTPInvalid, kycvs.CodeOTPInvalid, kycvs.CodeOTPInvalid,
				kycvs.CodeTxnUnknown, kycvs.CodeTxnUnknown, kycvs.CodeTxnUnknown, kycvs.CodeOTPInvalid, kycvs.CodeOTPExpired}
			if !reflect.DeepEqual(codes, want) {
				t.Fatalf("%s: %v, want %v", mobile, codes, want)
			}
			work[mobile] = cs.take()
			for _, call := range work[mobile] {
				if call == "Beneficiaries" {
					t.Fatalf("%s: the registry was read before an OTP was proven: %v", mobile, work[mobile])
				}
			}
			// A proven OTP reads it exactly once.
			txn, otp = start(mobile)
			cs.take()
			if _, _, err := srv.Confirm(ctx, c, APINative, "", txn, otp, true); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, call := range cs.take() {
				if call == "Beneficiaries" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s: %d registry reads for a proven OTP", mobile, n)
			}
		}
		if !reflect.DeepEqual(work[registered], work[unregistered]) {
			t.Fatalf("different work:\nregistered   %v\nunregistered %v", work[registered], work[unregistered])
		}
	})
}

// TestVerifiedThenExpired: the embed page's check uses nothing up, and a
// checked but unconsented transaction still expires with its OTP.
func TestVerifiedThenExpired(t *testing.T) {
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(1_900_000_000)
	st := openStore(t)
	in := &Inbox{}
	srv, err := New(ctx, Config{Issuer: "https://issuer.test", Store: st, Sender: in, Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{ID: "rail", Name: "Rail", KeyHash: make([]byte, 32)}
	st.PutClient(ctx, *c)
	s1, err := srv.StartOTP(ctx, c, "9876543210", "Asha", "", APIEmbed, "192.0.2.1", "en")
	if err != nil {
		t.Fatal(err)
	}
	otp := lastOTP(t, in, "9876543210")
	for range 3 {
		if err := srv.Verify(ctx, c, APIEmbed, "192.0.2.1", s1.Txn, otp); err != nil {
			t.Fatal(err)
		}
	}
	if tx, _ := st.Txn(ctx, s1.Txn); tx.Consumed || tx.Tries != 0 {
		t.Fatalf("a check changed the transaction: %+v", tx)
	}
	clock.Add(int64(srv.Config().OTPTTL / time.Second))
	_, _, err = srv.Confirm(ctx, c, APIEmbed, "192.0.2.1", s1.Txn, otp, true)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != kycvs.CodeOTPExpired {
		t.Fatalf("consent after the OTP's lifetime: %v", err)
	}
}

// TestForwarded: X-Forwarded-For and -Proto count only from trusted
// proxies; the client is the rightmost address that is not a proxy.
func TestForwarded(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	var gotAddr, gotProto, gotXFF string
	h := s.forwarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAddr, gotProto, gotXFF = r.RemoteAddr, r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-For")
	}))
	for _, c := range []struct {
		peer, xff, proto    string
		wantAddr, wantProto string
	}{
		{"203.0.113.5:4000", "1.2.3.4", "https", "203.0.113.5:4000", ""},                     // untrusted peer: ignored
		{"10.1.1.1:4000", "1.2.3.4", "https", "1.2.3.4:0", "https"},                          // one proxy
		{"10.1.1.1:4000", "6.6.6.6, 1.2.3.4, 10.2.2.2", "http, https", "1.2.3.4:0", "https"}, // spoofed left part, two proxies
		{"10.1.1.1:4000", "", "", "10.1.1.1:0", ""},                                          // no header: the proxy itself
		{"10.1.1.1:4000", "junk, 1.2.3.4", "", "1.2.3.4:0", ""},
		{"[::1]:4000", "2001:db8::7", "", "[2001:db8::7]:0", ""},
		{"10.1.1.1:4000", "1.2.3.4:5678", "", "1.2.3.4:0", ""}, // a proxy that writes ip:port
		{"[::1]:4000", "[2001:db8::7]:443", "", "[2001:db8::7]:0", ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if gotAddr != c.wantAddr || gotProto != c.wantProto {
			t.Errorf("%s %q %q: %s %q, want %s %q", c.peer, c.xff, c.proto, gotAddr, gotProto, c.wantAddr, c.wantProto)
		}
		if c.peer == "203.0.113.5:4000" && gotXFF != "" {
			t.Error("an untrusted X-Forwarded-For reached the handler")
		}
	}
	// One source per IPv4 address, per IPv6 /64.
	cl := &store.Client{ID: "rail"}
	for a, want := range map[string]string{"": "client:rail", "192.0.2.1": "ip:192.0.2.1", "::ffff:192.0.2.1": "ip:192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "ip:2001:db8:1:2::/64", "2001:db8:1:2:ffff::1": "ip:2001:db8:1:2::/64"} {
		if got := source(cl, a); got != want {
			t.Errorf("source(%q) = %q, want %q", a, got, want)
		}
	}
}

// TestLifetimeText: the OTP's SMS never says "0 minutes", in either
// language.
func TestLifetimeText(t *testing.T) {
	for d, want := range map[time.Duration]string{3 * time.Minute: "3 minutes", time.Minute: "1 minute", 30 * time.Second: "30 seconds",
		90 * time.Second: "90 seconds", time.Second: "1 second", 500 * time.Millisecond: "1 second"} {
		if got := lifetime("en", d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{3 * time.Minute: "3 मिनट", time.Minute: "1 मिनट", 30 * time.Second: "30 सेकंड",
		90 * time.Second: "90 सेकंड", time.Second: "1 सेकंड", 500 * time.Millisecond: "1 सेकंड"} {
		if got := lifetime("hi", d); got != want {
			t.Errorf("hi %v: %q, want %q", d, got, want)
		}
	}
}

// TestReceiptText: the receipt names the entity and the time in IST, with
// the month's name in the receipt's language.
func TestReceiptText(t *testing.T) {
	at := time.Date(2026, 12, 6, 15, 4, 0, 0, time.UTC)
	for lang, want := range map[string]string{
		"en": "kycvs: your COVID-19 vaccination status was shared with Rail <Co> at 06 Dec 2026 20:34 IST. If this was not you, contact the issuer.",
		"":   "kycvs: your COVID-19 vaccination status was shared with Rail <Co> at 06 Dec 2026 20:34 IST. If this was not you, contact the issuer.",
		"hi": "kycvs: आपकी COVID-19 टीकाकरण स्थिति 6 दिसंबर 2026, 20:34 IST को Rail <Co> के साथ साझा की गई। अगर यह आपने नहीं किया, तो जारीकर्ता से संपर्क करें।",
	} {
		if got := receiptText(lang, "Rail <Co>", at); got != want {
			t.Errorf("%q:\n%s\nwant\n%s", lang, got, want)
		}
	}
	if got := receiptText("hi", "Rail", time.Date(2027, 1, 31, 18, 30, 0, 0, time.UTC)); !strings.Contains(got, " 1 फ़रवरी 2027, 00:00 IST ") {
		t.Errorf("the day after in IST: %s", got)
	}
}
