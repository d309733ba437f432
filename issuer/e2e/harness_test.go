// Package e2e runs the real kycvs binary on loopback: both APIs end to end,
// key rotation under load, and kill -9 crash recovery.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kycvs/kycvs"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kycvs-e2e-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "kycvs")
	args := []string{"build", "-o", bin}
	if os.Getenv("KYCVS_E2E_RACE") == "1" { // ./build.sh test: the server under the race detector
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "github.com/kycvs/kycvs/issuer/cmd/kycvs")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building kycvs: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const issuerID = "https://kycvs.test"

// inbox is the webhook sender's receiving end.
type inbox struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs map[string][]string // to → texts
	cond *sync.Cond
	fail bool
}

func newInbox(t testing.TB) *inbox {
	in := &inbox{msgs: map[string][]string{}}
	in.cond = sync.NewCond(&in.mu)
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		in.mu.Lock()
		fail := in.fail
		if !fail {
			in.msgs[m.To] = append(in.msgs[m.To], m.Text)
			in.cond.Broadcast()
		}
		in.mu.Unlock()
		if fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(in.srv.Close)
	return in
}

// otpRE finds the code in an OTP's SMS, in English or in Hindi.
var otpRE = regexp.MustCompile(`^(\d{6}) (?:is your kycvs code|आपका kycvs कोड है)`)

// otp waits for the n-th OTP (0-based) sent to mobile.
func (in *inbox) otp(t testing.TB, mobile string, n int) string {
	t.Helper()
	to := "+91" + mobile
	deadline := time.Now().Add(10 * time.Second)
	in.mu.Lock()
	defer in.mu.Unlock()
	for {
		var otps []string
		for _, m := range in.msgs[to] {
			if s := otpRE.FindStringSubmatch(m); s != nil {
				otps = append(otps, s[1])
			}
		}
		if len(otps) > n {
			return otps[n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OTP #%d for %s; messages: %q", n, to, in.msgs[to])
		}
		in.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		in.mu.Lock()
	}
}

// wait waits for a message to mobile that starts with prefix, and returns
// it.
func (in *inbox) wait(t testing.TB, mobile, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	in.mu.Lock()
	defer in.mu.Unlock()
	for {
		for _, m := range in.msgs["+91"+mobile] {
			if strings.HasPrefix(m, prefix) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s starting %q; messages: %q", mobile, prefix, in.msgs["+91"+mobile])
		}
		in.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		in.mu.Lock()
	}
}

func (in *inbox) count(mobile string, substr string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, m := range in.msgs["+91"+mobile] {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// server is a running kycvs serve.
type server struct {
	cmd  *exec.Cmd
	url  string
	data string
	pg   string // the PostgreSQL URL when the server runs on PostgreSQL
	in   *inbox
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

// kycvs runs a subcommand to completion.
func kycvsCmd(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// startServer starts kycvs serve on data (a new temp dir when "").
func startServer(t testing.TB, data string, in *inbox, extra ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--issuer", issuerID, "--otp-cooldown", "0", "--rate-ip", "-1"}
	if in != nil { // nil: the caller gives its own --sms
		args = append(args, "--sms", "webhook", "--sms-webhook", in.srv.URL)
	}
	args = append(args, extra...)
	s := &server{cmd: exec.Command(bin, args...), data: data, in: in, done: make(chan struct{})}
	for i := 0; i+1 < len(extra); i++ {
		if extra[i] == "--postgres" {
			s.pg = extra[i+1]
		}
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				addr <- l.Addr
			}
		}
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if strings.Contains(s.log(), "WARNING: DATA RACE") {
			t.Errorf("data race in kycvs serve:\n%s", s.log())
		}
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatalf("kycvs serve exited:\n%s", s.log())
	case <-time.After(15 * time.Second):
		t.Fatalf("kycvs serve did not start:\n%s", s.log())
	}
	return s
}

// storeFlags are the flags that name the server's store, for other
// subcommands.
func (s *server) storeFlags() []string {
	if s.pg != "" {
		return []string{"--postgres", s.pg}
	}
	return []string{"--data", s.data}
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// kill sends SIGKILL and waits.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and waits for a graceful exit.
func (s *server) stop(t testing.TB) {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("kycvs serve did not stop on SIGINT")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("kycvs serve exited %d:\n%s", code, s.log())
	}
}

func (s *server) addClient(t testing.TB, id string) string {
	t.Helper()
	out, errs, code := kycvsCmd(t, append([]string{"client", "add"}, append(s.storeFlags(), "--id", id, "--name", "Entity "+id, "--origin", "https://"+id+".example", "--json")...)...)
	if code != 0 {
		t.Fatalf("client add: %d %s", code, errs)
	}
	var r struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.APIKey == "" {
		t.Fatalf("client add --json printed %q", out)
	}
	return r.APIKey
}

var client = &http.Client{Timeout: 20 * time.Second}

type resp struct {
	code int
	hdr  http.Header
	body map[string]any
	raw  []byte
}

func (s *server) do(t testing.TB, method, path string, hdr map[string]string, body string) resp {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	out := resp{code: r.StatusCode, hdr: r.Header, raw: raw}
	json.Unmarshal(raw, &out.body)
	return out
}

func bearerHdr(key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key}
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// expectProblem checks a problem+json answer.
func expectProblem(t testing.TB, r resp, status int, code kycvs.Code) {
	t.Helper()
	if r.code != status || r.body["code"] != string(code) || r.hdr.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s %s, want %d %s", r.code, r.hdr.Get("Content-Type"), r.raw, status, code)
	}
	if r.body["status"] != float64(status) || r.body["title"] == nil || r.body["detail"] == nil {
		t.Fatalf("problem without status/title/detail: %s", r.raw)
	}
}

// flow runs the native API: OTP request, then confirm with consent.
func (s *server) flow(t testing.TB, key, mobile, name, nonce string, n int) (string, kycvs.Status) {
	t.Helper()
	r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": mobile, "name": name, "nonce": nonce}))
	if r.code != 200 {
		t.Fatalf("otp: %d %s", r.code, r.raw)
	}
	txn, _ := r.body["txn"].(string)
	otp := s.in.otp(t, normMobile(mobile), n)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": otp, "consent": true}))
	if r.code != 200 {
		t.Fatalf("confirm: %d %s", r.code, r.raw)
	}
	tok, _ := r.body["token"].(string)
	return tok, kycvs.Status(r.body["status"].(float64))
}

// cowinFlow runs the CoWIN-compatible API and returns the status and the
// kycvs token from the status call.
func (s *server) cowinFlow(t testing.TB, hdr map[string]string, mobile, name string, n int) (kycvs.Status, string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v3/vaccination/generateOTP", hdr, jsonBody(map[string]string{"mobile_number": mobile, "full_name": name}))
	if r.code != 200 {
		t.Fatalf("generateOTP: %d %s", r.code, r.raw)
	}
	txn, _ := r.body["txnId"].(string)
	otp := s.in.otp(t, normMobile(mobile), n)
	sum := sha256.Sum256([]byte(otp))
	r = s.do(t, "POST", "/api/v3/vaccination/confirmOTP", hdr, jsonBody(map[string]string{"otp": hex.EncodeToString(sum[:]), "txnId": txn}))
	if r.code != 200 {
		t.Fatalf("confirmOTP: %d %s", r.code, r.raw)
	}
	session, _ := r.body["token"].(string)
	r = s.do(t, "GET", "/api/v3/vaccination/status", bearerHdr(session), "")
	if r.code != 200 {
		t.Fatalf("status: %d %s", r.code, r.raw)
	}
	tok, _ := r.body["kycvs_token"].(string)
	return kycvs.Status(r.body["vaccination_status"].(float64)), tok
}

func normMobile(m string) string {
	m = strings.TrimPrefix(m, "+91")
	if len(m) == 11 && m[0] == '0' {
		m = m[1:]
	}
	return m
}

func (s *server) jwks(t testing.TB) []byte {
	t.Helper()
	r := s.do(t, "GET", "/.well-known/jwks.json", nil, "")
	if r.code != 200 {
		t.Fatalf("jwks: %d", r.code)
	}
	return r.raw
}

// verify checks tok with the core verifier and with go-jose, and returns
// its claims.
func verify(t testing.TB, jwks []byte, tok, aud, nonce, name string) *kycvs.Token {
	t.Helper()
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	var opts []kycvs.Option
	if nonce == "" { // the CoWIN paths without a nonce: the issuer made one the caller never sees
		opts = append(opts, kycvs.WithoutNonce())
	}
	v, err := kycvs.NewVerifier(ks, issuerID, aud, opts...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(tok, nonce)
	if err != nil {
		t.Fatalf("core verifier: %v", err)
	}
	if name != "" && !bytes.Equal(got.NameHash, kycvs.NameHash(got.Nonce, name)) {
		t.Fatalf("nmh does not bind %q", name)
	}
	if got.Expires-got.IssuedAt != 300 || len(got.Subject) != 22 || got.Issuer != issuerID {
		t.Fatalf("claims %+v", got.Claims)
	}
	// go-jose, EdDSA only.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("go-jose parse: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("go-jose: kid %q not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		t.Fatalf("go-jose verify: %v", err)
	}
	return got
}
