// Package store is the issuer's storage contract: one interface, [Store],
// that the embedded engine (package issuer/store/boltstore, on bbolt) and the
// shared PostgreSQL engine both implement, so that the issuer's HTTP API, OTP
// and consent flow never know which one serves them.
//
// # Conventions every implementation follows
//
//   - Every method is safe for concurrent use by many goroutines, and (for
//     engines that support it, such as PostgreSQL) by many processes: a
//     transaction started on one issuer replica completes on another.
//   - "Atomic" means all of a method's writes become durable together, or
//     none does; a method that returns a non-nil error has changed nothing
//     (except where a method says otherwise: a wrong OTP is counted).
//   - "Durable" means written to stable storage (fsync, or a committed
//     PostgreSQL transaction) before the method returns nil.
//   - Times are Unix seconds (int64) chosen by the caller: a store never
//     reads the clock itself, so that tests can drive time.
//   - Missing rows are [ErrNotFound] (wrapped, test with errors.Is); other
//     sentinels below name the expected failures; anything else is an
//     infrastructure failure the issuer reports as ERR_UNAVAILABLE.
//   - Values passed in are not retained; values returned are the caller's.
//
// # What is stored
//
//   - records: beneficiaries with their doses, found by mobile number
//     (at most [MaxPerMobile] per number);
//   - verifying entities (clients): id, display name, allowed origins, the
//     SHA-256 of their API key;
//   - OTP transactions: created by an OTP request, counted on each wrong OTP,
//     consumed once by a right one;
//   - rate-limit allowances (leaky buckets, see [Limit]);
//   - the append-only consent log: one entry for every token the issuer
//     has returned;
//   - signing keys with their schedule (staged, active, retired), and the
//     issuer's pairwise-subject secret.
package store

//go:generate go tool msgp -file store.go -o store_gen.go -io=false -tests=false
//msgp:ignore WrongOTPError RateLimitError Issued Limit Store

import (
	"context"
	"errors"
	"fmt"

	"github.com/kycvs/kycvs"
)

// MaxPerMobile is how many beneficiaries one mobile number may hold (CoWIN's
// limit).
const MaxPerMobile = 6

// Sentinel errors. Implementations wrap them with detail; callers test with
// errors.Is.
var (
	// ErrNotFound: the row does not exist. For transactions it also means
	// "already consumed" or "killed by too many wrong OTPs": the two are not
	// told apart to callers.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a create found the id (client id, transaction id, key id)
	// already taken.
	ErrExists = errors.New("store: already exists")
	// ErrExpired: the OTP transaction exists and is unconsumed but its
	// Expires time has passed.
	ErrExpired = errors.New("store: transaction expired")
	// ErrWrongOTP: the OTP digest did not match; the error is a
	// *WrongOTPError that tells the tries left.
	ErrWrongOTP = errors.New("store: wrong otp")
	// ErrMobileFull: a write would put more than MaxPerMobile beneficiaries
	// on one mobile number.
	ErrMobileFull = errors.New("store: too many beneficiaries on one mobile number")
	// ErrDuplicateName: a write would put two beneficiaries whose names
	// normalise alike (kycvs.NormalizeName) on one mobile number, so that
	// a person could not be told from the other by name.
	ErrDuplicateName = errors.New("store: two beneficiaries with the same name on one mobile number")
	// ErrRateLimited: a Limit was exceeded; the error is a *RateLimitError.
	ErrRateLimited = errors.New("store: rate limited")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
)

// WrongOTPError is returned by [Store.Redeem] when the OTP does not match.
// Left is how many more tries the transaction allows; at 0 the transaction
// is dead and every later Redeem returns ErrNotFound.
type WrongOTPError struct{ Left int }

func (e *WrongOTPError) Error() string        { return fmt.Sprintf("store: wrong otp, %d tries left", e.Left) }
func (e *WrongOTPError) Is(target error) bool { return target == ErrWrongOTP }

// RateLimitError is returned when a [Limit] is exceeded. Key is the limit's
// key, RetryAfter the seconds until it allows one more event (at least 1).
type RateLimitError struct {
	Key        string
	RetryAfter int64
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("store: rate limited (%s), retry after %ds", e.Key, e.RetryAfter)
}
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Beneficiary is one registered person. ID is the registry's beneficiary id
// (CoWIN's 14-digit reference id, or any non-empty string); Mobile is 10
// digits without prefix; Name is as registered (matching normalises it).
// Doses may be empty: a registered person who has had none.
type Beneficiary struct {
	ID     string `msg:"id"`
	Mobile string `msg:"mobile"`
	Name   string `msg:"name"`
	Doses  []Dose `msg:"doses"`
}

// Dose is one administered dose. Vaccine is upper case as in the schedule
// table (e.g. "COVISHIELD"); Number is 1-based; Date is YYYY-MM-DD.
type Dose struct {
	Vaccine string `msg:"vaccine"`
	Number  int    `msg:"number"`
	Date    string `msg:"date"`
}

// Client is a verifying entity. KeyHash is SHA-256 of its API key (the key
// itself is never stored). Origins are the exact origins
// (scheme://host[:port]) allowed to frame /embed and receive its postMessage.
type Client struct {
	ID      string   `msg:"id"`
	Name    string   `msg:"name"`
	Origins []string `msg:"origins"`
	KeyHash []byte   `msg:"key_hash"`
	Created int64    `msg:"created"`
}

// Txn is one OTP transaction.
//
// The OTP itself is never stored: OTPDigest is a keyed digest the issuer
// computes (the store compares digests in constant time and knows nothing of
// how they are made). Tries counts wrong OTPs; at MaxTries the transaction is
// dead. Consumed is set by the one successful Redeem, which also records the
// outcome (Subject, Status, Token, TokenExpires, SessionDigest) so that the
// CoWIN-compatible status call can return it later.
type Txn struct {
	ID        string `msg:"id"`
	ClientID  string `msg:"client_id"`
	Mobile    string `msg:"mobile"` // 10 digits
	Name      string `msg:"name"`   // as entered by the person
	Nonce     string `msg:"nonce"`
	API       string `msg:"api"`  // "v1", "cowin" or "embed": which API started it, the only one that may confirm it
	Lang      string `msg:"lang"` // "en" or "hi": the language of its SMS texts ("" in records older than the field: "en")
	OTPDigest []byte `msg:"otp_digest"`
	Created   int64  `msg:"created"`
	Expires   int64  `msg:"expires"`
	Tries     int    `msg:"tries"`
	MaxTries  int    `msg:"max_tries"`

	Consumed      bool   `msg:"consumed"`
	ConsumedAt    int64  `msg:"consumed_at"`
	Subject       string `msg:"sub"`
	Status        uint8  `msg:"status"`
	Token         string `msg:"token"`
	TokenExpires  int64  `msg:"token_expires"`
	SessionDigest []byte `msg:"session_digest"` // CoWIN-compatible bearer session, hashed
}

// Consent is one entry of the consent log: a disclosure of Status about
// Subject (pairwise) to ClientID, in token JTI, at Time. Seq is assigned by
// the store: strictly increasing in the order entries were committed
// (1, 2, 3, … for the embedded store; gaps are allowed).
type Consent struct {
	Seq      uint64 `msg:"seq"`
	Time     int64  `msg:"time"`
	ClientID string `msg:"client_id"`
	Subject  string `msg:"sub"`
	Status   uint8  `msg:"status"`
	JTI      string `msg:"jti"`
	TxnID    string `msg:"txn_id"`
}

// Issued is what the issue callback of [Store.Redeem] returns: the token it
// signed and the consent entry to log for it.
type Issued struct {
	Token         string
	TokenExpires  int64
	SessionDigest []byte // optional
	Consent       Consent
}

// NameConflict returns the first pair of beneficiaries, among bs (all on
// one mobile), whose names normalise alike, or ok false.
func NameConflict(bs []Beneficiary) (a, b *Beneficiary, ok bool) {
	seen := make(map[string]int, len(bs))
	for i := range bs {
		n := kycvs.NormalizeName(bs[i].Name)
		if j, dup := seen[n]; dup {
			return &bs[j], &bs[i], true
		}
		seen[n] = i
	}
	return nil, nil, false
}

// Consume marks t consumed at now by the issue is. Both engines record a
// redemption through it, so they store the same fields.
func (t *Txn) Consume(now int64, is *Issued) {
	t.Consumed = true
	t.ConsumedAt = now
	t.Subject = is.Consent.Subject
	t.Status = is.Consent.Status
	t.Token = is.Token
	t.TokenExpires = is.TokenExpires
	t.SessionDigest = is.SessionDigest
}

// Limit is one rate limit under Key: an allowance of Max events that
// recovers gradually, one event every Window/Max seconds (a leaky bucket,
// also called GCRA). So at most Max events happen in any burst, at most
// Max per Window in the long run, and an exhausted allowance lets one more
// event through after Window/Max seconds rather than after a whole window.
//
// Engines keep, per key, the time of the last change and a level in units
// of 1/Max event-seconds: each event adds Window, the level drains by Max a
// second, and an event is refused when it would take the level above
// Max*Window. A key not touched for Window seconds is empty (Sweep may
// delete it).
type Limit struct {
	Key    string
	Max    int
	Window int64 // seconds
}

// Drain returns level (in the units above) after elapsed seconds.
func (l Limit) Drain(level, elapsed int64) int64 {
	if elapsed <= 0 {
		return level
	}
	if elapsed >= l.Window {
		return 0
	}
	return max(0, level-int64(l.Max)*elapsed)
}

// Add returns the level after one more event on level (already drained to
// now), or the seconds to wait (at least 1) if that event is refused.
func (l Limit) Add(level int64) (int64, int64) {
	next := level + l.Window
	over := next - int64(l.Max)*l.Window
	if over > 0 {
		return level, max(1, (over+int64(l.Max)-1)/int64(l.Max))
	}
	return next, 0
}

// SigningKey is one signing key and its schedule. PrivateJWK is the private
// OKP JWK (kycvs.ParseSigner's format). A key is published in the JWKS while
// now < RemoveAt (RemoveAt 0: forever); it signs while
// ActiveFrom <= now and (RetireAt == 0 or now < RetireAt). The issuer picks,
// among keys that may sign, the one with the latest ActiveFrom.
type SigningKey struct {
	KID        string `msg:"kid"`
	PrivateJWK []byte `msg:"private_jwk"`
	Created    int64  `msg:"created"`
	ActiveFrom int64  `msg:"active_from"`
	RetireAt   int64  `msg:"retire_at"`
	RemoveAt   int64  `msg:"remove_at"`
}

// Store is the issuer's storage. See the package documentation for the
// conventions every method follows.
type Store interface {
	// PutBeneficiaries writes the given beneficiaries atomically, each
	// replacing any stored beneficiary with the same ID entirely (its
	// mobile, name and doses), so writing the same batch twice is a no-op.
	// A beneficiary whose mobile changes leaves its old number. It fails
	// with ErrMobileFull, writing nothing, if afterwards any mobile would
	// hold more than MaxPerMobile beneficiaries, and with ErrDuplicateName,
	// writing nothing, if any mobile would hold two beneficiaries whose
	// names normalise alike. Callers validate the fields; the store holds
	// these two invariants against everything stored, across calls and
	// processes. A whole import file (any size) must be accepted in one
	// call: an import is all or nothing.
	PutBeneficiaries(ctx context.Context, bs []Beneficiary) error

	// Beneficiaries returns every beneficiary registered on mobile (10
	// digits), in ID order; none is an empty slice and a nil error.
	Beneficiaries(ctx context.Context, mobile string) ([]Beneficiary, error)

	// CountBeneficiaries returns how many beneficiaries are stored.
	CountBeneficiaries(ctx context.Context) (int, error)

	// PutClient registers a new verifying entity; ErrExists if its ID or its
	// KeyHash is already registered.
	PutClient(ctx context.Context, c Client) error

	// Client returns the client with this id, or ErrNotFound.
	Client(ctx context.Context, id string) (*Client, error)

	// SetClientOrigins replaces the origins of the client with this id, or
	// returns ErrNotFound.
	SetClientOrigins(ctx context.Context, id string, origins []string) error

	// ClientByKeyHash returns the client whose KeyHash equals keyHash, or
	// ErrNotFound.
	ClientByKeyHash(ctx context.Context, keyHash []byte) (*Client, error)

	// CreateTxn atomically takes one event from each limit (see Take) and
	// inserts t. If any limit is exceeded it returns a *RateLimitError,
	// inserts nothing and counts nothing. ErrExists if t.ID is taken.
	CreateTxn(ctx context.Context, t Txn, now int64, limits ...Limit) error

	// Txn returns the transaction with this id, consumed or not, or
	// ErrNotFound. It does not check expiry.
	Txn(ctx context.Context, id string) (*Txn, error)

	// Redeem is one confirmation attempt, atomically:
	//   - unknown, consumed or dead (Tries >= MaxTries) transaction: ErrNotFound;
	//   - now >= Expires: ErrExpired (nothing changes);
	//   - otpDigest differs from OTPDigest (constant-time compare): Tries is
	//     incremented and durably stored, and the error is a *WrongOTPError
	//     (errors.Is ErrWrongOTP) with Left = MaxTries - Tries;
	//   - otherwise issue is called with the transaction (it resolves the
	//     person, signs the token and returns it with its consent entry); if
	//     issue fails, its error is returned and nothing changes; else the
	//     transaction is marked consumed with the Issued outcome and the
	//     consent entry is appended to the log, durably, in the same commit,
	//     and the consumed transaction is returned.
	// So a token is never returned without its consent entry, and one
	// transaction yields at most one token. issue may be called more than
	// once for one successful Redeem (an engine may retry a commit); only the
	// last call's result is kept, so issue must have no side effects outside
	// its return value.
	Redeem(ctx context.Context, id string, otpDigest []byte, now int64, issue func(*Txn) (*Issued, error)) (*Txn, error)

	// Take takes one event from each limit atomically: all are counted, or,
	// if any is exceeded, none is and the error is a *RateLimitError.
	Take(ctx context.Context, now int64, limits ...Limit) error

	// Refund gives one event back to each limit (an event that turned out
	// not to happen, such as an SMS the gateway did not take). A limit
	// never goes below empty, so a refund without an event is harmless.
	Refund(ctx context.Context, now int64, limits ...Limit) error

	// Consents calls fn for every consent entry with Seq > after, in Seq
	// order, stopping at fn's first error (which it returns).
	Consents(ctx context.Context, after uint64, fn func(Consent) error) error

	// SigningKeys returns every stored signing key (removed ones included
	// until DeleteSigningKey), ordered by ActiveFrom.
	SigningKeys(ctx context.Context) ([]SigningKey, error)

	// AddSigningKey stores k if no key is stored yet (first start): it
	// returns (true, nil) when k was stored, (false, nil) when another key
	// already existed (several processes may race at first start; exactly
	// one wins).
	AddSigningKey(ctx context.Context, k SigningKey) (bool, error)

	// RotateSigningKeys atomically applies a rotation: it calls plan with
	// the stored keys; plan returns the keys to write (new or changed,
	// matched by KID). If plan fails, its error is returned and nothing
	// changes. plan may be called more than once; it must be pure.
	RotateSigningKeys(ctx context.Context, plan func([]SigningKey) ([]SigningKey, error)) error

	// DeleteSigningKey removes a key (used once it is past RemoveAt).
	// Deleting an absent key is not an error.
	DeleteSigningKey(ctx context.Context, kid string) error

	// Secret returns the issuer's 32-byte pairwise-subject secret, creating
	// it from crypto/rand on first use (atomically: every caller and every
	// replica sees the same bytes, forever).
	Secret(ctx context.Context) ([]byte, error)

	// Sweep deletes what is no longer needed at time now: transactions
	// whose Expires and TokenExpires are both more than an hour in the past,
	// and rate-limit allowances untouched for a day (a Limit's Window is
	// at most 86400 s, so they are empty). Consents and
	// beneficiaries are never swept.
	Sweep(ctx context.Context, now int64) error

	// Ping reports whether the store can serve requests (for /readyz).
	Ping(ctx context.Context) error

	// Close releases the store. Later calls fail with ErrClosed.
	Close() error
}
