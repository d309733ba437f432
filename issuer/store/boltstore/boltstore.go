// Package boltstore is the embedded [store.Store]: one bbolt database in one
// data directory, records encoded with msgp, every commit fsynced.
//
// Layout of the data directory (mode 0700):
//
//	kycvs.db          the bbolt database (0600)
//	issuer-secret     the 32-byte pairwise-subject secret (0600)
//	keys/<kid>.jwk    private signing keys as OKP JWKs (0600)
//
// bbolt takes an exclusive lock on kycvs.db: one process at a time. While
// `kycvs serve` runs, the other subcommands reach its store through the
// server's admin socket instead (see package issuer).
package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
)

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("boltstore: the data directory is in use by another process")

var (
	bBen     = []byte("beneficiaries")
	bMob     = []byte("mobiles") // mobile 0x00 id → empty
	bCli     = []byte("clients")
	bCliKey  = []byte("client_keys") // key hash → id
	bTxn     = []byte("txns")
	bTxnDue  = []byte("txn_due") // max(Expires, TokenExpires) (8) + id → empty, for Sweep
	bRate    = []byte("rates")   // key → window start (8) + count (8)
	bConsent = []byte("consents")
	bKeys    = []byte("keys") // kid → SigningKey without PrivateJWK
)

// Store is the embedded store.
type Store struct {
	dir string
	db  *bolt.DB

	mu     sync.Mutex // guards secret creation and key files
	secret []byte
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir. It waits at most
// lockWait for another process to release the database, then fails with
// ErrLocked.
func Open(dir string, lockWait time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if lockWait <= 0 {
		lockWait = 50 * time.Millisecond
	}
	db, err := bolt.Open(filepath.Join(dir, "kycvs.db"), 0o600, &bolt.Options{
		Timeout:         lockWait,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 64 << 20,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, err
	}
	db.MaxBatchDelay = 2 * time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bBen, bMob, bCli, bCliKey, bTxn, bTxnDue, bRate, bConsent, bKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{dir: dir, db: db}, nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) check(ctx context.Context) error {
	if s.db == nil {
		return store.ErrClosed
	}
	return ctx.Err()
}

func mobKey(mobile, id string) []byte {
	k := make([]byte, 0, len(mobile)+1+len(id))
	k = append(k, mobile...)
	k = append(k, 0)
	return append(k, id...)
}

func countPrefix(b *bolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// countMobiles returns how many beneficiaries each touched mobile holds.
// For a large write (an import) one pass over the index is cheaper than a
// seek per mobile into a transaction's many unsplit pages.
func countMobiles(mob *bolt.Bucket, touched map[string]bool) map[string]int {
	counts := make(map[string]int, len(touched))
	if len(touched) < 1000 {
		for m := range touched {
			counts[m] = countPrefix(mob, append([]byte(m), 0))
		}
		return counts
	}
	c := mob.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if i := bytes.IndexByte(k, 0); i > 0 && touched[string(k[:i])] {
			counts[string(k[:i])]++
		}
	}
	return counts
}

// PutBeneficiaries implements store.Store.
func (s *Store) PutBeneficiaries(ctx context.Context, bs []store.Beneficiary) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		ben, mob := tx.Bucket(bBen), tx.Bucket(bMob)
		touched := map[string]bool{}
		var old store.Beneficiary
		for i := range bs {
			b := &bs[i]
			if b.ID == "" || b.Mobile == "" {
				return fmt.Errorf("boltstore: beneficiary without id or mobile")
			}
			id := []byte(b.ID)
			if v := ben.Get(id); v != nil {
				old = store.Beneficiary{}
				if _, err := old.UnmarshalMsg(v); err != nil {
					return fmt.Errorf("boltstore: beneficiary %s: %w", b.ID, err)
				}
				if old.Mobile != b.Mobile {
					if err := mob.Delete(mobKey(old.Mobile, b.ID)); err != nil {
						return err
					}
				}
			}
			// bbolt keeps the value slice until commit: no reuse.
			buf, err := b.MarshalMsg(nil)
			if err != nil {
				return err
			}
			if err := ben.Put(id, buf); err != nil {
				return err
			}
			if err := mob.Put(mobKey(b.Mobile, b.ID), nil); err != nil {
				return err
			}
			touched[b.Mobile] = true
		}
		// The names written (the last write of an id wins), for numbers
		// that hold more than one person.
		var written map[string]string
		counts := countMobiles(mob, touched)
		for m := range touched {
			prefix := append([]byte(m), 0)
			n := counts[m]
			if n > store.MaxPerMobile {
				return fmt.Errorf("%w: %s would hold %d", store.ErrMobileFull, m, n)
			}
			if n < 2 {
				continue
			}
			if written == nil {
				written = make(map[string]string, len(bs))
				for i := range bs {
					written[bs[i].ID] = bs[i].Name
				}
			}
			seen := make(map[string]string, n) // normalised name → id
			c := mob.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				id := string(k[len(prefix):])
				name, ok := written[id]
				if !ok {
					v := ben.Get(k[len(prefix):])
					if v == nil {
						continue
					}
					var b store.Beneficiary
					if _, err := b.UnmarshalMsg(v); err != nil {
						return err
					}
					name = b.Name
				}
				nn := kycvs.NormalizeName(name)
				if other, dup := seen[nn]; dup {
					return fmt.Errorf("%w: %s and %s on %s", store.ErrDuplicateName, other, id, m)
				}
				seen[nn] = id
			}
		}
		return nil
	})
}

// beneficiaries returns the beneficiaries on mobile, in ID order.
func beneficiaries(tx *bolt.Tx, mobile string) ([]store.Beneficiary, error) {
	out := []store.Beneficiary{}
	ben, mob := tx.Bucket(bBen), tx.Bucket(bMob)
	prefix := append([]byte(mobile), 0)
	c := mob.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		v := ben.Get(k[len(prefix):])
		if v == nil {
			continue
		}
		var b store.Beneficiary
		if _, err := b.UnmarshalMsg(v); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Beneficiaries implements store.Store.
func (s *Store) Beneficiaries(ctx context.Context, mobile string) ([]store.Beneficiary, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []store.Beneficiary
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		out, err = beneficiaries(tx, mobile)
		return err
	})
	return out, err
}

// CountBeneficiaries implements store.Store.
func (s *Store) CountBeneficiaries(ctx context.Context) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bBen).Stats().KeyN
		return nil
	})
	return n, err
}

// PutClient implements store.Store.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		cli, keys := tx.Bucket(bCli), tx.Bucket(bCliKey)
		if cli.Get([]byte(c.ID)) != nil {
			return fmt.Errorf("%w: client %q", store.ErrExists, c.ID)
		}
		if keys.Get(c.KeyHash) != nil {
			return fmt.Errorf("%w: api key", store.ErrExists)
		}
		v, err := c.MarshalMsg(nil)
		if err != nil {
			return err
		}
		if err := cli.Put([]byte(c.ID), v); err != nil {
			return err
		}
		return keys.Put(c.KeyHash, []byte(c.ID))
	})
}

func getClient(tx *bolt.Tx, id []byte) (*store.Client, error) {
	v := tx.Bucket(bCli).Get(id)
	if v == nil {
		return nil, fmt.Errorf("%w: client %q", store.ErrNotFound, id)
	}
	var c store.Client
	if _, err := c.UnmarshalMsg(v); err != nil {
		return nil, err
	}
	return &c, nil
}

// Client implements store.Store.
func (s *Store) Client(ctx context.Context, id string) (*store.Client, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var c *store.Client
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		c, err = getClient(tx, []byte(id))
		return err
	})
	return c, err
}

// SetClientOrigins implements store.Store.
func (s *Store) SetClientOrigins(ctx context.Context, id string, origins []string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		c, err := getClient(tx, []byte(id))
		if err != nil {
			return err
		}
		c.Origins = origins
		v, err := c.MarshalMsg(nil)
		if err != nil {
			return err
		}
		return tx.Bucket(bCli).Put([]byte(id), v)
	})
}

// ClientByKeyHash implements store.Store.
func (s *Store) ClientByKeyHash(ctx context.Context, keyHash []byte) (*store.Client, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var c *store.Client
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bCliKey).Get(keyHash)
		if id == nil {
			return fmt.Errorf("%w: api key", store.ErrNotFound)
		}
		c, err = getClient(tx, id)
		return err
	})
	return c, err
}

// take checks every limit, and counts all of them only if none is exceeded.
// A counter is the time of its last change (8 bytes) and its level (8
// bytes), as store.Limit describes.
func take(tx *bolt.Tx, now int64, limits []store.Limit) (*store.RateLimitError, error) {
	b := tx.Bucket(bRate)
	before := make(map[string]int64, len(limits))
	levels := make(map[string]int64, len(limits))
	for _, l := range limits {
		level, seen := before[l.Key]
		if !seen {
			level = drained(b, l, now)
			before[l.Key] = level
		}
		// A key given twice counts once, against the stricter limit.
		next, wait := l.Add(level)
		if wait > 0 {
			return &store.RateLimitError{Key: l.Key, RetryAfter: wait}, nil
		}
		if !seen {
			levels[l.Key] = next
		}
	}
	return nil, putLevels(b, now, levels)
}

// drained returns l's level at now.
func drained(b *bolt.Bucket, l store.Limit, now int64) int64 {
	v := b.Get([]byte(l.Key))
	if len(v) != 16 {
		return 0
	}
	return l.Drain(int64(binary.BigEndian.Uint64(v[8:])), now-int64(binary.BigEndian.Uint64(v)))
}

func putLevels(b *bolt.Bucket, now int64, levels map[string]int64) error {
	for k, level := range levels {
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, uint64(now))
		binary.BigEndian.PutUint64(v[8:], uint64(level))
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// Refund implements store.Store.
func (s *Store) Refund(ctx context.Context, now int64, limits ...store.Limit) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRate)
		levels := make(map[string]int64, len(limits))
		for _, l := range limits {
			level, seen := levels[l.Key]
			if !seen {
				level = drained(b, l, now)
			}
			levels[l.Key] = max(0, level-l.Window)
		}
		return putLevels(b, now, levels)
	})
}

// CreateTxn implements store.Store.
func (s *Store) CreateTxn(ctx context.Context, t store.Txn, now int64, limits ...store.Limit) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	v, err := t.MarshalMsg(nil)
	if err != nil {
		return err
	}
	var result error
	err = s.db.Batch(func(tx *bolt.Tx) error {
		result = nil
		b := tx.Bucket(bTxn)
		if b.Get([]byte(t.ID)) != nil {
			result = fmt.Errorf("%w: txn", store.ErrExists)
			return nil
		}
		rl, err := take(tx, now, limits)
		if err != nil {
			return err
		}
		if rl != nil {
			result = rl
			return nil
		}
		if err := b.Put([]byte(t.ID), v); err != nil {
			return err
		}
		return tx.Bucket(bTxnDue).Put(dueKey(&t), nil)
	})
	if err != nil {
		return err
	}
	return result
}

func getTxn(tx *bolt.Tx, id string) (*store.Txn, error) {
	v := tx.Bucket(bTxn).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: txn", store.ErrNotFound)
	}
	var t store.Txn
	if _, err := t.UnmarshalMsg(v); err != nil {
		return nil, err
	}
	return &t, nil
}

// Txn implements store.Store.
func (s *Store) Txn(ctx context.Context, id string) (*store.Txn, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var t *store.Txn
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		t, err = getTxn(tx, id)
		return err
	})
	return t, err
}

// dueKey orders transactions by when they stop mattering: the later of the
// OTP's and the token's expiry.
func dueKey(t *store.Txn) []byte {
	due := max(t.Expires, t.TokenExpires)
	return append(binary.BigEndian.AppendUint64(nil, uint64(due)), t.ID...)
}

func putTxn(tx *bolt.Tx, t *store.Txn) error {
	v, err := t.MarshalMsg(nil)
	if err != nil {
		return err
	}
	return tx.Bucket(bTxn).Put([]byte(t.ID), v)
}

// Redeem implements store.Store.
func (s *Store) Redeem(ctx context.Context, id string, otpDigest []byte, now int64, issue func(*store.Txn) (*store.Issued, error)) (*store.Txn, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var (
		result *store.Txn
		rerr   error
	)
	err := s.db.Batch(func(tx *bolt.Tx) error {
		result, rerr = nil, nil
		t, err := getTxn(tx, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				rerr = err
				return nil
			}
			return err
		}
		if t.Consumed || t.Tries >= t.MaxTries {
			rerr = fmt.Errorf("%w: txn", store.ErrNotFound)
			return nil
		}
		if now >= t.Expires {
			rerr = store.ErrExpired
			return nil
		}
		if subtle.ConstantTimeCompare(otpDigest, t.OTPDigest) != 1 {
			t.Tries++
			rerr = &store.WrongOTPError{Left: t.MaxTries - t.Tries}
			return putTxn(tx, t)
		}
		is, err := issue(t)
		if err != nil {
			rerr = err
			return nil
		}
		oldDue := dueKey(t)
		t.Consume(now, is)
		if err := putTxn(tx, t); err != nil {
			return err
		}
		if err := tx.Bucket(bTxnDue).Delete(oldDue); err != nil {
			return err
		}
		if err := tx.Bucket(bTxnDue).Put(dueKey(t), nil); err != nil {
			return err
		}
		cb := tx.Bucket(bConsent)
		seq, err := cb.NextSequence()
		if err != nil {
			return err
		}
		c := is.Consent
		c.Seq = seq
		cv, err := c.MarshalMsg(nil)
		if err != nil {
			return err
		}
		if err := cb.Put(binary.BigEndian.AppendUint64(nil, seq), cv); err != nil {
			return err
		}
		result = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, rerr
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, now int64, limits ...store.Limit) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var result error
	err := s.db.Batch(func(tx *bolt.Tx) error {
		result = nil
		rl, err := take(tx, now, limits)
		if rl != nil {
			result = rl
		}
		return err
	})
	if err != nil {
		return err
	}
	return result
}

// Consents implements store.Store.
func (s *Store) Consents(ctx context.Context, after uint64, fn func(store.Consent) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bConsent).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, after+1)); k != nil; k, v = c.Next() {
			var e store.Consent
			if _, err := e.UnmarshalMsg(v); err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- signing keys: metadata in bbolt, private keys in keys/<kid>.jwk ----

func (s *Store) keyPath(kid string) (string, error) {
	for _, r := range kid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", fmt.Errorf("boltstore: bad key id %q", kid)
		}
	}
	if kid == "" {
		return "", fmt.Errorf("boltstore: empty key id")
	}
	return filepath.Join(s.dir, "keys", kid+".jwk"), nil
}

// writeFileSync writes data to path atomically (temp file, fsync, rename,
// fsync of the directory) with mode 0600.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Store) writeKeyFile(k store.SigningKey) error {
	p, err := s.keyPath(k.KID)
	if err != nil {
		return err
	}
	if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, k.PrivateJWK) {
		return nil
	}
	if len(k.PrivateJWK) == 0 {
		return fmt.Errorf("boltstore: key %s has no private key", k.KID)
	}
	return writeFileSync(p, k.PrivateJWK)
}

// SigningKeys implements store.Store.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []store.SigningKey
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bKeys).ForEach(func(k, v []byte) error {
			var sk store.SigningKey
			if _, err := sk.UnmarshalMsg(v); err != nil {
				return err
			}
			out = append(out, sk)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		p, err := s.keyPath(out[i].KID)
		if err != nil {
			return nil, err
		}
		out[i].PrivateJWK, err = os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("boltstore: private key of %s: %w", out[i].KID, err)
		}
	}
	sortKeys(out)
	return out, nil
}

func sortKeys(ks []store.SigningKey) {
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j].ActiveFrom < ks[j-1].ActiveFrom; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

func putKeyMeta(tx *bolt.Tx, k store.SigningKey) error {
	k.PrivateJWK = nil
	v, err := k.MarshalMsg(nil)
	if err != nil {
		return err
	}
	return tx.Bucket(bKeys).Put([]byte(k.KID), v)
}

// AddSigningKey implements store.Store.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var exists bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bKeys).Stats().KeyN > 0
		return nil
	}); err != nil || exists {
		return false, err
	}
	if err := s.writeKeyFile(k); err != nil {
		return false, err
	}
	added := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bKeys).Cursor().First(); k != nil {
			return nil
		}
		added = true
		return putKeyMeta(tx, k)
	})
	return added, err
}

// RotateSigningKeys implements store.Store.
func (s *Store) RotateSigningKeys(ctx context.Context, plan func([]store.SigningKey) ([]store.SigningKey, error)) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.SigningKeys(ctx)
	if err != nil {
		return err
	}
	writes, err := plan(cur)
	if err != nil {
		return err
	}
	for _, k := range writes {
		if err := s.writeKeyFile(k); err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range writes {
			if err := putKeyMeta(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteSigningKey implements store.Store.
func (s *Store) DeleteSigningKey(ctx context.Context, kid string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bKeys).Delete([]byte(kid))
	}); err != nil {
		return err
	}
	p, err := s.keyPath(kid)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Secret implements store.Store.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != nil {
		return append([]byte(nil), s.secret...), nil
	}
	p := filepath.Join(s.dir, "issuer-secret")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		b = make([]byte, 32)
		rand.Read(b)
		err = writeFileSync(p, b)
	}
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("boltstore: %s is not 32 bytes", p)
	}
	s.secret = b
	return append([]byte(nil), b...), nil
}

// sweepChunk bounds the deletions of one Sweep commit, so that a sweep
// never holds the write lock for long.
var sweepChunk = 5000

// Sweep implements store.Store. It walks the due index of transactions and
// the rate counters in commits of at most sweepChunk deletions.
func (s *Store) Sweep(ctx context.Context, now int64) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			txns, due := tx.Bucket(bTxn), tx.Bucket(bTxnDue)
			c := due.Cursor()
			var dead [][]byte
			for k, _ := c.First(); k != nil && len(dead) < sweepChunk; k, _ = c.Next() {
				if len(k) < 8 || int64(binary.BigEndian.Uint64(k))+3600 >= now {
					break
				}
				dead = append(dead, append([]byte(nil), k...))
			}
			for _, k := range dead {
				if err := txns.Delete(k[8:]); err != nil {
					return err
				}
				if err := due.Delete(k); err != nil {
					return err
				}
			}
			n = len(dead)
			return nil
		})
		if err != nil || n < sweepChunk {
			if err != nil {
				return err
			}
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	// Rate windows are at most a day long. Scan in bounded commits.
	var from []byte
	for {
		var next []byte
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bRate)
			c := b.Cursor()
			var dead [][]byte
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			scanned := 0
			for ; k != nil; k, v = c.Next() {
				if scanned >= 10*sweepChunk || len(dead) >= sweepChunk {
					next = append([]byte(nil), k...)
					break
				}
				scanned++
				if len(v) == 16 && int64(binary.BigEndian.Uint64(v))+86400 < now {
					dead = append(dead, append([]byte(nil), k...))
				}
			}
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		from = next
	}
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return nil })
}

// Close implements store.Store.
func (s *Store) Close() error {
	if s.db == nil {
		return store.ErrClosed
	}
	err := s.db.Close()
	s.db = nil
	return err
}
