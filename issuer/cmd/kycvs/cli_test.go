package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kycvsBinary builds the command once, so that the tests below run it as
// people do: a separate process, its exit code, stdout and stderr.
func kycvsBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kycvs-cli-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kycvs")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(kycvsBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no KYCVS_* from the caller
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &o, &e, strings.NewReader("")
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestCLIHelp: help on every command, in every spelling, goes to stdout and
// exits 0, in one format that names each flag's environment variable.
func TestCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := runBinary(t, args...)
		if code != 0 || !strings.HasPrefix(out, "usage: kycvs <command>") || errOut != "" {
			t.Errorf("kycvs %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		for n := range commands {
			if !strings.Contains(out, "\n  "+n+" ") {
				t.Errorf("kycvs %v does not list %q", args, n)
			}
		}
	}
	for n := range commands {
		for _, h := range []string{"--help", "-h"} {
			args := append(strings.Fields(n), h)
			out, errOut, code := runBinary(t, args...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: kycvs "+n+" ") || !strings.Contains(out, "\nflags:\n  --") || !strings.Contains(out, "(KYCVS_") && !strings.Contains(out, "; KYCVS_") {
				t.Errorf("kycvs %s %s: exit %d, stderr %q, stdout:\n%s", n, h, code, errOut, out)
			}
		}
		out, _, code := runBinary(t, append([]string{"help"}, strings.Fields(n)...)...)
		if code != 0 || !strings.HasPrefix(out, "usage: kycvs "+n+" ") {
			t.Errorf("kycvs help %s: exit %d, %q", n, code, out)
		}
	}
	// help after other flags, and not after "--"
	if out, _, code := runBinary(t, "sign", "--issuer", "x", "--help"); code != 0 || !strings.HasPrefix(out, "usage: kycvs sign ") {
		t.Errorf("sign --issuer x --help: exit %d", code)
	}
}

func TestCLIVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, _, code := runBinary(t, args...)
		if code != 0 || !strings.HasPrefix(out, "kycvs ") || !strings.Contains(out, "go1.") || strings.Count(out, "\n") != 1 {
			t.Errorf("kycvs %v: exit %d, %q", args, code, out)
		}
	}
}

// TestCLIUsageErrors: unknown commands suggest the closest, missing
// subcommands and required flags are named; all exit 2 with nothing on stdout.
func TestCLIUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"usage: kycvs <command>"}},
		{[]string{"serv"}, []string{`unknown command "serv"`, "Did you mean 'kycvs serve'?"}},
		{[]string{"verfy", "--jwks", "x"}, []string{`unknown command "verfy"`, "'kycvs verify'"}},
		{[]string{"keys", "rotat"}, []string{`unknown command "keys rotat"`, "'kycvs keys rotate'"}},
		{[]string{"keys"}, []string{"kycvs keys: missing subcommand (generate, rotate)"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "kycvs --help"}},
		{[]string{"sign", "--key", "k"}, []string{"kycvs sign: missing required flag --issuer (or KYCVS_ISSUER)", "usage: kycvs sign --key FILE"}},
		{[]string{"sign", "--key", "k", "--issuer", "i", "--audience", "a", "--nonce", "n0nce-123"}, []string{"missing required flag --status"}},
		{[]string{"serve", "--data", "d"}, []string{"kycvs serve: missing required flag --issuer"}},
		{[]string{"serve", "--issuer", "http://x"}, []string{"kycvs serve: missing required flag --data"}},
		{[]string{"client", "add", "--data", "d", "--name", "N"}, []string{"kycvs client add: missing required flag --id"}},
		{[]string{"keys", "generate"}, []string{"kycvs keys generate: missing required flag --out"}},
		{[]string{"log-level", "info"}, []string{"kycvs log-level: missing required flag --data"}},
		{[]string{"verify", "--issuer", "i", "--audience", "a"}, []string{"kycvs verify: missing required flag --jwks"}},
		{[]string{"import", "--bogus"}, []string{"flag provided but not defined: -bogus", "usage: kycvs import "}},
	} {
		out, errOut, code := runBinary(t, c.args...)
		if code != 2 || out != "" {
			t.Errorf("kycvs %v: exit %d, stdout %q (want 2, nothing)", c.args, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("kycvs %v: stderr %q lacks %q", c.args, errOut, w)
			}
		}
	}
	if _, errOut, _ := runBinary(t, "frobnicate"); strings.Contains(errOut, "Did you mean") {
		t.Errorf("a far-off name got a suggestion: %q", errOut)
	}
}
