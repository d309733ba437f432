// Command kycvs is the one binary of kycvs: the reference issuer and the
// tools around tokens.
//
//	kycvs serve       run the issuer (HTTP API, OTP and consent flow, JWKS)
//	kycvs import      import the vaccination registry from CSV or JSONL
//	kycvs client add  register a verifying entity and print its API key once
//	kycvs keys rotate stage a new signing key
//	kycvs keys generate  write a new Ed25519 private key file (for integrators' tests)
//	kycvs verify      verify a token against a key set and print the result as JSON
//	kycvs sign        sign a token with a key file (for integrators' tests)
//
// Every flag also reads KYCVS_<FLAG> from the environment (dashes become
// underscores, letters upper case), and a flag given on the command line wins.
//
// Exit codes: 0 success, 1 a failed operation (a token that does not verify,
// a bad key set, a failed import), 2 a usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand. run gets the arguments after the command's name
// and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands maps "name" or "name sub" to its command. Each file of this
// package registers its own in an init function, so that parallel work on
// different subcommands never touches the same lines.
var commands = map[string]command{}

func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("kycvs: command registered twice: " + name)
	}
	commands[name] = c
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c.run(args[2:], stdin, stdout, stderr)
		}
	}
	if len(args) >= 1 {
		if c, ok := commands[args[0]]; ok {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: kycvs <command> [flags]")
	fmt.Fprintln(w)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag also reads KYCVS_<FLAG> from the environment.")
}

// envName is the environment variable a flag falls back to: --sms-webhook
// reads KYCVS_SMS_WEBHOOK.
func envName(flag string) string {
	return "KYCVS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
