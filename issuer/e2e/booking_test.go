package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// demoOTP waits for the newest OTP the --demo inbox shows for mobile that
// is not one of used.
func demoOTP(t *testing.T, s *server, mobile string, used map[string]bool) string {
	t.Helper()
	re := regexp.MustCompile(`\b(\d{6})\b`)
	for range 500 {
		r := s.do(t, "GET", "/demo/inbox", nil, "")
		var box struct {
			Messages []struct{ To, Text string } `json:"messages"`
		}
		json.Unmarshal([]byte(r.raw), &box)
		for _, m := range box.Messages {
			if m.To == "+91"+mobile {
				if c := re.FindString(m.Text); c != "" && !used[c] {
					used[c] = true
					return c
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no new OTP for %s in the demo inbox", mobile)
	return ""
}

// TestDemoBookingThroughTheGate: the demo's booking API (kycvs serve --demo)
// decides behind the gate middleware, against the real binary: a valid
// token books once (201), the same token again is 409 ERR_REPLAY, a
// tampered one 401 ERR_SIGNATURE, a status below the demo's minimum 403
// ERR_STATUS, a token for another booking's nonce 401 ERR_NONCE, and no
// token 401 ERR_TOKEN_MISSING.
func TestDemoBookingThroughTheGate(t *testing.T) {
	s := startServer(t, "", nil, "--demo", "--sms", "log")
	key := s.addClient(t, "rail")
	used := map[string]bool{}
	start := func() (id, nonce string) {
		t.Helper()
		r := s.do(t, "POST", "/demo/api/rail/bookings", nil, "")
		if r.code != 201 {
			t.Fatalf("start: %d %s", r.code, r.raw)
		}
		return r.body["id"].(string), r.body["nonce"].(string)
	}
	token := func(mobile, name, nonce string) string {
		t.Helper()
		r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": mobile, "name": name, "nonce": nonce}))
		if r.code != 200 {
			t.Fatalf("otp: %d %s", r.code, r.raw)
		}
		txn := r.body["txn"].(string)
		r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": demoOTP(t, s, mobile, used), "consent": true}))
		if r.code != 200 {
			t.Fatalf("confirm: %d %s", r.code, r.raw)
		}
		return r.body["token"].(string)
	}
	book := func(id, tok string) resp {
		t.Helper()
		h := map[string]string{}
		if tok != "" {
			h["Authorization"] = "KYCVS " + tok
		}
		return s.do(t, "POST", "/demo/api/rail/bookings/"+id, h, `{"passenger":"Asha Devi","journey":"NDLS → MMCT"}`)
	}

	id, nonce := start()
	asha := token("9999900000", "Asha Devi", nonce)
	// A body the API refuses is refused before the gate: the token is not used up.
	for _, bad := range []string{`{"passenger":"A","extra":1}`, `[1]`, `{"passenger":` + strings.Repeat(" ", 5000) + `"A"}`} {
		r := s.do(t, "POST", "/demo/api/rail/bookings/"+id, map[string]string{"Authorization": "KYCVS " + asha}, bad)
		expectProblem(t, r, http.StatusBadRequest, kycvs.CodeBadRequest)
	}
	r := book(id, asha)
	if r.code != 201 || r.body["status"] != float64(2) {
		t.Fatalf("a valid token: %d %s, want 201 with status 2", r.code, r.raw)
	}
	if b, _ := r.body["booking"].(map[string]any); b["id"] != id || b["passenger"] != "Asha Devi" {
		t.Fatalf("booking %v", r.body["booking"])
	}
	expectProblem(t, book(id, asha), http.StatusConflict, kycvs.CodeReplay)

	// Tampered: refused at the signature, and it burns nothing.
	id2, nonce2 := start()
	asha2 := token("9999900000", "Asha Devi", nonce2)
	sig := asha2[strings.LastIndexByte(asha2, '.')+1:]
	flipped := "A"
	if sig[0] == 'A' {
		flipped = "B"
	}
	expectProblem(t, book(id2, asha2[:strings.LastIndexByte(asha2, '.')+1]+flipped+sig[1:]), http.StatusUnauthorized, kycvs.CodeSignature)
	// Another booking's nonce: the token of booking 2, sent to booking 3.
	id3, _ := start()
	expectProblem(t, book(id3, asha2), http.StatusUnauthorized, kycvs.CodeNonce)
	if r := book(id2, asha2); r.code != 201 {
		t.Fatalf("booking 2 with its own token after the refusals: %d %s", r.code, r.raw)
	}
	// A booking is made once, whatever the token: its transaction is used up.
	expectProblem(t, book(id2, token("9999900000", "Asha Devi", nonce2)), http.StatusConflict, kycvs.CodeReplay)

	// Partially vaccinated: below the demo's minimum.
	id4, nonce4 := start()
	expectProblem(t, book(id4, token("9999900002", "Fatima Khan", nonce4)), http.StatusForbidden, kycvs.CodeStatusLow)
	expectProblem(t, book(id4, ""), http.StatusUnauthorized, kycvs.CodeTokenMissing)

	// Starting bookings is limited per address (30 a minute): a flood
	// cannot push out the bookings of others, it is refused.
	refused := 0
	for range 40 {
		if r := s.do(t, "POST", "/demo/api/rail/bookings", nil, ""); r.code == 429 {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("40 bookings started from one address in a moment, none refused")
	}
	// Unknown entities have no booking API.
	expectProblem(t, s.do(t, "POST", "/demo/api/nobody/bookings", nil, ""), http.StatusNotFound, kycvs.CodeClientUnknown)

	// Cross-origin: the entity's registered origin may call it, others get no CORS.
	for origin, allowed := range map[string]bool{"https://rail.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest("OPTIONS", s.url+"/demo/api/rail/bookings/"+id, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed || res.StatusCode != 204 {
			t.Errorf("preflight from %s: %d, allowed %v", origin, res.StatusCode, got)
		}
	}
}
