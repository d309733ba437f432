package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Append only: never edit a migration that has shipped.
var migrations = []string{
	// 1: the issuer's tables.
	`
CREATE TABLE kycvs_beneficiaries (
	id     text PRIMARY KEY,
	mobile text NOT NULL,
	name   text NOT NULL,
	doses  jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX kycvs_beneficiaries_mobile ON kycvs_beneficiaries (mobile, id);

CREATE TABLE kycvs_clients (
	id       text PRIMARY KEY,
	name     text NOT NULL,
	origins  text[] NOT NULL,
	key_hash bytea NOT NULL UNIQUE,
	created  bigint NOT NULL
);

CREATE TABLE kycvs_txns (
	id             text PRIMARY KEY,
	client_id      text NOT NULL,
	mobile         text NOT NULL,
	name           text NOT NULL,
	nonce          text NOT NULL,
	api            text NOT NULL,
	otp_digest     bytea,
	created        bigint NOT NULL,
	expires        bigint NOT NULL,
	tries          integer NOT NULL,
	max_tries      integer NOT NULL,
	consumed       boolean NOT NULL,
	consumed_at    bigint NOT NULL,
	sub            text NOT NULL,
	status         smallint NOT NULL,
	token          text NOT NULL,
	token_expires  bigint NOT NULL,
	session_digest bytea
);
CREATE INDEX kycvs_txns_sweep ON kycvs_txns (greatest(expires, token_expires));

CREATE TABLE kycvs_rate_limits (
	key   text PRIMARY KEY,
	start bigint NOT NULL,
	win   bigint NOT NULL,
	count bigint NOT NULL
);

CREATE TABLE kycvs_consents (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time      bigint NOT NULL,
	client_id text NOT NULL,
	sub       text NOT NULL,
	status    smallint NOT NULL,
	jti       text NOT NULL,
	txn_id    text NOT NULL
);
-- The consent log is append-only: refuse updates and deletes.
CREATE FUNCTION kycvs_consents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'kycvs_consents is append-only';
END $$;
CREATE TRIGGER kycvs_consents_append_only BEFORE UPDATE OR DELETE ON kycvs_consents
	FOR EACH STATEMENT EXECUTE FUNCTION kycvs_consents_append_only();

CREATE TABLE kycvs_signing_keys (
	kid         text PRIMARY KEY,
	private_jwk bytea NOT NULL,
	created     bigint NOT NULL,
	active_from bigint NOT NULL,
	retire_at   bigint NOT NULL,
	remove_at   bigint NOT NULL
);

CREATE TABLE kycvs_secret (
	id     integer PRIMARY KEY CHECK (id = 1),
	secret bytea NOT NULL
);

-- Bulk imports (see BulkImport): one row per import key; the staged rows
-- live in a table of their own, kycvs_import_<hash>, until merged.
CREATE TABLE kycvs_imports (
	key      text PRIMARY KEY,
	stage    text NOT NULL,
	staged   bigint NOT NULL DEFAULT 0,
	done     boolean NOT NULL DEFAULT false,
	merged   bigint NOT NULL DEFAULT 0
);
`,
	// 2: rate limits checked inside the statement that counts them.
	`
CREATE FUNCTION kycvs_rate_limited(key text, retry bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'KY429', MESSAGE = key, DETAIL = retry::text;
END $$;
`,
	// 3: rate limits become leaky buckets (count is the level, start the
	// last change, max_events the allowance); the registry keeps each
	// name's normalised form, unique per mobile (rows written before this
	// migration have none until they are written again).
	`
ALTER TABLE kycvs_rate_limits ADD COLUMN max_events bigint NOT NULL DEFAULT 1;
ALTER TABLE kycvs_beneficiaries ADD COLUMN norm_name text;
ALTER TABLE kycvs_beneficiaries ADD CONSTRAINT kycvs_beneficiaries_name UNIQUE (mobile, norm_name) DEFERRABLE INITIALLY IMMEDIATE;
`,
	// 4: each transaction's SMS language (transactions started before
	// this migration were all in English).
	`
ALTER TABLE kycvs_txns ADD COLUMN lang text NOT NULL DEFAULT 'en';
`,
}

// SchemaVersion is the schema version this package migrates to.
var SchemaVersion = len(migrations)

// migrate applies the missing migrations in one transaction, under an
// advisory lock so that replicas starting together take turns.
func (s *Store) migrate(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return unavailable(err)
	}
	if schema == nil {
		return fmt.Errorf("pgstore: no schema of the search_path exists; create it first")
	}
	s.schema = *schema
	_, err := s.runTx(ctx, func(tx pgx.Tx) (error, error) {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(s.schema, "migrate")); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS kycvs_schema_migrations (
			version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return nil, err
		}
		var cur int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM kycvs_schema_migrations`).Scan(&cur); err != nil {
			return nil, err
		}
		if cur > len(migrations) {
			return nil, errNewer{cur}
		}
		for v := cur + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, strings.TrimSpace(migrations[v-1])); err != nil {
				return nil, fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO kycvs_schema_migrations (version) VALUES ($1)`, v); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	var newer errNewer
	if errors.As(err, &newer) {
		return err
	}
	return unavailable(err)
}

type errNewer struct{ v int }

func (e errNewer) Error() string {
	return fmt.Sprintf("pgstore: the database schema is at version %d, newer than this binary's %d", e.v, len(migrations))
}
