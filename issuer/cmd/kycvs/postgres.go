package main

import (
	"context"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/pgstore"
)

// The PostgreSQL store behind --postgres URL on every subcommand.
func init() {
	issuer.OpenPostgres = func(ctx context.Context, url string) (store.Store, error) {
		return pgstore.Open(ctx, url)
	}
}
