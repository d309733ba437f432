package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
)

// BulkImporter is implemented by engines with a fast path for large
// registry imports. An importer that holds a [store.Store] looks for it with
// a type assertion and falls back to PutBeneficiaries in batches:
//
//	if bi, ok := st.(interface {
//		BulkImport(ctx context.Context, key string, next func() ([]store.Beneficiary, error)) (int64, error)
//	}); ok { … }
//
// (the anonymous interface spares the importer an import of this package).
type BulkImporter interface {
	BulkImport(ctx context.Context, key string, next func() ([]store.Beneficiary, error)) (int64, error)
}

var _ BulkImporter = (*Store)(nil)

// copyChunk is how many rows one staging commit holds (a variable for
// tests).
var copyChunk = 100_000

// BulkImport loads beneficiaries with COPY: next returns them in batches of
// any size, and (nil, io.EOF) after the last. It returns how many rows
// were imported.
//
// The rows are first staged, in commits of copyChunk rows, in a table of
// their own; then one transaction merges them into the registry, with the
// same meaning as PutBeneficiaries (a row replaces the stored beneficiary of
// its ID entirely; of two rows with one ID the later wins; if any mobile
// would hold more than [store.MaxPerMobile], the merge fails with
// ErrMobileFull and the registry is unchanged). Nothing of the import is
// visible before that commit. Reads of the registry go on during the merge,
// except into an empty registry (the first import), where the mobile index
// is built after the rows are in and lookups wait for the commit.
//
// key names the import, and must name its content (the hex SHA-256 of the
// file, say): after a crash or a lost connection, BulkImport with the same
// key and the same rows skips the rows already staged and resumes; once
// merged, BulkImport with that key is a no-op that returns the earlier
// count without calling next. Two BulkImport calls with one key, on any
// replicas, run one after the other.
func (s *Store) BulkImport(ctx context.Context, key string, next func() ([]store.Beneficiary, error)) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if key == "" {
		return 0, errors.New("pgstore: bulk import without a key")
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	defer conn.Release()
	lock := lockKey(s.schema, "import\x00"+key)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return 0, unavailable(err)
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lock); err != nil {
			// A connection whose session lock is in doubt must not go
			// back to the pool.
			conn.Conn().Close(context.Background())
		}
	}()
	n, err := s.bulkImport(ctx, conn, key, next)
	return n, unavailable(err)
}

func (s *Store) bulkImport(ctx context.Context, conn *pgxpool.Conn, key string, next func() ([]store.Beneficiary, error)) (int64, error) {
	h := sha256.Sum256([]byte(key))
	stage := "kycvs_import2_" + hex.EncodeToString(h[:8])
	var staged, merged int64
	var done bool
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO kycvs_imports (key, stage) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, stage); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT staged, done, merged FROM kycvs_imports WHERE key = $1`, key).Scan(&staged, &done, &merged); err != nil {
			return err
		}
		if done {
			return nil
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+stage+` (seq bigint NOT NULL, id text NOT NULL, mobile text NOT NULL, name text NOT NULL, doses jsonb NOT NULL, norm_name text NOT NULL)`)
		return err
	})
	if err != nil || done {
		return merged, err
	}

	// Stage: skip what an earlier run staged, COPY the rest in chunks.
	var seq int64 // rows seen so far
	rows := make([][]any, 0, copyChunk)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, []string{"seq", "id", "mobile", "name", "doses", "norm_name"}, pgx.CopyFromRows(rows))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE kycvs_imports SET staged = staged + $2 WHERE key = $1`, key, n)
			return err
		})
		rows = rows[:0]
		return err
	}
	for {
		batch, err := next()
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for _, b := range batch {
			seq++
			if seq <= staged {
				continue
			}
			if b.ID == "" || b.Mobile == "" {
				return 0, fmt.Errorf("pgstore: beneficiary without id or mobile")
			}
			rows = append(rows, []any{seq, b.ID, b.Mobile, b.Name, encodeDoses(b.Doses), kycvs.NormalizeName(b.Name)})
			if len(rows) == copyChunk {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if seq < staged {
		return 0, fmt.Errorf("pgstore: import %q had %d rows staged, but this run gave only %d: not the same import", key, staged, seq)
	}

	// Merge in one transaction.
	var full error
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, q := range []string{
			`SET LOCAL work_mem = '256MB'`,
			`SET LOCAL maintenance_work_mem = '512MB'`,
			`LOCK TABLE kycvs_beneficiaries IN SHARE ROW EXCLUSIVE MODE`,
			`ANALYZE ` + stage,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		// Into an empty registry (the first import), the mobile index is
		// built once after the rows are in, which is several times faster
		// than maintaining it row by row; nobody can be served from an
		// empty registry meanwhile anyway.
		var empty bool
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM kycvs_beneficiaries)`).Scan(&empty); err != nil {
			return err
		}
		merge := []string{
			`INSERT INTO kycvs_beneficiaries AS b (id, mobile, name, doses, norm_name)
				SELECT DISTINCT ON (id) id, mobile, name, doses, norm_name FROM ` + stage + ` ORDER BY id, seq DESC
				ON CONFLICT (id) DO UPDATE SET mobile = EXCLUDED.mobile, name = EXCLUDED.name, doses = EXCLUDED.doses, norm_name = EXCLUDED.norm_name
				WHERE (b.mobile, b.name, b.doses, b.norm_name) IS DISTINCT FROM (EXCLUDED.mobile, EXCLUDED.name, EXCLUDED.doses, EXCLUDED.norm_name)`,
		}
		fullQuery := `
			SELECT b.mobile, count(*) FROM kycvs_beneficiaries b
			WHERE b.mobile IN (SELECT mobile FROM ` + stage + `)
			GROUP BY b.mobile HAVING count(*) > $1 LIMIT 1`
		if empty {
			merge = []string{
				`LOCK TABLE kycvs_beneficiaries IN ACCESS EXCLUSIVE MODE`,
				`DROP INDEX kycvs_beneficiaries_mobile`,
				`INSERT INTO kycvs_beneficiaries (id, mobile, name, doses, norm_name)
					SELECT DISTINCT ON (id) id, mobile, name, doses, norm_name FROM ` + stage + ` ORDER BY id, seq DESC`,
				`CREATE INDEX kycvs_beneficiaries_mobile ON kycvs_beneficiaries (mobile, id)`,
			}
			fullQuery = `SELECT mobile, count(*) FROM kycvs_beneficiaries GROUP BY mobile HAVING count(*) > $1 LIMIT 1`
		}
		for _, q := range merge {
			if _, err := tx.Exec(ctx, q); err != nil {
				if dupName(err) {
					full = fmt.Errorf("%w: %v", store.ErrDuplicateName, err)
					return full
				}
				return err
			}
		}
		var mobile string
		var n int
		err := tx.QueryRow(ctx, fullQuery, store.MaxPerMobile).Scan(&mobile, &n)
		if err == nil {
			full = fmt.Errorf("%w: %s would hold %d", store.ErrMobileFull, mobile, n)
			return full
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE kycvs_beneficiaries`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT id) FROM `+stage).Scan(&merged); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kycvs_imports SET done = true, merged = $2 WHERE key = $1`, key, merged); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DROP TABLE `+stage)
		return err
	})
	if full != nil {
		// The rows can never merge: forget them, so that a corrected file
		// (another key) or the same one starts afresh.
		s.dropImport(ctx, conn, key, stage)
		return 0, full
	}
	if err != nil {
		return 0, err
	}
	return merged, nil
}

func (s *Store) dropImport(ctx context.Context, conn *pgxpool.Conn, key, stage string) {
	pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+stage); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM kycvs_imports WHERE key = $1`, key)
		return err
	})
}
