package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCLI(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte(registry+"10000000000009,12345,X,COVAXIN,1,2021-01-01\n"), 0o600)
	_, errs, code := kycvsCmd(t, "import", "--data", data, bad)
	if code != 1 || !strings.Contains(errs, "line 15: mobile") || !strings.Contains(errs, "nothing was written") {
		t.Errorf("bad import: %d %q", code, errs)
	}
	jsonl := filepath.Join(t.TempDir(), "r.jsonl")
	os.WriteFile(jsonl, []byte(`{"beneficiary_id":"1","mobile":"9876543210","name":"A","doses":[{"vaccine":"JANSSEN","dose":1,"date":"2021-01-01"}]}`+"\n"), 0o600)
	if out, errs, code := kycvsCmd(t, "import", "--data", data, jsonl); code != 0 || !strings.Contains(out, "imported 1 beneficiaries (1 doses)") {
		t.Errorf("jsonl import: %d %q %q", code, out, errs)
	}
	// Usage errors exit 2.
	for _, args := range [][]string{
		{"import", "--data", data},
		{"client", "add", "--data", data, "--id", "x"},
		{"serve", "--data", data},
		{"serve", "--data", data, "--issuer", "https://x", "--sms", "carrier-pigeon"},
		{"keys", "rotate", "--data", data, "extra"},
	} {
		if _, _, code := kycvsCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// client add: the key alone on the last line; a taken id fails.
	out, errs, code := kycvsCmd(t, "client", "add", "--data", data, "--id", "rail", "--name", "Rail", "--origin", "https://Rail.Example:443/")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !regexp.MustCompile(`^kycvs_[A-Za-z0-9_-]{43}$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("client add: %d %q %q", code, out, errs)
	}
	if _, errs, code := kycvsCmd(t, "client", "add", "--data", data, "--id", "rail", "--name", "Rail"); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate client: %d %q", code, errs)
	}
	if _, errs, code := kycvsCmd(t, "client", "add", "--data", data, "--id", "x", "--name", "X", "--origin", "ftp://x"); code != 1 || !strings.Contains(errs, "origin") {
		t.Errorf("bad origin: %d %q", code, errs)
	}
	// KYCVS_* environment fallback.
	cmd := []string{"client", "add", "--id", "office", "--name", "Office"}
	os.Setenv("KYCVS_DATA", data)
	_, errs, code = kycvsCmd(t, cmd...)
	os.Unsetenv("KYCVS_DATA")
	if code != 0 {
		t.Errorf("KYCVS_DATA: %d %q", code, errs)
	}
	// --postgres without a reachable database is a clear failure.
	if _, errs, code := kycvsCmd(t, "import", "--postgres", "postgres://127.0.0.1:1/none?connect_timeout=1", jsonl); code != 1 || errs == "" {
		t.Errorf("--postgres unreachable: %d %q", code, errs)
	}
	// Key files are private.
	if _, _, code := kycvsCmd(t, "keys", "rotate", "--data", data); code != 0 {
		t.Fatal("keys rotate offline")
	}
	keys, _ := filepath.Glob(filepath.Join(data, "keys", "*.jwk"))
	if len(keys) != 2 {
		t.Fatalf("%d key files after first start and a rotation", len(keys))
	}
	for _, k := range append(keys, filepath.Join(data, "kycvs.db")) {
		if fi, err := os.Stat(k); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", k, fi.Mode())
		}
	}
}

func TestDemo(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--demo", "--sms", "log")
	if !strings.Contains(s.log(), "development only") {
		t.Error("the log sender does not warn at start")
	}
	key := s.addClient(t, "rail")
	r := s.do(t, "POST", "/v1/otp", bearerHdr(key), jsonBody(map[string]string{"mobile": "9999900001", "name": "Arjun Singh"}))
	txn := r.body["txn"].(string)
	r = s.do(t, "GET", "/demo/inbox", nil, "")
	msgs, _ := r.body["messages"].([]any)
	if len(msgs) == 0 {
		t.Fatalf("inbox: %s", r.raw)
	}
	text := msgs[0].(map[string]any)["text"].(string)
	r = s.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": txn, "otp": text[:6], "consent": true}))
	if r.code != 200 || r.body["status"] != float64(2) {
		t.Fatalf("demo person: %d %s", r.code, r.raw)
	}
	time.Sleep(100 * time.Millisecond)
	r = s.do(t, "GET", "/demo/inbox", nil, "")
	if !strings.Contains(string(r.raw), "was shared with Entity rail") {
		t.Errorf("no receipt in the inbox: %s", r.raw)
	}
}
