package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type cliVector struct {
	Name, JWKS, Issuer, Audience, Nonce, Token string
	Leeway                                     *int
	Now                                        int64
	NoNonce                                    bool `json:"no_nonce"`
	Expect                                     map[string]any
}

// TestVerifyVectors runs every shared vector through `kycvs verify` and
// checks its JSON output and exit code.
func TestVerifyVectors(t *testing.T) {
	files, _ := filepath.Glob("../../../testdata/vectors/*.json")
	if len(files) < 60 {
		t.Fatalf("%d vectors", len(files))
	}
	dir := t.TempDir()
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var v cliVector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		t.Run(v.Name, func(t *testing.T) {
			jwksFile := filepath.Join(dir, v.Name+".jwks")
			os.WriteFile(jwksFile, []byte(v.JWKS), 0o644)
			args := []string{"--jwks", jwksFile, "--issuer", v.Issuer, "--audience", v.Audience, "--now", strconv.FormatInt(v.Now, 10)}
			if v.Nonce != "" {
				args = append(args, "--nonce", v.Nonce)
			}
			if v.NoNonce {
				args = append(args, "--no-nonce")
			}
			if v.Leeway != nil {
				args = append(args, "--leeway", strconv.Itoa(*v.Leeway)+"s")
			}
			var stdout, stderr bytes.Buffer
			// The token comes on stdin with a trailing newline, as from a pipe.
			rc := runVerify(args, strings.NewReader(v.Token+"\n"), &stdout, &stderr)
			// The command line takes --nonce N or --no-nonce, exactly one.
			if strings.HasPrefix(v.Name, "config-") || v.Nonce == "" && !v.NoNonce || v.Nonce != "" && v.NoNonce {
				if rc != 2 {
					t.Fatalf("missing --issuer or --audience, or not one of --nonce and --no-nonce: exit %d, want 2 (usage)", rc)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("output %q: %v", stdout.String(), err)
			}
			if code, ok := v.Expect["code"]; ok {
				if rc != 1 || got["code"] != code || got["message"] == "" {
					t.Fatalf("exit %d, %v; want 1, %v", rc, got, code)
				}
				return
			}
			if rc != 0 {
				t.Fatalf("exit %d: %s", rc, stdout.String())
			}
			for k, want := range v.Expect {
				if got[k] != want {
					t.Fatalf("%s = %v, want %v", k, got[k], want)
				}
			}
			if len(got) != len(v.Expect) {
				t.Fatalf("output %v has other members than %v", got, v.Expect)
			}
		})
	}
}

// TestBinarySignVerify runs the built binary: keys generate, sign, verify,
// with the token as an argument and on stdin, and checks exit codes.
func TestBinarySignVerify(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kycvs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	key := filepath.Join(dir, "key.jwk")
	jwks, rc := run("", "keys", "generate", "--out", key)
	if rc != 0 {
		t.Fatalf("keys generate: exit %d", rc)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if _, rc := run("", "keys", "generate", "--out", key); rc != 1 {
		t.Fatalf("overwriting a key: exit %d, want 1", rc)
	}
	jwksFile := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwksFile, []byte(jwks), 0o644)
	token, rc := run("", "sign", "--key", key, "--issuer", "https://i.example", "--audience", "rail", "--status", "2", "--nonce", "nonce-1234", "--name", "Asha Devi")
	if rc != 0 {
		t.Fatalf("sign: exit %d", rc)
	}
	out, rc := run(token, "verify", "--jwks", jwksFile, "--issuer", "https://i.example", "--audience", "rail", "--nonce", "nonce-1234")
	var r map[string]any
	if rc != 0 || json.Unmarshal([]byte(out), &r) != nil || r["status"] != float64(2) || r["nmh"] == nil {
		t.Fatalf("verify from stdin: exit %d, %s", rc, out)
	}
	// The nonce is checked unless --no-nonce says otherwise: neither is a
	// usage error, both are too, and --no-nonce verifies without it.
	for _, c := range []struct {
		args []string
		rc   int
	}{
		{nil, 2},
		{[]string{"--nonce", ""}, 2},
		{[]string{"--nonce", "nonce-1234", "--no-nonce"}, 2},
		{[]string{"--no-nonce"}, 0},
		{[]string{"--nonce", "nonce-9999"}, 1},
	} {
		args := append([]string{"verify", "--jwks", jwksFile, "--issuer", "https://i.example", "--audience", "rail"}, c.args...)
		out, rc := run("", append(args, strings.TrimSpace(token))...)
		if rc != c.rc {
			t.Fatalf("verify %v: exit %d, want %d (%s)", c.args, rc, c.rc, out)
		}
		if rc == 1 && !strings.Contains(out, `"code":"ERR_NONCE"`) {
			t.Fatalf("verify %v: %s, want ERR_NONCE", c.args, out)
		}
	}
	// Environment fallback: KYCVS_AUDIENCE instead of --audience.
	cmd := exec.Command(bin, "verify", "--jwks", jwksFile, "--issuer", "https://i.example", "--no-nonce", strings.TrimSpace(token))
	cmd.Env = append(os.Environ(), "KYCVS_AUDIENCE=rail")
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), `"status":2`) {
		t.Fatalf("verify with KYCVS_AUDIENCE: %v %s", err, out)
	}
	if out, rc := run("", "verify", "--jwks", jwksFile, "--issuer", "https://i.example", "--audience", "other", "--nonce", "nonce-1234", strings.TrimSpace(token)); rc != 1 || !strings.Contains(out, `"code":"ERR_AUDIENCE"`) {
		t.Fatalf("wrong audience: exit %d, %s", rc, out)
	}
	if _, rc := run("", "verify", "--issuer", "x"); rc != 2 {
		t.Fatalf("usage error: exit %d", rc)
	}
	if _, rc := run("", "sign", "--key", key, "--issuer", "i", "--audience", "a", "--status", "3", "--nonce", "nonce-1234"); rc != 2 {
		t.Fatalf("status 3: exit %d, want 2", rc)
	}
	if _, rc := run("", "no-such-command"); rc != 2 {
		t.Fatalf("unknown command: exit %d", rc)
	}
}
