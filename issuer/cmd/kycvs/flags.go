package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// stringList is a repeatable string flag (--origin A --origin B); from the
// environment it reads a comma-separated list.
type stringList []string

func (l *stringList) String() string { return fmt.Sprint([]string(*l)) }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// newFlagSet returns a flag set whose errors go to stderr and never exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kycvs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
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
