package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
)

func init() {
	register("keys rotate", command{
		summary:  "stage a new signing key (published now, signing after one JWKS cache lifetime)",
		synopsis: "--data DIR [--postgres URL]",
		run:      runKeysRotate,
	})
}

func runKeysRotate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("keys rotate", stderr)
	data := fs.String("data", "", "data directory of the embedded store")
	postgres := fs.String("postgres", "", "PostgreSQL URL (instead of --data)")
	maxAge := fs.Duration("jwks-max-age", 5*time.Minute, "JWKS cache lifetime (when no server runs; a running server uses its own)")
	ttl := fs.Duration("token-ttl", 5*time.Minute, "token lifetime (when no server runs)")
	leeway := fs.Duration("leeway", 60*time.Second, "verifiers' leeway (when no server runs)")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	ctx := context.Background()
	var res issuer.RotateResponse
	err := adminOrStore(ctx, *data, *postgres,
		func(a *issuer.Admin) error {
			r, err := a.Rotate()
			if err == nil {
				res = *r
			}
			return err
		},
		func(st store.Store) error {
			if err := issuer.EnsureKey(ctx, st, time.Now()); err != nil {
				return err
			}
			kid, from, err := issuer.Rotate(ctx, st, time.Now(), issuer.KeySchedule{CacheLifetime: *maxAge, TokenLifetime: *ttl, Leeway: *leeway})
			res = issuer.RotateResponse{KID: kid, ActiveFrom: from.UTC()}
			return err
		})
	if err != nil {
		fmt.Fprintln(stderr, "kycvs keys rotate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "staged key %s: published now, signing from %s\n", res.KID, res.ActiveFrom.Format(time.RFC3339))
	return 0
}
