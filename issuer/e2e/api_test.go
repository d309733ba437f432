package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

const registry = `beneficiary_id,mobile,name,vaccine,dose,date
10000000000001,9876500001,Asha Devi,COVISHIELD,1,2021-05-03
10000000000001,9876500001,Asha Devi,COVISHIELD,2,2021-08-01
10000000000002,9876500001,Ravi Kumar,COVAXIN,1,2021-06-10
10000000000003,9876500001,Meera Kumar,,,
10000000000004,9876500002,Arjun Singh,SPUTNIK LIGHT,1,2021-09-15
10000000000005,9876500003,Fatima Khan,ZYCOV-D,1,2021-10-01
10000000000005,9876500003,Fatima Khan,ZYCOV-D,2,2021-10-29
10000000000006,9876500004,Kavya Iyer,ZYCOV-D,1,2021-10-01
10000000000006,9876500004,Kavya Iyer,ZYCOV-D,2,2021-10-29
10000000000006,9876500004,Kavya Iyer,ZYCOV-D,3,2021-11-26
10000000000007,9876500005,Dev Patel,COVISHIELD,1,2021-05-03
10000000000007,9876500005,Dev Patel,COVISHIELD,2,2021-08-01
10000000000007,9876500005,Dev Patel,CORBEVAX,3,2022-04-20
`

// setup imports the registry (offline: no server runs yet), starts a
// server and registers two clients through its admin socket.
func setup(t *testing.T, extra ...string) (s *server, keyA, keyB string) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "registry.csv")
	os.WriteFile(file, []byte(registry), 0o600)
	out, errs, code := kycvsCmd(t, "import", "--data", data, file)
	if code != 0 || !strings.Contains(out, "imported 7 beneficiaries (12 doses)") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	s = startServer(t, data, newInbox(t), extra...)
	keyA = s.addClient(t, "rail")
	keyB = s.addClient(t, "office")
	// Re-import through the running server: idempotent.
	out, errs, code = kycvsCmd(t, "import", "--data", data, file)
	if code != 0 || !strings.Contains(out, "imported 7 beneficiaries") {
		t.Fatalf("re-import via the admin socket: %d %q %q", code, out, errs)
	}
	return s, keyA, keyB
}

type person struct {
	mobile, name string
	want         kycvs.Status
}

var people = []person{
	{"9876500001", "Asha Devi", 2},
	{"+919876500001", "  ravi   KUMAR ", 1}, // family member, prefix and name normalisation
	{"09876500001", "Meera Kumar", 0},       // registered without doses
	{"9876500002", "Arjun Singh", 2},        // single-dose vaccine
	{"9876500003", "Fatima Khan", 1},        // 2 of 3 doses
	{"9876500004", "Kavya Iyer", 2},         // 3-dose vaccine
	{"9876500005", "Dev Patel", 2},          // precaution dose keeps 2
	{"9876500001", "Somebody Else", 0},      // proven number, no matching name
	{"9123456789", "Not Registered", 0},     // unregistered mobile
}

func TestNativeAPI(t *testing.T) {
	s, keyA, keyB := setup(t, "--metrics-addr", "127.0.0.1:0")
	jwks := s.jwks(t)
	otps := map[string]int{}
	subs := map[string]string{}
	for _, p := range people {
		m := normMobile(p.mobile)
		nonce := "n0nce-" + strings.ReplaceAll(strings.TrimSpace(p.name), " ", "_")
		tok, st := s.flow(t, keyA, p.mobile, p.name, nonce, otps[m])
		otps[m]++
		if st != p.want {
			t.Errorf("%s %q: status %d, want %d", p.mobile, p.name, st, p.want)
		}
		got := verify(t, jwks, tok, "rail", nonce, p.name)
		if got.Status != p.want || got.Audience != "rail" || got.Nonce != nonce {
			t.Errorf("%q: token %+v", p.name, got.Claims)
		}
		subs[p.name] = got.Subject
		if strings.Contains(tok, m) {
			t.Errorf("token mentions the mobile")
		}
	}
	// Pairwise subjects: stable for one entity, different for another.
	tok, _ := s.flow(t, keyA, "9876500002", "Arjun Singh", "stable-nonce-1", otps["9876500002"])
	otps["9876500002"]++
	if verify(t, jwks, tok, "rail", "stable-nonce-1", "").Subject != subs["Arjun Singh"] {
		t.Error("sub is not stable for one verifying entity")
	}
	tok, _ = s.flow(t, keyB, "9876500002", "Arjun Singh", "other-nonce-1", otps["9876500002"])
	otps["9876500002"]++
	if verify(t, jwks, tok, "office", "other-nonce-1", "").Subject == subs["Arjun Singh"] {
		t.Error("sub is the same for two verifying entities")
	}
	// Each disclosure produced a receipt.
	time.Sleep(200 * time.Millisecond)
	if n := s.in.count("9876500002", "was shared with Entity rail"); n != 2 {
		t.Errorf("%d receipts for rail", n)
	}
	// Metrics, on the private listener.
	mres, err := client.Get("http://" + s.metricsAddr(t) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mraw, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	r := resp{raw: mraw}
	for _, m := range []string{`kycvs_tokens_issued_total{status="2"}`, `kycvs_otp_sent_total{result="sent"}`, `kycvs_confirmations_total{outcome="ok"}`, "kycvs_http_request_duration_seconds_bucket", "kycvs_build_info"} {
		if !strings.Contains(string(r.raw), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if strings.Contains(s.log(), "9876500001") || strings.Contains(s.log(), "Asha") {
		t.Error("the log mentions a mobile number or a name")
	}
}

func TestCoWINAPI(t *testing.T) {
	s, keyA, _ := setup(t)
	jwks := s.jwks(t)
	otps := map[string]int{}
	for i, p := range people {
		m := normMobile(p.mobile)
		hdr := map[string]string{"X-Api-Key": keyA}
		if i%2 == 1 {
			hdr = bearerHdr(keyA)
		}
		st, tok := s.cowinFlow(t, hdr, p.mobile, p.name, otps[m])
		otps[m]++
		if st != p.want {
			t.Errorf("%s %q: status %d, want %d", p.mobile, p.name, st, p.want)
		}
		got := verify(t, jwks, tok, "rail", "", p.name)
		if got.Status != p.want || !kycvs.ValidNonce(got.Nonce) {
			t.Errorf("%q: %+v", p.name, got.Claims)
		}
	}
	// The status call needs the session; a wrong one is 401.
	r := s.do(t, "GET", "/api/v3/vaccination/status", bearerHdr("nope.nope"), "")
	expectProblem(t, r, 401, kycvs.CodeUnauthorized)
	r = s.do(t, "GET", "/api/v3/vaccination/status", nil, "")
	expectProblem(t, r, 401, kycvs.CodeUnauthorized)
	// A caller's nonce is used when given; CoWIN's own optional email is
	// accepted (and neither stored nor used), as the brief says.
	r = s.do(t, "POST", "/api/v3/vaccination/generateOTP", bearerHdr(keyA), jsonBody(map[string]string{"mobile_number": "9876500002", "full_name": "Arjun Singh", "email": "arjun@example.com", "nonce": "given-nonce-42"}))
	if r.code != 200 {
		t.Fatalf("generateOTP with email: %d %s", r.code, r.raw)
	}
	txn := r.body["txnId"].(string)
	sum := sha256.Sum256([]byte(s.in.otp(t, "9876500002", otps["9876500002"])))
	r = s.do(t, "POST", "/api/v3/vaccination/confirmOTP", bearerHdr(keyA), jsonBody(map[string]string{"otp": hex.EncodeToString(sum[:]), "txnId": txn}))
	r = s.do(t, "GET", "/api/v3/vaccination/status", bearerHdr(r.body["token"].(string)), "")
	verify(t, jwks, r.body["kycvs_token"].(string), "rail", "given-nonce-42", "Arjun Singh")
	// A name with a control character is refused, on both APIs.
	r = s.do(t, "POST", "/api/v3/vaccination/generateOTP", bearerHdr(keyA), jsonBody(map[string]string{"mobile_number": "9876500005", "full_name": "Arjun\u0000Singh"}))
	expectProblem(t, r, 400, kycvs.CodeBadRequest)
	r = s.do(t, "POST", "/v1/otp", bearerHdr(keyA), jsonBody(map[string]string{"mobile": "9876500005", "name": "Arjun\nSingh", "nonce": "nonce-ctl-0001"}))
	expectProblem(t, r, 400, kycvs.CodeBadRequest)
	// A wrong hash is a wrong OTP.
	r = s.do(t, "POST", "/api/v3/vaccination/generateOTP", bearerHdr(keyA), jsonBody(map[string]string{"mobile_number": "9876500004", "full_name": "x"}))
	r = s.do(t, "POST", "/api/v3/vaccination/confirmOTP", bearerHdr(keyA), jsonBody(map[string]string{"otp": strings.Repeat("ab", 32), "txnId": r.body["txnId"].(string)}))
	expectProblem(t, r, 401, kycvs.CodeOTPInvalid)
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestWrongOTPsKillTheTransaction(t *testing.T) {
	s, keyA, keyB := setup(t)
	r := s.do(t, "POST", "/v1/otp", bearerHdr(keyA), jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi", "nonce": "abcdefgh"}))
	txn := r.body["txn"].(string)
	otp := s.in.otp(t, "9876500001", 0)
	wrong := "000000"
	if otp == wrong {
		wrong = "111111"
	}
	// Another entity cannot use the transaction.
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyB), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	// No consent: refused, no try used.
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": otp}))
	expectProblem(t, r, 400, kycvs.CodeConsentRequired)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": false}))
	expectProblem(t, r, 400, kycvs.CodeConsentRequired)
	for left := 4; left >= 0; left-- {
		r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": wrong, "consent": true}))
		expectProblem(t, r, 401, kycvs.CodeOTPInvalid)
		if r.body["tries_left"] != float64(left) {
			t.Fatalf("tries_left %v, want %d", r.body["tries_left"], left)
		}
	}
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)

	// Reuse of a used transaction.
	r = s.do(t, "POST", "/v1/otp", bearerHdr(keyA), jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi"}))
	txn = r.body["txn"].(string)
	otp = s.in.otp(t, "9876500001", 1)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(keyA), jsonBody(map[string]any{"txn": "no-such-txn", "otp": otp, "consent": true}))
	expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
}

func TestAuthAndBadRequests(t *testing.T) {
	s, keyA, _ := setup(t)
	otpBody := jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi"})
	for _, c := range []struct {
		path string
		hdr  map[string]string
	}{
		{"/v1/otp", nil},
		{"/v1/otp", bearerHdr("kycvs_wrong")},
		{"/v1/otp", map[string]string{"X-Api-Key": keyA}}, // native API: Bearer only
		{"/v1/otp", map[string]string{"Authorization": "Basic " + keyA}},
		{"/v1/otp/confirm", nil},
		{"/api/v3/vaccination/generateOTP", nil},
		{"/api/v3/vaccination/generateOTP", map[string]string{"X-Api-Key": "kycvs_wrong"}},
		{"/api/v3/vaccination/confirmOTP", nil},
	} {
		r := s.do(t, "POST", c.path, c.hdr, otpBody)
		expectProblem(t, r, 401, kycvs.CodeUnauthorized)
		if r.hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", c.path)
		}
	}
	auth := bearerHdr(keyA)
	for _, body := range []string{
		"{", "[]", "null x", `{"mobile":5,"name":"A"}`, `{"mobile":"9876500001"}`, `{"mobile":"12345","name":"A"}`,
		`{"mobile":"9876500001","name":"   "}`, `{"mobile":"9876500001","name":"A","nonce":"short"}`,
		`{"mobile":"9876500001","name":"A"} {}`, `{"mobile":"9876500001","name":"A","nonce":"bad nonce!!"}`,
	} {
		r := s.do(t, "POST", "/v1/otp", auth, body)
		expectProblem(t, r, 400, kycvs.CodeBadRequest)
	}
	for _, body := range []string{`{"txn":"x","otp":"12345","consent":true}`, `{"txn":"","otp":"123456","consent":true}`, `{"txn":"x","otp":123456}`} {
		r := s.do(t, "POST", "/v1/otp/confirm", auth, body)
		expectProblem(t, r, 400, kycvs.CodeBadRequest)
	}
	r := s.do(t, "POST", "/api/v3/vaccination/confirmOTP", auth, `{"txnId":"x","otp":"123456"}`)
	expectProblem(t, r, 400, kycvs.CodeBadRequest)
	big := `{"mobile":"9876500001","name":"` + strings.Repeat("a", 17<<10) + `"}`
	for _, p := range []string{"/v1/otp", "/v1/otp/confirm", "/api/v3/vaccination/generateOTP"} {
		r := s.do(t, "POST", p, auth, big)
		expectProblem(t, r, 413, kycvs.CodeTooLarge)
	}
	// Discovery documents.
	r = s.do(t, "GET", "/.well-known/jwks.json", nil, "")
	if r.hdr.Get("Content-Type") != "application/jwk-set+json" || r.hdr.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.hdr.Get("Cache-Control"), "max-age=300") || r.hdr.Get("ETag") == "" {
		t.Errorf("jwks headers %v", r.hdr)
	}
	r2 := s.do(t, "GET", "/.well-known/jwks.json", map[string]string{"If-None-Match": r.hdr.Get("ETag")}, "")
	if r2.code != 304 {
		t.Errorf("If-None-Match: %d", r2.code)
	}
	r = s.do(t, "GET", "/.well-known/kycvs-configuration", nil, "")
	if r.body["issuer"] != issuerID || r.body["jwks_uri"] != issuerID+"/.well-known/jwks.json" || r.body["token_lifetime"] != float64(300) {
		t.Errorf("configuration %s", r.raw)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := s.do(t, "GET", p, nil, ""); r.code != 200 {
			t.Errorf("%s: %d", p, r.code)
		}
	}
	s.stop(t)
}

// TestLimitsAndExpiry runs with the production cooldown and a 1 s OTP.
func TestLimitsAndExpiry(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--otp-cooldown", "60s", "--otp-ttl", "1s", "--otp-per-day", "3", "--rate-client", "4")
	key := s.addClient(t, "rail")
	body := jsonBody(map[string]string{"mobile": "9876500001", "name": "Asha Devi"})
	r := s.do(t, "POST", "/v1/otp", bearerHdr(key), body)
	txn := r.body["txn"].(string)
	r = s.do(t, "POST", "/v1/otp", bearerHdr(key), body)
	expectProblem(t, r, 429, kycvs.CodeRateLimited)
	if ra := r.hdr.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	otp := in.otp(t, "9876500001", 0)
	time.Sleep(2100 * time.Millisecond)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	expectProblem(t, r, 410, kycvs.CodeOTPExpired)
	// A failed delivery is a 503 that says nothing about registration.
	in.mu.Lock()
	in.fail = true
	in.mu.Unlock()
	r = s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9123456780", "name": "X"}))
	expectProblem(t, r, 503, kycvs.CodeUnavailable)
	in.mu.Lock()
	in.fail = false
	in.mu.Unlock()
	// Per client: 4 a minute (the cooldown refusal counted nothing; the
	// confirmation of the expired transaction and the failed delivery did).
	r = s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9123456781", "name": "X"}))
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	r = s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9123456782", "name": "X"}))
	expectProblem(t, r, 429, kycvs.CodeRateLimited)
	if !strings.Contains(r.body["detail"].(string), "client") {
		t.Errorf("limit: %s", r.raw)
	}
	// Per mobile per day: 3.
	s2 := startServer(t, "", in, "--otp-per-day", "3")
	key2 := s2.addClient(t, "rail")
	for i := range 4 {
		r = s2.do(t, "POST", "/v1/otp", bearerHdr(key2), jsonBody(map[string]string{"mobile": "9123456783", "name": "X"}))
		if i < 3 && r.code != 200 {
			t.Fatalf("otp %d: %d %s", i, r.code, r.raw)
		}
	}
	expectProblem(t, r, 429, kycvs.CodeRateLimited)
}

// TestUnknownRoutes: paths and methods the API does not have get
// problem+json with a code, like every other error.
func TestUnknownRoutes(t *testing.T) {
	s, _, _ := setup(t)
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/no/such/path", 404, "ERR_NOT_FOUND", ""},
		{"POST", "/v2/otp", 404, "ERR_NOT_FOUND", ""},
		{"GET", "/v1/otp", 405, "ERR_METHOD_NOT_ALLOWED", "POST"},
		{"DELETE", "/.well-known/jwks.json", 405, "ERR_METHOD_NOT_ALLOWED", "GET, OPTIONS"},
	} {
		r := s.do(t, c.method, c.path, nil, "")
		if r.code != c.status || r.body["code"] != c.code || r.hdr.Get("Content-Type") != "application/problem+json" || r.hdr.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %v %q, want %d %s Allow %q", c.method, c.path, r.code, r.body["code"], r.hdr.Get("Allow"), c.status, c.code, c.allow)
		}
	}
}
