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
//	kycvs version     print the module version (also --version)
//
// "kycvs --help" lists the commands and "kycvs <command> --help" (or -h, or
// "kycvs help <command>") describes one; help goes to stdout and exits 0.
// An unknown command is named, with the closest one suggested, and a missing
// required flag is named.
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
	"runtime/debug"
	"sort"
	"strings"
)

// command is one subcommand. run gets the arguments after the command's name
// and returns the process exit code. synopsis is its usage line after
// "kycvs <name> ".
type command struct {
	summary  string
	synopsis string
	run      func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
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
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return run(append(args[1:], "--help"), stdin, stdout, stderr)
		}
		usage(stdout)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "kycvs", version())
		return 0
	}
	name, rest := "", args[1:]
	if len(args) >= 2 {
		if _, ok := commands[args[0]+" "+args[1]]; ok {
			name, rest = args[0]+" "+args[1], args[2:]
		}
	}
	if name == "" {
		if _, ok := commands[args[0]]; ok {
			name = args[0]
		}
	}
	if name == "" {
		return unknown(args, stderr)
	}
	c := commands[name]
	if wantsHelp(rest) {
		// The command prints its flags' usage to stdout and stops there.
		c.run([]string{"--help"}, stdin, stdout, stdout)
		return 0
	}
	return c.run(rest, stdin, stdout, stderr)
}

// wantsHelp reports whether args ask for help: -h, -help or --help before
// any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// unknown reports an unknown command or subcommand and suggests the closest.
func unknown(args []string, stderr io.Writer) int {
	given := args[0]
	var group []string
	for n := range commands {
		if g, sub, ok := strings.Cut(n, " "); ok && g == args[0] {
			group = append(group, sub)
		}
	}
	sort.Strings(group)
	if len(group) > 0 { // "kycvs keys" or "kycvs keys rotat"
		if len(args) == 1 || strings.HasPrefix(args[1], "-") {
			fmt.Fprintf(stderr, "kycvs %s: missing subcommand (%s)\n", given, strings.Join(group, ", "))
			fmt.Fprintln(stderr, "Run 'kycvs --help' for usage.")
			return 2
		}
		given = args[0] + " " + args[1]
	}
	fmt.Fprintf(stderr, "kycvs: unknown command %q\n", given)
	best, bestD := "", 1<<30
	for n := range commands {
		d := editDistance(given, n)
		if g, _, ok := strings.Cut(n, " "); ok && !strings.Contains(given, " ") {
			d = min(d, editDistance(given, g)) // "key" → "keys rotate"
		}
		if d < bestD || (d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	if bestD <= max(2, len(given)/3) {
		fmt.Fprintf(stderr, "Did you mean 'kycvs %s'?\n", best)
	}
	fmt.Fprintln(stderr, "Run 'kycvs --help' for usage.")
	return 2
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// version is the module version from the build information: a release tag
// for `go install …@vX`, a pseudo-version from the VCS stamp otherwise.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "(devel)"
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	return v + " " + bi.GoVersion
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: kycvs <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-15s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "  version         print the version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "'kycvs <command> --help' describes a command's flags.")
	fmt.Fprintln(w, "Every flag also reads KYCVS_<FLAG> from the environment (--sms-webhook: KYCVS_SMS_WEBHOOK).")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 a failed operation, 2 a usage error.")
}

// envName is the environment variable a flag falls back to: --sms-webhook
// reads KYCVS_SMS_WEBHOOK.
func envName(flag string) string {
	return "KYCVS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
