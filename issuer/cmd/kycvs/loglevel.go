package main

import (
	"fmt"
	"io"

	"github.com/kycvs/kycvs/issuer"
)

func init() {
	register("log-level", command{
		summary:  "change a running server's log level (debug, info, warn, error)",
		synopsis: "--data DIR debug|info|warn|error",
		run:      runLogLevel,
	})
}

func runLogLevel(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("log-level", stderr)
	data := fs.String("data", "", "data directory of the running server")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if !requireFlags(fs, stderr, "data") {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	a, err := issuer.DialAdmin(*data)
	if err != nil {
		fmt.Fprintln(stderr, "kycvs log-level:", err)
		return 1
	}
	if err := a.SetLogLevel(fs.Arg(0)); err != nil {
		fmt.Fprintln(stderr, "kycvs log-level:", err)
		return 1
	}
	fmt.Fprintf(stdout, "log level: %s\n", fs.Arg(0))
	return 0
}
