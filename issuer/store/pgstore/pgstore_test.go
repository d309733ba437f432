package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/storetest"
)

// The tests run against a real PostgreSQL: KYCVS_TEST_POSTGRES, by default
// the one on this machine. Each test gets a schema of its own, dropped
// afterwards. Without a reachable server the tests are skipped, except
// under CI=true, where that is a failure.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func testDSN() string {
	if v := os.Getenv("KYCVS_TEST_POSTGRES"); v != "" {
		return v
	}
	return defaultDSN
}

// withSchema returns dsn with search_path set to schema.
func withSchema(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// freshSchema creates an empty schema and returns a DSN that uses it; the
// schema is dropped when the test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dsn := testDSN()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable under CI=true (%s): %v", dsn, err)
		}
		t.Skipf("PostgreSQL unreachable (%s; set KYCVS_TEST_POSTGRES): %v", dsn, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kycvs_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return withSchema(t, dsn, schema)
}

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openDSN(t, freshSchema(t)) })
}

func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := freshSchema(t)
		return openDSN(t, dsn), openDSN(t, dsn)
	})
}

// TestMigrateConcurrently starts several stores on one empty schema at
// once, as replicas starting together: all succeed, and the schema is
// migrated once.
func TestMigrateConcurrently(t *testing.T) {
	dsn := freshSchema(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := openDSN(t, dsn)
	var n, max int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*), max(version) FROM kycvs_schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != SchemaVersion {
		t.Fatalf("%d migrations recorded, max %d", n, max)
	}
	// A database migrated by a newer binary is refused.
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO kycvs_schema_migrations (version) VALUES ($1)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

// TestMigrateKeepsTxns: a transaction stored at schema version 3, before
// transactions had a language, reads back after the upgrade, in English.
func TestMigrateKeepsTxns(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	steps := []string{`CREATE TABLE kycvs_schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`}
	steps = append(steps, migrations[:3]...)
	steps = append(steps, `INSERT INTO kycvs_schema_migrations (version) VALUES (1), (2), (3)`,
		`INSERT INTO kycvs_txns (id, client_id, mobile, name, nonce, api, created, expires, tries, max_tries, consumed, consumed_at, sub, status, token, token_expires)
			VALUES ('old', 'c', '9876543210', 'Asha', 'nonce-123', 'embed', 0, 100, 0, 3, false, 0, '', 0, '', 0)`)
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := openDSN(t, dsn).Txn(ctx, "old")
	if err != nil || got.Lang != "en" || got.Name != "Asha" || got.API != "embed" {
		t.Fatalf("old txn after the upgrade: %+v %v", got, err)
	}
}

func TestConsentLogAppendOnly(t *testing.T) {
	s := openDSN(t, freshSchema(t))
	ctx := context.Background()
	if err := s.CreateTxn(ctx, store.Txn{ID: "t", OTPDigest: []byte("d"), Expires: 100, MaxTries: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(ctx, "t", []byte("d"), 1, func(t *store.Txn) (*store.Issued, error) {
		return &store.Issued{Token: "x", Consent: store.Consent{JTI: "j", TxnID: t.ID}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE kycvs_consents SET status = 2`, `DELETE FROM kycvs_consents`} {
		if _, err := s.pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err == nil || !isUnavailable(err) {
		t.Fatalf("open of an unreachable server: %v", err)
	}
}

func isUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
