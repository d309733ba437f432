package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
)

func init() {
	register("client add", command{
		summary:  "register a verifying entity and print its API key once",
		synopsis: `--data DIR [--postgres URL] --id ID --name "Display Name" --origin URL... [--json]`,
		run:      runClientAdd,
	})
}

func runClientAdd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("client add", stderr)
	data := fs.String("data", "", "data directory of the embedded store")
	postgres := fs.String("postgres", "", "PostgreSQL URL (instead of --data)")
	id := fs.String("id", "", "client id: the aud of its tokens ([a-z0-9._-], at most 64)")
	name := fs.String("name", "", "display name shown to people on the consent screen")
	var origins stringList
	fs.Var(&origins, "origin", "an origin allowed to embed the consent page (repeatable)")
	asJSON := fs.Bool("json", false, `print {"id","api_key"} as JSON`)
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if !requireFlags(fs, stderr, "id", "name") {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	ctx := context.Background()
	var key string
	err := adminOrStore(ctx, *data, *postgres,
		func(a *issuer.Admin) error {
			res, err := a.AddClient(issuer.AddClientRequest{ID: *id, Name: *name, Origins: origins})
			if err == nil {
				key = res.APIKey
			}
			return err
		},
		func(st store.Store) (err error) {
			key, err = issuer.AddClient(ctx, st, *id, *name, origins, time.Now())
			return err
		})
	if err != nil {
		fmt.Fprintln(stderr, "kycvs client add:", err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(issuer.AddClientResponse{ID: *id, APIKey: key})
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "registered client %s (%s); its API key is shown once, below:\n%s\n", *id, *name, key)
	return 0
}
