//go:build !js

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// TestWorkerdFrontsDemoBookings: the worker in real workerd in front of
// kycvs serve --demo's booking API, as ./build.sh worker-dev deploys it
// (README): the worker admits a valid token once per isolate (409
// ERR_REPLAY from the worker), refuses a tampered one (401) and a status
// below the minimum (403) before the origin sees them, and passes the
// token on (KYCVS_KEEP_TOKEN=1) so that the booking API behind it checks
// the nonce it handed out for the booking (401 ERR_NONCE from the origin).
func TestWorkerdFrontsDemoBookings(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kycvs")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kycvs/kycvs/issuer/cmd/kycvs").CombinedOutput(); err != nil {
		t.Fatalf("go build kycvs: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	out, err := exec.Command(bin, "client", "add", "--data", data, "--id", "rail", "--name", "Rail", "--origin", "https://rail.example", "--json").Output()
	if err != nil {
		t.Fatalf("client add: %v", err)
	}
	var client struct {
		APIKey string `json:"api_key"`
	}
	json.Unmarshal(out, &client)
	const iss = "https://kycvs.test"
	srv := exec.Command(bin, "serve", "--demo", "--sms", "log", "--addr", "127.0.0.1:0", "--data", data, "--issuer", iss, "--otp-cooldown", "0", "--rate-ip", "-1")
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" {
				addr <- l.Addr
			}
		}
	}()
	var issuer string
	select {
	case a := <-addr:
		issuer = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("kycvs serve did not start")
	}
	call := func(base, method, path string, hdr map[string]string, body any) (int, map[string]any) {
		t.Helper()
		var rb io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rb = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rb)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	used := map[string]bool{}
	otp := func(mobile string) string {
		re := regexp.MustCompile(`\b\d{6}\b`)
		for range 500 {
			_, box := call(issuer, "GET", "/demo/inbox", nil, nil)
			msgs, _ := box["messages"].([]any)
			for _, m := range msgs {
				mm, _ := m.(map[string]any)
				if c := re.FindString(mm["text"].(string)); mm["to"] == "+91"+mobile && c != "" && !used[c] {
					used[c] = true
					return c
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("no OTP for %s", mobile)
		return ""
	}
	start := func() (string, string) {
		code, b := call(issuer, "POST", "/demo/api/rail/bookings", nil, nil)
		if code != 201 {
			t.Fatalf("start: %d %v", code, b)
		}
		return b["id"].(string), b["nonce"].(string)
	}
	token := func(mobile, name, nonce string) string {
		key := map[string]string{"Authorization": "Bearer " + client.APIKey}
		code, b := call(issuer, "POST", "/v1/otp", key, map[string]string{"mobile": mobile, "name": name, "nonce": nonce})
		if code != 200 {
			t.Fatalf("otp: %d %v", code, b)
		}
		code, b = call(issuer, "POST", "/v1/otp/confirm", key, map[string]any{"txn": b["txn"], "otp": otp(mobile), "consent": true})
		if code != 200 {
			t.Fatalf("confirm: %d %v", code, b)
		}
		return b["token"].(string)
	}

	w := startWorkerd(t, map[string]string{
		"KYCVS_ISSUER": iss, "KYCVS_AUDIENCE": "rail", "KYCVS_MIN_STATUS": "2",
		"KYCVS_JWKS_URL": issuer + "/.well-known/jwks.json", "KYCVS_ORIGIN": issuer + "/demo/api/rail",
		"KYCVS_KEEP_TOKEN": "1",
	})
	book := func(id, tok string) (int, map[string]any) {
		return call(w, "POST", "/bookings/"+id, map[string]string{"Authorization": "KYCVS " + tok}, map[string]string{"passenger": "Asha Devi"})
	}
	want := func(what string, code int, b map[string]any, wantCode int, wantProblem kycvs.Code) {
		t.Helper()
		if code != wantCode || (wantProblem != "" && b["code"] != string(wantProblem)) {
			t.Fatalf("%s: %d %v, want %d %s", what, code, b, wantCode, wantProblem)
		}
	}

	id, nonce := start()
	asha := token("9999900000", "Asha Devi", nonce)
	code, b := book(id, asha)
	want("a valid token", code, b, 201, "")
	if b["status"] != float64(2) {
		t.Fatalf("booked with status %v", b["status"])
	}
	code, b = book(id, asha)
	want("the same token again", code, b, 409, kycvs.CodeReplay)

	id2, nonce2 := start()
	asha2 := token("9999900000", "Asha Devi", nonce2)
	i := strings.LastIndexByte(asha2, '.') + 1
	tampered := asha2[:i] + map[bool]string{true: "B", false: "A"}[asha2[i] == 'A'] + asha2[i+1:]
	code, b = book(id2, tampered)
	want("a tampered token", code, b, 401, kycvs.CodeSignature)
	id3, _ := start()
	code, b = book(id3, asha2)
	want("another booking's token (the origin checks the nonce)", code, b, 401, kycvs.CodeNonce)

	id4, nonce4 := start()
	code, b = book(id4, token("9999900002", "Fatima Khan", nonce4))
	want("a status below the minimum", code, b, 403, kycvs.CodeStatusLow)
}
