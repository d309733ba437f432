// Package pgstore is the shared [store.Store] on PostgreSQL (through
// github.com/jackc/pgx/v5): any number of issuer replicas open the same
// database, and a transaction started on one completes on another.
//
// # Schema and migrations
//
// [Open] applies the schema migrations (see migrations.go) in one
// transaction under a transaction-level advisory lock derived from the
// schema name, so several replicas may start at once: the first migrates,
// the others wait and find nothing left to do. Tables are created in the
// first schema of the connection's search_path (add
// "?search_path=myschema" to the URL to use another schema than public);
// every table name starts with kycvs_.
//
// # Concurrency across replicas
//
//   - OTP transactions: Redeem locks the transaction's row (SELECT … FOR
//     UPDATE), so concurrent redeems of one transaction on any replicas
//     are serialised and exactly one consumes it; the consumption, the
//     consent entry and the token's outcome commit together.
//   - Rate limits: one upsert statement per call counts every limit, rows
//     locked in key order (no deadlocks), and raises SQLSTATE KY429 when a
//     limit is exceeded, which rolls the whole call back. CreateTxn sends
//     its insert and that statement as one batch (one implicit transaction,
//     one round trip), so a hot counter (one verifying entity's) is locked
//     only from its update to the commit, never across a network wait.
//   - Consent log: entries get their Seq from a sequence. Consents first
//     waits for in-flight appends (a brief SHARE lock on the table) to find
//     a horizon below which every Seq is final, so a reader that resumes
//     "after" the last Seq it saw never misses an entry committed later
//     with a smaller Seq.
//   - Registry writes and signing-key changes serialise on table locks
//     (SHARE ROW EXCLUSIVE): the per-mobile limit and "first key wins"
//     hold across processes; reads are never blocked.
//
// # Failures
//
// Every failure that is not one of the store's sentinels wraps
// [ErrUnavailable] (connection refused or lost, PostgreSQL shutting down or
// starting up, timeouts), which the issuer reports as ERR_UNAVAILABLE. The
// pool drops broken connections and dials new ones, so the same Store
// recovers by itself once PostgreSQL is back. A transaction is retried
// automatically only when pgx guarantees nothing reached the server; a
// commit whose outcome is unknown is reported as unavailable, never
// retried, so nothing is accepted twice.
//
// # Bulk import
//
// [Store.BulkImport] loads a large registry with COPY into a staging table,
// resumably, then merges it in one transaction; importers find it with a
// type assertion to [BulkImporter].
package pgstore

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
)

// op and longOp bound every call whose context has no earlier deadline, so
// that a PostgreSQL that stops answering (a network partition, say) turns
// into ErrUnavailable rather than a request that hangs.
const (
	op     = 10 * time.Second
	longOp = 2 * time.Minute
)

// ErrUnavailable wraps every infrastructure failure (PostgreSQL
// unreachable, restarting, timing out, or failing a statement). The issuer
// maps it, like any non-sentinel store error, to ERR_UNAVAILABLE.
var ErrUnavailable = errors.New("pgstore: database unavailable")

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	closed atomic.Bool

	mu     sync.Mutex
	secret []byte
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a PostgreSQL URL or key=value
// connection string, as pgx accepts) and applies the schema migrations.
// Unless the URL sets them, it uses a 5 s connect timeout and a pool of at
// most max(8, 4 × CPUs) connections (pool_max_conns=N in the URL to change
// it). Every call is bounded by 10 s (registry writes, counts and sweeps by
// 2 min) unless its context ends sooner.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
	}
	cfg.HealthCheckPeriod = 5 * time.Second
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unavailable(err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the underlying connection pool (for tests and tools).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// lockKey is a 64-bit advisory lock key for name within this store's
// schema, so that stores in different schemas of one database never
// contend.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("kycvs\x00" + schema + "\x00" + name))
	return int64(h.Sum64())
}

// unavailable wraps an infrastructure error in ErrUnavailable, leaving
// sentinels, context errors and nil as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	for _, e := range []error{store.ErrNotFound, store.ErrExists, store.ErrExpired, store.ErrWrongOTP,
		store.ErrMobileFull, store.ErrDuplicateName, store.ErrRateLimited, store.ErrClosed} {
		if errors.Is(err, e) {
			return err
		}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// retryable reports whether a failed transaction may be run again: nothing
// reached the server, or the server rolled it back for a serialisation
// failure or deadlock.
func retryable(err error) bool {
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// inTx runs fn in a transaction and commits it, retrying (at most three
// runs in all) when retryable says so. fn returns (result error, db error):
// a non-nil result error with a nil db error commits what fn did and
// returns the result error (a wrong OTP is counted); errRollback as the db
// error rolls back and returns the result error.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) (error, error)) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var res error
		res, err = s.runTx(ctx, fn)
		if err == nil {
			return res
		}
		if errors.Is(err, errRollback) {
			return res
		}
		if ctx.Err() != nil || !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return unavailable(err)
}

// errRollback, returned by a transaction body as its db error, rolls the
// transaction back without reporting an infrastructure failure.
var errRollback = errors.New("pgstore: rollback")

func (s *Store) runTx(ctx context.Context, fn func(tx pgx.Tx) (error, error)) (error, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		// A no-op after Commit; bounded, since ctx may be the reason fn
		// failed.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tx.Rollback(rctx)
	}()
	res, err := fn(tx)
	if err != nil {
		return res, err
	}
	return res, tx.Commit(ctx)
}

// ---- registry ----

// jsonDose is a Dose in the doses jsonb column.
type jsonDose struct {
	Vaccine string `json:"vaccine"`
	Number  int    `json:"dose"`
	Date    string `json:"date"`
}

func encodeDoses(ds []store.Dose) string {
	if len(ds) == 0 {
		return "[]"
	}
	js := make([]jsonDose, len(ds))
	for i, d := range ds {
		js[i] = jsonDose(d)
	}
	b, _ := json.Marshal(js)
	return string(b)
}

func decodeDoses(b []byte) ([]store.Dose, error) {
	var js []jsonDose
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, err
	}
	ds := make([]store.Dose, len(js))
	for i, d := range js {
		ds[i] = store.Dose(d)
	}
	return ds, nil
}

// PutBeneficiaries implements store.Store.
func (s *Store) PutBeneficiaries(ctx context.Context, bs []store.Beneficiary) error {
	ctx, cancel := context.WithTimeout(ctx, longOp)
	defer cancel()
	if len(bs) == 0 {
		return s.check(ctx)
	}
	// Later entries win, as if written one after another.
	last := make(map[string]int, len(bs))
	for i, b := range bs {
		if b.ID == "" || b.Mobile == "" {
			return fmt.Errorf("pgstore: beneficiary without id or mobile")
		}
		last[b.ID] = i
	}
	ids := make([]string, 0, len(last))
	mobiles := make([]string, 0, len(last))
	names := make([]string, 0, len(last))
	doses := make([]string, 0, len(last))
	norms := make([]string, 0, len(last))
	for i, b := range bs {
		if last[b.ID] != i {
			continue
		}
		ids = append(ids, b.ID)
		mobiles = append(mobiles, b.Mobile)
		names = append(names, b.Name)
		doses = append(doses, encodeDoses(b.Doses))
		norms = append(norms, kycvs.NormalizeName(b.Name))
	}
	return s.inTx(ctx, func(tx pgx.Tx) (error, error) {
		if _, err := tx.Exec(ctx, `LOCK TABLE kycvs_beneficiaries IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO kycvs_beneficiaries AS b (id, mobile, name, doses, norm_name)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[]) ORDER BY 1
			ON CONFLICT (id) DO UPDATE SET mobile = EXCLUDED.mobile, name = EXCLUDED.name, doses = EXCLUDED.doses, norm_name = EXCLUDED.norm_name
			WHERE (b.mobile, b.name, b.doses, b.norm_name) IS DISTINCT FROM (EXCLUDED.mobile, EXCLUDED.name, EXCLUDED.doses, EXCLUDED.norm_name)`,
			ids, mobiles, names, doses, norms); err != nil {
			if dupName(err) {
				return fmt.Errorf("%w: %v", store.ErrDuplicateName, err), errRollback
			}
			return nil, err
		}
		var full string
		var n int
		err := tx.QueryRow(ctx, `
			SELECT mobile, count(*) FROM kycvs_beneficiaries
			WHERE mobile = ANY($1::text[]) GROUP BY mobile HAVING count(*) > $2 LIMIT 1`,
			mobiles, store.MaxPerMobile).Scan(&full, &n)
		if err == nil {
			return fmt.Errorf("%w: %s would hold %d", store.ErrMobileFull, full, n), errRollback
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		return nil, nil
	})
}

// Beneficiaries implements store.Store.
func (s *Store) Beneficiaries(ctx context.Context, mobile string) ([]store.Beneficiary, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, doses FROM kycvs_beneficiaries WHERE mobile = $1 ORDER BY id`, mobile)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []store.Beneficiary{}
	for rows.Next() {
		b := store.Beneficiary{Mobile: mobile}
		var doses []byte
		if err := rows.Scan(&b.ID, &b.Name, &doses); err != nil {
			return nil, unavailable(err)
		}
		if b.Doses, err = decodeDoses(doses); err != nil {
			return nil, unavailable(fmt.Errorf("beneficiary %s: %w", b.ID, err))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// CountBeneficiaries implements store.Store. It counts the table (about a
// second per 10 million rows).
func (s *Store) CountBeneficiaries(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, longOp)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM kycvs_beneficiaries`).Scan(&n)
	return n, unavailable(err)
}

// ---- clients ----

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// dupName reports whether err is a violation of the unique (mobile,
// normalised name) constraint.
func dupName(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "kycvs_beneficiaries_name"
}

// PutClient implements store.Store.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return err
	}
	origins := c.Origins
	if origins == nil {
		origins = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO kycvs_clients (id, name, origins, key_hash, created) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, c.Name, origins, c.KeyHash, c.Created)
	if isUnique(err) {
		return fmt.Errorf("%w: client %q or its api key", store.ErrExists, c.ID)
	}
	return unavailable(err)
}

func (s *Store) client(ctx context.Context, where string, arg any) (*store.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var c store.Client
	err := s.pool.QueryRow(ctx, `SELECT id, name, origins, key_hash, created FROM kycvs_clients WHERE `+where+` = $1`, arg).
		Scan(&c.ID, &c.Name, &c.Origins, &c.KeyHash, &c.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: client", store.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return &c, nil
}

// Client implements store.Store.
func (s *Store) Client(ctx context.Context, id string) (*store.Client, error) {
	return s.client(ctx, "id", id)
}

// SetClientOrigins implements store.Store.
func (s *Store) SetClientOrigins(ctx context.Context, id string, origins []string) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return err
	}
	if origins == nil {
		origins = []string{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE kycvs_clients SET origins = $2 WHERE id = $1`, id, origins)
	if err != nil {
		return unavailable(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: client %q", store.ErrNotFound, id)
	}
	return nil
}

// ClientByKeyHash implements store.Store.
func (s *Store) ClientByKeyHash(ctx context.Context, keyHash []byte) (*store.Client, error) {
	return s.client(ctx, "key_hash", keyHash)
}

// ---- rate limits ----

// takeSQL adds one event to each key's leaky bucket (store.Limit: $2 keys
// sorted, with windows $3 and allowances $4) at $1; if a level then goes
// over its allowance it raises KY429 (see migration 2) naming the first
// such key in the caller's order ($5) and the seconds until one more event
// fits, which aborts the transaction and so undoes every count. Rows are
// locked in key order, so concurrent calls never deadlock, and the locks
// are held only until the commit that follows in the same round trip.
const takeSQL = `
	WITH t AS (
		INSERT INTO kycvs_rate_limits AS r (key, start, win, count, max_events)
		SELECT k, $1::bigint, w, w, m FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(k, w, m) ORDER BY k
		ON CONFLICT (key) DO UPDATE SET
			count = ` + drainedSQL + ` + EXCLUDED.win,
			start = greatest(r.start, $1), win = EXCLUDED.win, max_events = EXCLUDED.max_events
		RETURNING key, count, win, max_events),
	over AS (
		SELECT t.key, greatest(1, (t.count - t.max_events * t.win + t.max_events - 1) / t.max_events) AS retry
		FROM t JOIN unnest($5::text[]) WITH ORDINALITY AS o(key, ord) ON o.key = t.key
		WHERE t.count > t.max_events * t.win
		ORDER BY o.ord LIMIT 1)
	SELECT kycvs_rate_limited(key, retry) FROM over`

// drainedSQL is a stored level drained to $1 (store.Limit.Drain).
const drainedSQL = `CASE WHEN $1 - r.start >= EXCLUDED.win THEN 0
		WHEN $1 > r.start THEN greatest(0, r.count - EXCLUDED.max_events * ($1 - r.start))
		ELSE r.count END`

// refundSQL gives one event back to each key (store.Store.Refund).
const refundSQL = `
	INSERT INTO kycvs_rate_limits AS r (key, start, win, count, max_events)
	SELECT k, $1::bigint, w, 0, m FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(k, w, m) ORDER BY k
	ON CONFLICT (key) DO UPDATE SET
		count = greatest(0, ` + drainedSQL + ` - EXCLUDED.win),
		start = greatest(r.start, $1), win = EXCLUDED.win, max_events = EXCLUDED.max_events`

// limitArgs returns takeSQL's arguments after now for limits: keys sorted
// with their windows and allowances, and keys in the caller's order (a key
// given twice counts once, against the smaller allowance).
func limitArgs(limits []store.Limit) []any {
	max := map[string]int64{}
	win := map[string]int64{}
	var ordered []string
	for _, l := range limits {
		if m, ok := max[l.Key]; !ok || int64(l.Max) < m {
			if !ok {
				ordered = append(ordered, l.Key)
				win[l.Key] = l.Window
			}
			max[l.Key] = int64(l.Max)
		}
	}
	sorted := slices.Sorted(maps.Keys(max))
	wins := make([]int64, len(sorted))
	maxes := make([]int64, len(sorted))
	for i, k := range sorted {
		wins[i], maxes[i] = win[k], max[k]
	}
	return []any{sorted, wins, maxes, ordered}
}

// Refund implements store.Store.
func (s *Store) Refund(ctx context.Context, now int64, limits ...store.Limit) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if len(limits) == 0 {
		return s.check(ctx)
	}
	args := append([]any{now}, limitArgs(limits)[:3]...)
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, refundSQL, args...)
		return err
	})
}

// rateLimited turns takeSQL's KY429 into a *store.RateLimitError.
func rateLimited(err error) (*store.RateLimitError, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "KY429" {
		return nil, false
	}
	ra, _ := strconv.ParseInt(pe.Detail, 10, 64)
	return &store.RateLimitError{Key: pe.Message, RetryAfter: max(ra, 1)}, true
}

// Take implements store.Store: one statement, one round trip.
func (s *Store) Take(ctx context.Context, now int64, limits ...store.Limit) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if len(limits) == 0 {
		return s.check(ctx)
	}
	args := append([]any{now}, limitArgs(limits)...)
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, takeSQL, args...)
		if rl, ok := rateLimited(err); ok {
			return rl
		}
		return err
	})
}

// retry runs fn, a single round trip, again when retryable says so (at
// most three runs), and wraps infrastructure failures in ErrUnavailable.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = fn(); err == nil || ctx.Err() != nil || !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return unavailable(err)
}

// ---- OTP transactions ----

const txnCols = `id, client_id, mobile, name, nonce, api, lang, otp_digest, created, expires, tries, max_tries,
	consumed, consumed_at, sub, status, token, token_expires, session_digest`

func scanTxn(row pgx.Row) (*store.Txn, error) {
	var t store.Txn
	var status int16
	err := row.Scan(&t.ID, &t.ClientID, &t.Mobile, &t.Name, &t.Nonce, &t.API, &t.Lang, &t.OTPDigest, &t.Created, &t.Expires,
		&t.Tries, &t.MaxTries, &t.Consumed, &t.ConsumedAt, &t.Subject, &status, &t.Token, &t.TokenExpires, &t.SessionDigest)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: txn", store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	t.Status = uint8(status)
	return &t, nil
}

// CreateTxn implements store.Store: the insert and the limits are one
// batch, which PostgreSQL runs as one implicit transaction, in one round
// trip; a taken id (unique violation) or an exceeded limit (KY429) aborts
// it whole.
func (s *Store) CreateTxn(ctx context.Context, t store.Txn, now int64, limits ...store.Limit) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO kycvs_txns (`+txnCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		t.ID, t.ClientID, t.Mobile, t.Name, t.Nonce, t.API, t.Lang, t.OTPDigest, t.Created, t.Expires, t.Tries, t.MaxTries,
		t.Consumed, t.ConsumedAt, t.Subject, int16(t.Status), t.Token, t.TokenExpires, t.SessionDigest)
	if len(limits) > 0 {
		b.Queue(takeSQL, append([]any{now}, limitArgs(limits)...)...)
	}
	return s.retry(ctx, func() error {
		err := s.pool.SendBatch(ctx, b).Close()
		if isUnique(err) {
			return fmt.Errorf("%w: txn", store.ErrExists)
		}
		if rl, ok := rateLimited(err); ok {
			return rl
		}
		return err
	})
}

// onConn runs fn, a transaction fn begins and commits itself, on one
// connection, retrying like inTx. fn's errRollback rolls back; any
// connection left in a transaction is rolled back (or, if that fails,
// dropped by the pool) before it is released.
func (s *Store) onConn(ctx context.Context, fn func(conn *pgxpool.Conn) (error, error)) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var res error
		res, err = func() (error, error) {
			conn, err := s.pool.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			defer func() {
				if conn.Conn().PgConn().TxStatus() != 'I' && !conn.Conn().IsClosed() {
					rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					conn.Exec(rctx, `ROLLBACK`)
					cancel()
				}
				conn.Release()
			}()
			return fn(conn)
		}()
		if err == nil || errors.Is(err, errRollback) {
			return res
		}
		if ctx.Err() != nil || !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return unavailable(err)
}

// Txn implements store.Store.
func (s *Store) Txn(ctx context.Context, id string) (*store.Txn, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t, err := scanTxn(s.pool.QueryRow(ctx, `SELECT `+txnCols+` FROM kycvs_txns WHERE id = $1`, id))
	return t, unavailable(err)
}

// Redeem implements store.Store. The transaction's row is locked for the
// whole attempt, so concurrent redeems of one transaction, on any replica,
// run one after another and exactly one can consume it. Two round trips:
// BEGIN with the locking read, then the writes with COMMIT.
func (s *Store) Redeem(ctx context.Context, id string, otpDigest []byte, now int64, issue func(*store.Txn) (*store.Issued, error)) (*store.Txn, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	var result *store.Txn
	err := s.onConn(ctx, func(conn *pgxpool.Conn) (error, error) {
		result = nil
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SELECT `+txnCols+` FROM kycvs_txns WHERE id = $1 FOR UPDATE`, id)
		br := conn.SendBatch(ctx, b)
		_, err := br.Exec()
		var t *store.Txn
		if err == nil {
			t, err = scanTxn(br.QueryRow())
		}
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if errors.Is(err, store.ErrNotFound) {
			return err, errRollback
		}
		if err != nil {
			return nil, err
		}
		if t.Consumed || t.Tries >= t.MaxTries {
			return fmt.Errorf("%w: txn", store.ErrNotFound), errRollback
		}
		if now >= t.Expires {
			return store.ErrExpired, errRollback
		}
		b = &pgx.Batch{}
		var res error
		if subtle.ConstantTimeCompare(otpDigest, t.OTPDigest) != 1 {
			t.Tries++
			res = &store.WrongOTPError{Left: t.MaxTries - t.Tries}
			b.Queue(`UPDATE kycvs_txns SET tries = tries + 1 WHERE id = $1`, id)
		} else {
			is, err := issue(t)
			if err != nil {
				return err, errRollback
			}
			if is == nil {
				return errors.New("pgstore: issue returned nothing"), errRollback
			}
			t.Consume(now, is)
			// The consumption and the consent entry: one statement, one
			// commit.
			c := is.Consent
			b.Queue(`
				WITH consumed AS (
					UPDATE kycvs_txns SET consumed = true, consumed_at = $2, sub = $3, status = $4,
						token = $5, token_expires = $6, session_digest = $7 WHERE id = $1 RETURNING 1),
				logged AS (
					INSERT INTO kycvs_consents (time, client_id, sub, status, jti, txn_id)
					VALUES ($8, $9, $10, $11, $12, $13) RETURNING 1)
				SELECT (SELECT count(*) FROM consumed) + (SELECT count(*) FROM logged)`,
				id, now, t.Subject, int16(t.Status), t.Token, t.TokenExpires, t.SessionDigest,
				c.Time, c.ClientID, c.Subject, int16(c.Status), c.JTI, c.TxnID)
		}
		b.Queue(`COMMIT`)
		br = conn.SendBatch(ctx, b)
		if t.Consumed {
			var n int
			err = br.QueryRow().Scan(&n)
			if err == nil && n != 2 {
				err = fmt.Errorf("pgstore: redeem wrote %d of 2 rows", n)
			}
		} else {
			_, err = br.Exec()
		}
		if err == nil {
			_, err = br.Exec() // COMMIT
		}
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		if t.Consumed {
			result = t
		}
		return res, nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// ---- consent log ----

// Consents implements store.Store. It first takes a SHARE lock on the log
// for an instant: that waits for every append in flight and finds the
// largest Seq, below which no entry can still appear; it then streams the
// entries up to that horizon, in pages, without holding any lock.
func (s *Store) Consents(ctx context.Context, after uint64, fn func(store.Consent) error) error {
	var horizon int64
	err := s.inTx(ctx, func(tx pgx.Tx) (error, error) {
		if _, err := tx.Exec(ctx, `LOCK TABLE kycvs_consents IN SHARE MODE`); err != nil {
			return nil, err
		}
		return nil, tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM kycvs_consents`).Scan(&horizon)
	})
	if err != nil {
		return err
	}
	from := int64(after)
	const page = 1000
	for from < horizon {
		rows, err := s.pool.Query(ctx, `SELECT seq, time, client_id, sub, status, jti, txn_id FROM kycvs_consents
			WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`, from, horizon, page)
		if err != nil {
			return unavailable(err)
		}
		var batch []store.Consent
		for rows.Next() {
			var c store.Consent
			var seq int64
			var status int16
			if err := rows.Scan(&seq, &c.Time, &c.ClientID, &c.Subject, &status, &c.JTI, &c.TxnID); err != nil {
				rows.Close()
				return unavailable(err)
			}
			c.Seq, c.Status = uint64(seq), uint8(status)
			batch = append(batch, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return unavailable(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, c := range batch {
			if err := fn(c); err != nil {
				return err
			}
		}
		from = int64(batch[len(batch)-1].Seq)
	}
	return nil
}

// ---- signing keys and the secret ----

func scanKeys(rows pgx.Rows) ([]store.SigningKey, error) {
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		if err := rows.Scan(&k.KID, &k.PrivateJWK, &k.Created, &k.ActiveFrom, &k.RetireAt, &k.RemoveAt); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

const keysQuery = `SELECT kid, private_jwk, created, active_from, retire_at, remove_at FROM kycvs_signing_keys ORDER BY active_from, kid`

// SigningKeys implements store.Store.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, keysQuery)
	if err != nil {
		return nil, unavailable(err)
	}
	ks, err := scanKeys(rows)
	return ks, unavailable(err)
}

func putKey(ctx context.Context, tx pgx.Tx, k store.SigningKey) error {
	if len(k.PrivateJWK) == 0 {
		return fmt.Errorf("pgstore: key %s has no private key", k.KID)
	}
	_, err := tx.Exec(ctx, `INSERT INTO kycvs_signing_keys (kid, private_jwk, created, active_from, retire_at, remove_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (kid) DO UPDATE SET private_jwk = EXCLUDED.private_jwk, created = EXCLUDED.created,
			active_from = EXCLUDED.active_from, retire_at = EXCLUDED.retire_at, remove_at = EXCLUDED.remove_at`,
		k.KID, k.PrivateJWK, k.Created, k.ActiveFrom, k.RetireAt, k.RemoveAt)
	return err
}

// AddSigningKey implements store.Store.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if k.KID == "" || len(k.PrivateJWK) == 0 {
		return false, fmt.Errorf("pgstore: signing key without kid or private key")
	}
	added := false
	err := s.inTx(ctx, func(tx pgx.Tx) (error, error) {
		added = false
		if _, err := tx.Exec(ctx, `LOCK TABLE kycvs_signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return nil, err
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kycvs_signing_keys)`).Scan(&any); err != nil {
			return nil, err
		}
		if any {
			return nil, nil
		}
		if err := putKey(ctx, tx, k); err != nil {
			return nil, err
		}
		added = true
		return nil, nil
	})
	return added, err
}

// RotateSigningKeys implements store.Store. The keys table is locked
// against other writers (on any replica) from reading the current keys to
// the commit, so two rotations never interleave.
func (s *Store) RotateSigningKeys(ctx context.Context, plan func([]store.SigningKey) ([]store.SigningKey, error)) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	return s.inTx(ctx, func(tx pgx.Tx) (error, error) {
		if _, err := tx.Exec(ctx, `LOCK TABLE kycvs_signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, keysQuery)
		if err != nil {
			return nil, err
		}
		cur, err := scanKeys(rows)
		if err != nil {
			return nil, err
		}
		writes, err := plan(cur)
		if err != nil {
			return err, errRollback
		}
		for _, k := range writes {
			if k.KID == "" || len(k.PrivateJWK) == 0 {
				return fmt.Errorf("pgstore: signing key without kid or private key"), errRollback
			}
			if err := putKey(ctx, tx, k); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// DeleteSigningKey implements store.Store.
func (s *Store) DeleteSigningKey(ctx context.Context, kid string) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM kycvs_signing_keys WHERE kid = $1`, kid)
	return unavailable(err)
}

// Secret implements store.Store. The first caller on any replica inserts
// a random secret; every other insert does nothing, and all read the one
// stored.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != nil {
		return append([]byte(nil), s.secret...), nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	var b []byte
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (INSERT INTO kycvs_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING RETURNING secret)
		SELECT secret FROM ins`, fresh).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another caller inserted first: its row is committed and visible
		// to this new statement.
		err = s.pool.QueryRow(ctx, `SELECT secret FROM kycvs_secret WHERE id = 1`).Scan(&b)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if len(b) != 32 {
		return nil, unavailable(fmt.Errorf("pgstore: stored secret is %d bytes", len(b)))
	}
	s.secret = b
	return append([]byte(nil), b...), nil
}

// ---- upkeep ----

// Sweep implements store.Store.
func (s *Store) Sweep(ctx context.Context, now int64) error {
	ctx, cancel := context.WithTimeout(ctx, longOp)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM kycvs_txns WHERE greatest(expires, token_expires) < $1`, now-3600); err != nil {
		return unavailable(err)
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM kycvs_rate_limits WHERE start + win <= $1`, now)
	return unavailable(err)
}

// Ping implements store.Store: one round trip to PostgreSQL.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, op)
	defer cancel()
	if err := s.check(ctx); err != nil {
		return err
	}
	return unavailable(s.pool.Ping(ctx))
}

// Close implements store.Store.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return store.ErrClosed
	}
	s.pool.Close()
	return nil
}
