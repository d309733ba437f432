package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
)

// TestIssuerReplicas runs two issuers (the real HTTP API of package
// issuer) on two stores over one schema, as two replicas behind a load
// balancer: a flow started on one is confirmed on the other, attempt
// limits, the resend cooldown and the per-client rate limit hold across
// both, and a key rotated through one is published by the other.
func TestIssuerReplicas(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	sa, sb := openDSN(t, dsn), openDSN(t, dsn)
	var clock atomic.Int64
	clock.Store(1_900_000_000)
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	inbox := &issuer.Inbox{Max: 100}
	const iss = "https://issuer.test"
	start := func(st store.Store) (*issuer.Server, string) {
		srv, err := issuer.New(ctx, issuer.Config{Issuer: iss, Store: st, Sender: inbox, Now: now, RateClient: 6})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		return srv, hs.URL
	}
	// Both start together on an empty database: one first key.
	srvA, urlA := start(sa)
	srvB, urlB := start(sb)
	if ks, _ := sa.SigningKeys(ctx); len(ks) != 1 {
		t.Fatalf("%d first keys", len(ks))
	}

	const apiKey = "kycvs_replica-test-api-key"
	sum := sha256.Sum256([]byte(apiKey))
	if err := sa.PutClient(ctx, store.Client{ID: "rail", Name: "Railways", Origins: []string{"https://rail.test"}, KeyHash: sum[:]}); err != nil {
		t.Fatal(err)
	}
	if err := sb.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "12345678901234", Mobile: "9876543210", Name: "Asha Devi",
		Doses: []store.Dose{{Vaccine: "COVISHIELD", Number: 1, Date: "2021-05-03"}, {Vaccine: "COVISHIELD", Number: 2, Date: "2021-08-01"}}}}); err != nil {
		t.Fatal(err)
	}

	post := func(base, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s", path, b)
		}
		return r.StatusCode, m
	}
	otpRE := regexp.MustCompile(`\b(\d{6})\b`)
	otpFor := func(mobile string) string {
		t.Helper()
		for _, m := range inbox.Messages() {
			if m.To == "+91"+mobile {
				if s := otpRE.FindStringSubmatch(m.Text); s != nil {
					return s[1]
				}
			}
		}
		t.Fatalf("no OTP sent to %s", mobile)
		return ""
	}
	startFlow := func(base, mobile string) string {
		t.Helper()
		code, m := post(base, "/v1/otp", `{"mobile":"`+mobile+`","name":"Asha Devi","nonce":"nonce-replicas"}`)
		if code != 200 {
			t.Fatalf("otp %s on %s: %d %v", mobile, base, code, m)
		}
		return m["txn"].(string)
	}
	confirm := func(base, txn, otp string) (int, map[string]any) {
		return post(base, "/v1/otp/confirm", `{"txn":"`+txn+`","otp":"`+otp+`","consent":true}`)
	}

	// 1. Started on A, confirmed on B; reuse on A fails.
	txn := startFlow(urlA, "9876543210")
	code, m := confirm(urlB, txn, otpFor("9876543210"))
	if code != 200 || m["status"] != float64(2) {
		t.Fatalf("confirm on B: %d %v", code, m)
	}
	jwks, _ := srvA.Keys().JWKS()
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := kycvs.NewVerifier(ks, iss, "rail", kycvs.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := v.Verify(m["token"].(string), "nonce-replicas"); err != nil || tok.Status != kycvs.FullyVaccinated {
		t.Fatalf("token from B, keys from A: %v %v", tok, err)
	}
	if code, m := confirm(urlA, txn, otpFor("9876543210")); code != 404 || m["code"] != "ERR_TXN_UNKNOWN" {
		t.Fatalf("reuse on A: %d %v", code, m)
	}

	// 2. Wrong OTPs alternating between the replicas: 5 in all, then dead.
	txn = startFlow(urlB, "9000000001")
	right := otpFor("9000000001")
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i, base := range []string{urlA, urlB, urlA, urlB, urlA} {
		code, m := confirm(base, txn, wrong)
		if code != 401 || m["code"] != "ERR_OTP_INVALID" {
			t.Fatalf("wrong try %d: %d %v", i, code, m)
		}
	}
	if code, m := confirm(urlB, txn, right); code != 404 || m["code"] != "ERR_TXN_UNKNOWN" {
		t.Fatalf("right OTP after 5 wrong ones: %d %v", code, m)
	}

	// 3. The resend cooldown of one number holds across replicas.
	startFlow(urlA, "9000000002")
	if code, m := post(urlB, "/v1/otp", `{"mobile":"9000000002","name":"X","nonce":"nonce-replicas"}`); code != 429 || m["code"] != "ERR_RATE_LIMITED" {
		t.Fatalf("resend through B: %d %v", code, m)
	}

	// 4. The client's 6 a minute (OTP requests and missed confirmations)
	// are shared: 5 used, one more on B,
	// then A refuses.
	startFlow(urlB, "9000000003")
	if code, m := post(urlA, "/v1/otp", `{"mobile":"9000000004","name":"X","nonce":"nonce-replicas"}`); code != 429 || !strings.Contains(m["detail"].(string), "client") {
		t.Fatalf("7th request of the client, on A: %d %v", code, m)
	}

	// 5. A key rotated through A is published by B after its refresh.
	cfg := srvA.Config()
	kid, _, err := issuer.Rotate(ctx, sa, now(), cfg.Schedule())
	if err != nil {
		t.Fatal(err)
	}
	if err := srvB.Keys().Refresh(ctx, now()); err != nil {
		t.Fatal(err)
	}
	r, err := http.Get(urlB + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), kid) {
		t.Fatalf("B does not publish %s: %s", kid, body)
	}
}

// TestIssuerRestart stops PostgreSQL under a running issuer: its API
// answers 503 problem+json with ERR_UNAVAILABLE (and /readyz 503), then
// serves again once PostgreSQL is back, without a restart of the issuer.
// Only with KYCVS_TEST_PG_RESTART=1 (see TestRestart).
func TestIssuerRestart(t *testing.T) {
	if os.Getenv("KYCVS_TEST_PG_RESTART") != "1" {
		t.Skip("restarts the local PostgreSQL: set KYCVS_TEST_PG_RESTART=1")
	}
	ctx := context.Background()
	st := openDSN(t, freshSchema(t))
	srv, err := issuer.New(ctx, issuer.Config{Issuer: "https://issuer.test", Store: st, Sender: &issuer.Inbox{}, ResendCooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	const apiKey = "kycvs_restart-test-api-key"
	sum := sha256.Sum256([]byte(apiKey))
	if err := st.PutClient(ctx, store.Client{ID: "rail", Name: "Railways", KeyHash: sum[:]}); err != nil {
		t.Fatal(err)
	}
	otp := func() (int, string, string) {
		req, _ := http.NewRequest("POST", hs.URL+"/v1/otp", strings.NewReader(`{"mobile":"9876543210","name":"Asha","nonce":"nonce-restart"}`))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m struct{ Code string }
		json.NewDecoder(r.Body).Decode(&m)
		return r.StatusCode, r.Header.Get("Content-Type"), m.Code
	}
	if code, _, _ := otp(); code != 200 {
		t.Fatalf("before: %d", code)
	}
	pgCtl(t, "stop")
	code, ctype, ecode := otp()
	readyCode := 0
	if r, err := http.Get(hs.URL + "/readyz"); err == nil {
		readyCode = r.StatusCode
		r.Body.Close()
	}
	pgCtl(t, "start")
	if code != 503 || ctype != "application/problem+json" || ecode != "ERR_UNAVAILABLE" {
		t.Errorf("while stopped: %d %s %s", code, ctype, ecode)
	}
	if readyCode != 503 {
		t.Errorf("/readyz while stopped: %d", readyCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, ecode := otp()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered: %d %s", code, ecode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
