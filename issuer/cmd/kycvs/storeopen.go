package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/boltstore"
)

// openStore opens the PostgreSQL store when postgres is set, else the
// embedded store in data, waiting at most lockWait for its lock.
func openStore(ctx context.Context, data, postgres string, lockWait time.Duration) (store.Store, error) {
	if postgres != "" {
		if issuer.OpenPostgres == nil {
			return nil, issuer.ErrNoPostgres
		}
		return issuer.OpenPostgres(ctx, postgres)
	}
	if data == "" {
		return nil, errors.New("--data DIR is required (or --postgres URL)")
	}
	st, err := boltstore.Open(data, lockWait)
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%s: %w, and no server answers on its admin socket", data, err)
	}
	return st, err
}

// adminOrStore runs viaAdmin when a server runs on the embedded store in
// data (its store is locked by that server), and direct on an opened store
// otherwise.
func adminOrStore(ctx context.Context, data, postgres string, viaAdmin func(*issuer.Admin) error, direct func(store.Store) error) error {
	if postgres == "" && data != "" {
		if a, err := issuer.DialAdmin(data); err == nil {
			return viaAdmin(a)
		}
	}
	st, err := openStore(ctx, data, postgres, 2*time.Second)
	if err != nil {
		return err
	}
	defer st.Close()
	return direct(st)
}
