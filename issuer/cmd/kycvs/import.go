package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
)

func init() {
	register("import", command{
		summary:  "import the vaccination registry from CSV or JSONL",
		synopsis: "--data DIR [--postgres URL] [--format csv|jsonl] FILE.csv|FILE.jsonl|-",
		run:      runImport,
	})
}

func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", stderr)
	data := fs.String("data", "", "data directory of the embedded store")
	postgres := fs.String("postgres", "", "PostgreSQL URL (instead of --data)")
	format := fs.String("format", "", "csv or jsonl (default: from the file name; csv for stdin)")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	var in io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "kycvs import:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	if *format == "" {
		*format = issuer.FormatOf(name)
	}
	ctx := context.Background()
	var res *issuer.ImportResult
	err := adminOrStore(ctx, *data, *postgres,
		func(a *issuer.Admin) (err error) { res, err = a.Import(in, *format); return err },
		func(st store.Store) (err error) { res, err = issuer.Import(ctx, st, in, *format); return err })
	if err != nil {
		fmt.Fprintln(stderr, "kycvs import:", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %d beneficiaries (%d doses) in %v\n", res.Beneficiaries, res.Doses, res.Elapsed.Round(1e6))
	return 0
}
