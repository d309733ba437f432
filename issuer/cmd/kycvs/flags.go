package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// stringList is a repeatable string flag (--origin A --origin B); from the
// environment it reads a comma-separated list.
type stringList []string

func (l *stringList) String() string { return fmt.Sprint([]string(*l)) }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// newFlagSet returns a flag set whose errors go to stderr and never exit,
// with the one usage format of every command (printUsage).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kycvs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(fs.Output(), name, fs) }
	return fs
}

// printUsage prints a command's usage: its synopsis and summary, then each
// flag as --name VALUE with its meaning, default and environment variable.
func printUsage(w io.Writer, name string, fs *flag.FlagSet) {
	c := commands[name]
	fmt.Fprintf(w, "usage: kycvs %s %s\n\n%s\n\nflags:\n", name, c.synopsis, c.summary)
	fs.VisitAll(func(f *flag.Flag) {
		arg, meaning := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if arg != "" {
			head += " " + arg
		}
		env := envName(f.Name)
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool && f.DefValue != "" && f.DefValue != "0" && f.DefValue != "-1" && f.DefValue != "[]" {
			env = "default " + f.DefValue + "; " + env
		}
		fmt.Fprintf(w, "  %s\n      %s (%s)\n", head, meaning, env)
	})
}

// requireFlags names the first of the flags that was not given (on the
// command line or in the environment) or is empty, with the usage line, and
// reports whether all were given.
func requireFlags(fs *flag.FlagSet, stderr io.Writer, names ...string) bool {
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && (!flagGiven(fs, n) || f.Value.String() == "" || f.Value.String() == "[]") {
			name := strings.TrimPrefix(fs.Name(), "kycvs ")
			fmt.Fprintf(stderr, "kycvs %s: missing required flag --%s (or %s)\n", name, n, envName(n))
			fmt.Fprintf(stderr, "usage: kycvs %s %s\n", name, commands[name].synopsis)
			return false
		}
	}
	return true
}

// parseFlags parses args, then fills every flag not given on the command
// line from KYCVS_<FLAG> in the environment. It returns false on a usage
// error, after printing it.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, err)
		}
		return false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || bad != nil {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if l, isList := f.Value.(*stringList); isList {
			for _, item := range splitComma(v) {
				l.Set(item)
			}
			return
		}
		if err := f.Value.Set(v); err != nil {
			bad = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
		}
	})
	if bad != nil {
		fmt.Fprintln(stderr, bad)
		return false
	}
	return true
}

// flagGiven reports whether a flag was set on the command line or in the
// environment, rather than left at its default.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	_, inEnv := os.LookupEnv(envName(name))
	return given || inEnv
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
