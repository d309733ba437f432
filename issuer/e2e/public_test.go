package e2e

// The issuer's public surface, tried as an attacker would: nobody locks a
// person out, learns who is registered, or watches disclosures.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kycvs/kycvs"
)

// freshSchema creates an empty PostgreSQL schema (KYCVS_TEST_POSTGRES, by
// default the one on this machine) and returns a URL that uses it; it is
// dropped when the test ends. Without a reachable server the test is
// skipped, except under CI=true, where that is a failure.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("KYCVS_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable under CI=true (%s): %v", dsn, err)
		}
		t.Skipf("PostgreSQL unreachable (%s; set KYCVS_TEST_POSTGRES): %v", dsn, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kycvs_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// engines runs f on the embedded store and on PostgreSQL; st are the flags
// that name a fresh, empty store.
func engines(t *testing.T, f func(t *testing.T, st []string)) {
	t.Run("bolt", func(t *testing.T) { f(t, []string{"--data", t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { f(t, []string{"--postgres", freshSchema(t)}) })
}

// startOn starts a server on the store st names.
func startOn(t *testing.T, st []string, in *inbox, extra ...string) *server {
	t.Helper()
	if st[0] == "--data" {
		return startServer(t, st[1], in, extra...)
	}
	return startServer(t, "", in, append(extra, st...)...)
}

// importOn imports a CSV text into the store st names.
func importOn(t *testing.T, st []string, csv string) (string, string, int) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "registry.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return kycvsCmd(t, append(append([]string{"import"}, st...), file)...)
}

var pageTokenRE = regexp.MustCompile(`data-page-token="([^"]+)"`)

// page is one embed page opened by a browser at a given address.
type page struct {
	s      *server
	token  string
	cookie *http.Cookie
	hdr    map[string]string // sent with every call (X-Forwarded-For, …)
}

// openPage opens the embed page of client id (registered with the origin
// https://<id>.example) with extra request headers.
func (s *server) openPage(t *testing.T, id string, hdr map[string]string) (*page, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/embed?client_id="+id+"&nonce=nonce-"+id+"-0001&origin=https://"+id+".example", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := pageTokenRE.FindSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("embed page: %d %s", res.StatusCode, body)
	}
	p := &page{s: s, token: string(m[1]), hdr: hdr}
	for _, c := range res.Cookies() {
		if c.Name == "kycvs_embed" {
			p.cookie = c
		}
	}
	return p, res
}

// call is one of the page's own calls.
func (p *page) call(t *testing.T, path string, body any) resp {
	t.Helper()
	hdr := map[string]string{"X-KYCVS-Page": p.token, "Sec-Fetch-Site": "same-origin", "Origin": p.s.url}
	if p.cookie != nil {
		hdr["Cookie"] = p.cookie.Name + "=" + p.cookie.Value
	}
	for k, v := range p.hdr {
		hdr[k] = v
	}
	return p.s.do(t, "POST", path, hdr, jsonBody(body))
}

// TestNoLockout: one source that uses up its share of a number leaves every
// other source able to reach it, and an SMS the gateway never took costs the
// person nothing. Behind a trusted proxy, each browser is its own source.
func TestNoLockout(t *testing.T) {
	engines(t, func(t *testing.T, st []string) {
		in := newInbox(t)
		s := startOn(t, st, in, "--trusted-proxies", "127.0.0.1/32", "--rate-ip", "600")
		key := s.addClient(t, "rail")
		const mobile = "9876500001"
		attacker, _ := s.openPage(t, "rail", map[string]string{"X-Forwarded-For": "203.0.113.7"})
		var refused resp
		sent := 0
		for range 25 {
			refused = attacker.call(t, "/embed/otp", map[string]string{"mobile": mobile, "name": "Anyone"})
			if refused.code != 200 {
				break
			}
			sent++
		}
		expectProblem(t, refused, 429, kycvs.CodeRateLimited)
		if sent != 5 || !strings.Contains(refused.raw2(), "mobile-source") {
			t.Fatalf("the address got %d OTPs for the number before %s", sent, refused.raw)
		}
		// The entity's own call, and another address, still reach the number.
		r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": mobile, "name": "Asha Devi"}))
		if r.code != 200 {
			t.Fatalf("the entity is locked out: %d %s", r.code, r.raw)
		}
		other, _ := s.openPage(t, "rail", map[string]string{"X-Forwarded-For": "198.51.100.9"})
		if r := other.call(t, "/embed/otp", map[string]string{"mobile": mobile, "name": "Asha Devi"}); r.code != 200 {
			t.Fatalf("another address is locked out: %d %s", r.code, r.raw)
		}
		if n := in.count(mobile, "is your kycvs code"); n != 7 {
			t.Fatalf("%d OTPs delivered, want 7", n)
		}

		// The gateway is down: 12 undelivered OTPs (more than the number's
		// share for one source), then it is back.
		const other2 = "9876500002"
		in.mu.Lock()
		in.fail = true
		in.mu.Unlock()
		for range 12 {
			r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": other2, "name": "Arjun Singh"}))
			expectProblem(t, r, 503, kycvs.CodeUnavailable)
		}
		in.mu.Lock()
		in.fail = false
		in.mu.Unlock()
		r = s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": other2, "name": "Arjun Singh"}))
		if r.code != 200 {
			t.Fatalf("after an outage the person is locked out: %d %s", r.code, r.raw)
		}
	})
}

func (r resp) raw2() string { return string(r.raw) }

// TestSpoofedForwardedFor: from a peer that is not a trusted proxy,
// X-Forwarded-For and X-Forwarded-Proto change nothing.
func TestSpoofedForwardedFor(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--rate-ip", "600")
	s.addClient(t, "rail")
	sent := 0
	var last resp
	for i := range 25 {
		p, res := s.openPage(t, "rail", map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1), "X-Forwarded-Proto": "https"})
		if p.cookie == nil || p.cookie.Secure || res.Header.Get("Set-Cookie") == "" || strings.Contains(res.Header.Get("Set-Cookie"), "Secure") {
			t.Fatalf("an untrusted X-Forwarded-Proto changed the cookie: %q", res.Header.Get("Set-Cookie"))
		}
		last = p.call(t, "/embed/otp", map[string]string{"mobile": "9876500001", "name": "Anyone"})
		if last.code != 200 {
			break
		}
		sent++
	}
	if sent != 5 {
		t.Fatalf("spoofed addresses got %d OTPs for one number (want the one address's 5): %s", sent, last.raw)
	}
	// Through a trusted proxy the header is believed.
	s2 := startServer(t, "", in, "--trusted-proxies", "127.0.0.0/8,::1/128")
	s2.addClient(t, "rail")
	if p, res := s2.openPage(t, "rail", map[string]string{"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https"}); p.cookie == nil || !strings.Contains(res.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("a trusted proxy's X-Forwarded-Proto was ignored: %q", res.Header.Get("Set-Cookie"))
	}
	// A bad --trusted-proxies is a usage error.
	if _, errs, code := kycvsCmd(t, "serve", "--data", t.TempDir(), "--issuer", issuerID, "--trusted-proxies", "10.0.0.0/33"); code != 2 || !strings.Contains(errs, "--trusted-proxies") {
		t.Fatalf("bad CIDR: %d %q", code, errs)
	}
}

// metric reads one sample from the private metrics listener.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	res, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// metricsAddr returns the address the server logged for its metrics.
func (s *server) metricsAddr(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(s.log())
	if m == nil {
		t.Fatalf("no metrics listener:\n%s", s.log())
	}
	return m[1]
}

// TestUnregisteredLooksTheSame: the OTP answer has the same status, headers
// and body shape for registered and unregistered numbers, and no
// confirmation reads the registry before its OTP is proven: counted by the
// issuer's kycvs_registry_reads_total, not timed.
func TestUnregisteredLooksTheSame(t *testing.T) {
	s, keyA, _ := setup(t, "--otp-per-day", "1000", "--otp-per-source", "1000", "--metrics-addr", "127.0.0.1:0")
	maddr := s.metricsAddr(t)
	reads := func() float64 { return metric(t, maddr, "kycvs_registry_reads_total") }
	var shapes [2][]string
	mobiles := [2]string{"9876500001", "9123450001"} // registered (3 people), unregistered
	for i, mobile := range mobiles {
		r := s.do(t, "POST", "/v1/otp", bearerHdr(keyA), jsonBody(map[string]string{"mobile": mobile, "name": "Asha Devi"}))
		if r.code != 200 || r.body["expires_in"] != float64(180) || len(r.body["txn"].(string)) != 22 {
			t.Fatalf("%s: %d %s", mobile, r.code, r.raw)
		}
		shapes[i] = append(keys(r.body), r.hdr.Get("Content-Type"), r.hdr.Get("Cache-Control"))
		txn := r.body["txn"].(string)
		otp := s.in.otp(t, mobile, 0)
		wrong := fmt.Sprintf("%06d", (atoi(otp)+1)%1000000)
		before := reads()
		// Wrong OTPs until the transaction is dead, then more on the dead one,
		// and on one that never was.
		for range 5 {
			r := s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": wrong, "consent": true}))
			expectProblem(t, r, 401, kycvs.CodeOTPInvalid)
		}
		for _, id := range []string{txn, "never-was-a-transaction"} {
			r := s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": id, "otp": otp, "consent": true}))
			expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
		}
		if got := reads(); got != before {
			t.Fatalf("%s: %v registry reads before any OTP was proven", mobile, got-before)
		}
		// The right OTP reads it once.
		r = s.do(t, "POST", "/v1/otp", bearerHdr(keyA), jsonBody(map[string]string{"mobile": mobile, "name": "Asha Devi"}))
		otp = s.in.otp(t, mobile, 1)
		r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": r.body["txn"], "otp": otp, "consent": true}))
		if r.code != 200 || reads() != before+1 {
			t.Fatalf("%s: right OTP: %d %s, %v reads", mobile, r.code, r.raw, reads()-before)
		}
	}
	if !reflect.DeepEqual(shapes[0], shapes[1]) {
		t.Errorf("registered %v, unregistered %v", shapes[0], shapes[1])
	}
}

func hexSHA(otp string) string {
	sum := sha256.Sum256([]byte(otp))
	return hex.EncodeToString(sum[:])
}

// TestMissesAreLimited: confirmations of unknown, dead or expired
// transactions draw on the caller's allowance and are refused once it is
// spent — for an API client and for an address on the embed page.
func TestMissesAreLimited(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--rate-client", "3", "--rate-ip", "3")
	key := s.addClient(t, "rail")
	misses := 0
	var r resp
	for range 30 {
		r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": "no-such-txn", "otp": "123456", "consent": true}))
		if r.code != 404 {
			break
		}
		misses++
	}
	expectProblem(t, r, 429, kycvs.CodeRateLimited)
	if misses != 3 {
		t.Fatalf("%d misses before 429, want 3", misses)
	}
	p, _ := s.openPage(t, "rail", nil)
	misses = 0
	for range 30 {
		r = p.call(t, "/embed/confirm", map[string]any{"txn": "no-such-txn", "otp": "123456", "consent": true})
		if r.code != 404 {
			break
		}
		misses++
	}
	expectProblem(t, r, 429, kycvs.CodeRateLimited)
	if misses != 3 {
		t.Fatalf("embed: %d misses before 429, want 3", misses)
	}
}

// TestMetricsArePrivate: the public listener has no /metrics; the private
// one does.
func TestMetricsArePrivate(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--metrics-addr", "127.0.0.1:0")
	r := s.do(t, "GET", "/metrics", nil, "")
	expectProblem(t, r, 404, kycvs.CodeNotFound)
	res, err := client.Get("http://" + s.metricsAddr(t) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "kycvs_tokens_issued_total") {
		t.Fatalf("private /metrics: %d", res.StatusCode)
	}
	// Off unless set.
	s2 := startServer(t, "", in)
	if strings.Contains(s2.log(), "metrics listening") {
		t.Fatal("a metrics listener without --metrics-addr")
	}
}

// TestDemoOnlyWithTheLogSender: --demo puts every OTP on a public page, so
// it refuses a real sender.
func TestDemoOnlyWithTheLogSender(t *testing.T) {
	cmd := exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--issuer", issuerID,
		"--sms", "webhook", "--sms-webhook", "http://127.0.0.1:1/send")
	var errs strings.Builder
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // it started serving: kill it, and fail below
		cmd.Process.Kill()
		<-done
	}
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(errs.String(), "--sms log") {
		t.Fatalf("--demo --sms webhook: exit %d, %q", code, errs.String())
	}
}

// TestConfirmOnlyThroughItsAPI: a /v1 transaction confirmed through the
// CoWIN API is unknown there, and nothing is used, signed, logged or sent;
// it still completes through /v1.
func TestConfirmOnlyThroughItsAPI(t *testing.T) {
	s, key, _ := setup(t)
	r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi", "nonce": "mixup-nonce-1"}))
	txn := r.body["txn"].(string)
	otp := s.in.otp(t, "9876500001", 0)
	sum := hexSHA(otp)
	r = s.do(t, "POST", "/api/v3/vaccination/confirmOTP", map[string]string{"X-Api-Key": key}, jsonBody(map[string]string{"otp": sum, "txnId": txn}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	if n := s.in.count("9876500001", "status was shared"); n != 0 {
		t.Fatalf("%d receipts after a refused confirmation", n)
	}
	// And the other way round.
	r = s.do(t, "POST", "/api/v3/vaccination/generateOTP", map[string]string{"X-Api-Key": key}, jsonBody(map[string]string{"mobile_number": "9876500002", "full_name": "Arjun Singh"}))
	cowinTxn := r.body["txnId"].(string)
	cowinOTP := s.in.otp(t, "9876500002", 0)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": cowinTxn, "otp": cowinOTP, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	// Nothing was used: both complete through their own API.
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	if r.code != 200 || r.body["token"] == "" {
		t.Fatalf("/v1 after the mix-up: %d %s", r.code, r.raw)
	}
	r = s.do(t, "POST", "/api/v3/vaccination/confirmOTP", map[string]string{"X-Api-Key": key}, jsonBody(map[string]string{"otp": hexSHA(cowinOTP), "txnId": cowinTxn}))
	if r.code != 200 {
		t.Fatalf("CoWIN after the mix-up: %d %s", r.code, r.raw)
	}
}

// TestEmbedChecksTheCodeFirst: the embed page's code is checked before
// consent (a wrong one is told at once, with the tries left, and a right
// one uses nothing up), and the page's transaction is confirmed only by the
// page.
func TestEmbedChecksTheCodeFirst(t *testing.T) {
	s, key, _ := setup(t)
	p, _ := s.openPage(t, "rail", nil)
	r := p.call(t, "/embed/otp", map[string]string{"mobile": "9876500001", "name": "Asha Devi"})
	if r.code != 200 {
		t.Fatalf("otp: %d %s", r.code, r.raw)
	}
	txn := r.body["txn"].(string)
	otp := s.in.otp(t, "9876500001", 0)
	wrong := fmt.Sprintf("%06d", (atoi(otp)+1)%1000000)
	r = p.call(t, "/embed/verify", map[string]string{"txn": txn, "otp": wrong})
	expectProblem(t, r, 401, kycvs.CodeOTPInvalid)
	if r.body["tries_left"] != float64(4) {
		t.Fatalf("tries_left %v", r.body["tries_left"])
	}
	r = p.call(t, "/embed/verify", map[string]string{"txn": txn, "otp": otp})
	if r.code != 200 || r.body["verified"] != true {
		t.Fatalf("verify: %d %s", r.code, r.raw)
	}
	r = p.call(t, "/embed/verify", map[string]string{"txn": txn, "otp": otp})
	if r.code != 200 {
		t.Fatalf("verify again (nothing used): %d %s", r.code, r.raw)
	}
	// The entity's server cannot confirm the page's transaction.
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	if n := s.in.count("9876500001", "status was shared"); n != 0 {
		t.Fatal("a receipt before consent")
	}
	r = p.call(t, "/embed/confirm", map[string]any{"txn": txn, "otp": otp, "consent": true})
	if r.code != 200 || r.body["token"] == "" {
		t.Fatalf("confirm: %d %s", r.code, r.raw)
	}
}

// TestSMSLanguage: the embed page's language, as the page sends it, is the
// language of both its SMS texts, the code and the receipt, on both
// engines; /v1 sends English unless its body asks for Hindi, CoWIN sends
// English, and a language other than "en" or "hi" is refused before
// anything is sent.
func TestSMSLanguage(t *testing.T) {
	engines(t, func(t *testing.T, st []string) {
		in := newInbox(t)
		s := startOn(t, st, in)
		key := s.addClient(t, "rail")
		p, _ := s.openPage(t, "rail", nil)

		// In Hindi, through the code, the check and the consent.
		r := p.call(t, "/embed/otp", map[string]string{"mobile": "9876500001", "name": "Asha Devi", "lang": "hi"})
		if r.code != 200 {
			t.Fatalf("otp: %d %s", r.code, r.raw)
		}
		txn := r.body["txn"].(string)
		otp := in.otp(t, "9876500001", 0)
		want := otp + " आपका kycvs कोड है, जिससे आपकी COVID-19 टीकाकरण स्थिति Entity rail के साथ साझा होगी। यह 3 मिनट में समाप्त हो जाएगा। यह कोड किसी को न बताएँ।"
		if got := in.wait(t, "9876500001", otp); got != want {
			t.Errorf("Hindi OTP text:\n%s\nwant\n%s", got, want)
		}
		if r := p.call(t, "/embed/verify", map[string]string{"txn": txn, "otp": otp}); r.code != 200 {
			t.Fatalf("verify: %d %s", r.code, r.raw)
		}
		if r := p.call(t, "/embed/confirm", map[string]any{"txn": txn, "otp": otp, "consent": true}); r.code != 200 {
			t.Fatalf("confirm: %d %s", r.code, r.raw)
		}
		receipt := in.wait(t, "9876500001", "kycvs: आपकी COVID-19 टीकाकरण स्थिति ")
		if !regexp.MustCompile(`^kycvs: आपकी COVID-19 टीकाकरण स्थिति \d{1,2} \p{Devanagari}+ 20\d\d, \d\d:\d\d IST को Entity rail के साथ साझा की गई। अगर यह आपने नहीं किया, तो जारीकर्ता से संपर्क करें।$`).MatchString(receipt) {
			t.Errorf("Hindi receipt: %s", receipt)
		}

		// English: the page that sends no language, and /v1 unless asked.
		if r := p.call(t, "/embed/otp", map[string]string{"mobile": "9876500002", "name": "Ravi Kumar"}); r.code != 200 {
			t.Fatalf("otp: %d %s", r.code, r.raw)
		}
		in.wait(t, "9876500002", in.otp(t, "9876500002", 0)+" is your kycvs code to share your COVID-19 vaccination status with Entity rail.")
		for mobile, lang := range map[string]string{"9876500003": "", "9876500004": "en", "9876500005": "hi"} {
			body := map[string]string{"mobile": mobile, "name": "Kavya Iyer"}
			if lang != "" {
				body["lang"] = lang
			}
			if r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(body)); r.code != 200 {
				t.Fatalf("/v1/otp %q: %d %s", lang, r.code, r.raw)
			}
			prefix := " is your kycvs code"
			if lang == "hi" {
				prefix = " आपका kycvs कोड है"
			}
			in.wait(t, mobile, in.otp(t, mobile, 0)+prefix)
		}
		r = s.do(t, "POST", "/api/v3/vaccination/generateOTP", map[string]string{"X-Api-Key": key}, jsonBody(map[string]string{"mobile_number": "9876500006", "full_name": "Arjun Singh"}))
		if r.code != 200 {
			t.Fatalf("CoWIN generateOTP: %d %s", r.code, r.raw)
		}
		in.wait(t, "9876500006", in.otp(t, "9876500006", 0)+" is your kycvs code")

		// Any other language is refused, and nothing is sent.
		for _, lang := range []string{"fr", "HI", "", "hi-IN"} {
			expectProblem(t, p.call(t, "/embed/otp", map[string]string{"mobile": "9876500007", "name": "Asha Devi", "lang": lang}), 400, kycvs.CodeBadRequest)
			expectProblem(t, s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9876500007", "name": "Asha Devi", "lang": lang})), 400, kycvs.CodeBadRequest)
		}
		if n := in.count("9876500007", ""); n != 0 {
			t.Errorf("%d messages sent for refused languages", n)
		}
	})
}

// TestStrictBodies: member names are exact, unique and known; the body is
// application/json; errors name members, not Go types.
func TestStrictBodies(t *testing.T) {
	s, key, _ := setup(t)
	for name, c := range map[string]struct {
		body, want string
	}{
		"case-folded name": {`{"MOBILE":"9876500001","name":"Asha Devi"}`, `unknown member "MOBILE"`},
		"duplicate":        {`{"mobile":"9123456789","mobile":"9876500001","name":"Asha Devi"}`, `duplicate member name "mobile"`},
		"unknown":          {`{"mobile":"9876500001","name":"Asha Devi","admin":true}`, `unknown member "admin"`},
		"wrong type":       {`{"mobile":9876500001,"name":"Asha Devi"}`, `"mobile" must be a string`},
		"not an object":    {`["mobile"]`, "want a JSON object"},
		"trailing":         {`{"mobile":"9876500001","name":"Asha Devi"} {}`, "trailing data"},
	} {
		r := s.do(t, "POST", "/v1/otp", bearerHdr(key), c.body)
		expectProblem(t, r, 400, kycvs.CodeBadRequest)
		detail, _ := r.body["detail"].(string)
		if !strings.Contains(detail, c.want) || strings.Contains(detail, "Go ") || strings.Contains(detail, "struct") {
			t.Errorf("%s: %q, want %q", name, detail, c.want)
		}
	}
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
		req, _ := http.NewRequest("POST", s.url+"/v1/otp", strings.NewReader(`{"mobile":"9876500001","name":"Asha Devi"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 415 || !strings.Contains(string(body), string(kycvs.CodeMediaType)) {
			t.Errorf("Content-Type %q: %d %s", ct, res.StatusCode, body)
		}
	}
	if n := s.in.count("9876500001", "is your kycvs code"); n != 0 {
		t.Fatalf("%d OTPs sent for refused bodies", n)
	}
}

// TestSecondsInTheOTPText: an OTP lifetime under a minute is said in
// seconds.
func TestSecondsInTheOTPText(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--otp-ttl", "30s")
	key := s.addClient(t, "rail")
	s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi"}))
	s.in.otp(t, "9876500001", 0)
	if in.count("9876500001", "It expires in 30 seconds.") != 1 {
		t.Fatalf("OTP text: %q", in.msgs["+919876500001"])
	}
}

// TestWebhookURLNotLogged: a failing webhook's credentials (user info,
// query string) never reach the log.
func TestWebhookURLNotLogged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := "http://user:pa55word@" + ln.Addr().String() + "/send?api_key=S3CRET"
	ln.Close() // nothing listens: every delivery fails
	s := startServer(t, "", newInbox(t), "--sms-webhook", hook)
	key := s.addClient(t, "rail")
	r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi"}))
	expectProblem(t, r, 503, kycvs.CodeUnavailable)
	log := s.log()
	if !strings.Contains(log, "otp delivery failed") || strings.Contains(log, "S3CRET") || strings.Contains(log, "pa55word") {
		t.Fatalf("log:\n%s", log)
	}
}

// TestConnectionCap: connections beyond --max-conns wait until one closes,
// and the default cap follows the descriptor limit.
func TestConnectionCap(t *testing.T) {
	s := startServer(t, "", newInbox(t), "--max-conns", "4")
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	done := make(chan int, 1)
	go func() {
		res, err := client.Get(s.url + "/healthz")
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	select {
	case code := <-done:
		t.Fatalf("a fifth connection was served (%d) while four were open", code)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	if code := <-done; code != 200 {
		t.Fatalf("after one closed: %d", code)
	}
	for _, c := range held[1:] {
		c.Close()
	}
	// Sized from the descriptor limit: half of it.
	sh := startServerCmd(t, "ulimit -n 300 && exec \"$0\" \"$@\"")
	if !strings.Contains(sh.log(), `"max_conns":150`) {
		t.Fatalf("with 300 descriptors:\n%s", sh.log())
	}
}

// startServerCmd starts the server through sh -c script (which execs it).
func startServerCmd(t *testing.T, script string) *server {
	t.Helper()
	real := bin
	wrapper := filepath.Join(t.TempDir(), "kycvs")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nset -- \""+real+"\" \"$@\"\n"+strings.ReplaceAll(script, `"$0" "$@"`, `"$@"`)+"\n"), 0o700)
	bin = wrapper
	defer func() { bin = real }()
	return startServer(t, "", newInbox(t))
}

// TestImportAllOrNothing: a file whose last line puts a name already
// registered on a number (spelled otherwise) is refused with that line,
// and nothing of it is written, on both engines.
func TestImportAllOrNothing(t *testing.T) {
	engines(t, func(t *testing.T, st []string) {
		if _, errs, code := importOn(t, st, registry); code != 0 {
			t.Fatal(errs)
		}
		var b strings.Builder
		b.WriteString("beneficiary_id,mobile,name,vaccine,dose,date\n")
		for i := range 20000 {
			fmt.Fprintf(&b, "3%013d,8%09d,Person %d,COVAXIN,1,2021-06-01\n", i, i, i)
		}
		b.WriteString("30000000099999,9876500001,  asha   DEVI ,,,\n")
		_, errs, code := importOn(t, st, b.String())
		if code != 1 || !strings.Contains(errs, "line 20002: mobile 9876500001") || !strings.Contains(errs, "already registered") {
			t.Fatalf("duplicate name across files: exit %d, %q", code, errs)
		}
		in := newInbox(t)
		s := startOn(t, st, in)
		key := s.addClient(t, "rail")
		if _, status := s.flow(t, key, "8000000000", "Person 0", "nonce-after-refusal", 0); status != 0 {
			t.Fatalf("the refused file's first person has status %d: it was written", status)
		}
		if _, status := s.flow(t, key, "9876500001", "Asha Devi", "nonce-asha-still-2", 0); status != 2 {
			t.Fatalf("Asha Devi: status %d", status)
		}
	})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
