// Package storetest is the conformance suite of the [store.Store] contract:
// every engine runs the same tests from its own _test.go file.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// newStore must return an empty store and arrange its cleanup with
// t.Cleanup (the suite closes stores itself only in the Close test; closing
// twice must be harmless). Engines that several processes share (such as
// PostgreSQL) also run [RunReplicas] with two stores opened on one
// database, as two issuer replicas would.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kycvs/kycvs/issuer/store"
)

var ctx = context.Background()

// Run runs the conformance tests, each on a fresh store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Beneficiaries", testBeneficiaries},
		{"BigBatch", testBigBatch},
		{"RegistryInvariants", testRegistryInvariants},
		{"WholeFileAllOrNothing", testWholeFile},
		{"Clients", testClients},
		{"Redeem", testRedeem},
		{"RedeemDies", testRedeemDies},
		{"RedeemIssueFails", testRedeemIssueFails},
		{"RedeemConcurrent", func(t *testing.T, s store.Store) { testRedeemConcurrent(t, s, s) }},
		{"RateLimits", testRateLimits},
		{"RateLimitsRecoverGradually", testGradual},
		{"Refund", testRefund},
		{"CreateTxnLimits", testCreateTxnLimits},
		{"Consents", testConsents},
		{"SigningKeys", testSigningKeys},
		{"AddSigningKeyRace", func(t *testing.T, s store.Store) { testAddKeyRace(t, s, s) }},
		{"Secret", func(t *testing.T, s store.Store) { testSecret(t, s, s) }},
		{"Sweep", testSweep},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// RunReplicas runs the tests of two replicas sharing one database:
// newPair returns two independently opened stores on the same, empty data.
func RunReplicas(t *testing.T, newPair func(t *testing.T) (a, b store.Store)) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, store.Store)
	}{
		{"TxnAcrossReplicas", testTxnAcross},
		{"AttemptLimitAcrossReplicas", testTriesAcross},
		{"RateLimitAcrossReplicas", testRateAcross},
		{"KeyRotationAcrossReplicas", testKeysAcross},
		{"RedeemConcurrentAcrossReplicas", testRedeemConcurrent},
		{"AddSigningKeyRaceAcrossReplicas", testAddKeyRace},
		{"SecretAcrossReplicas", testSecret},
		{"RegistryAcrossReplicas", testRegistryAcross},
		{"NamesAcrossReplicas", testNamesAcross},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			tc.fn(t, a, b)
		})
	}
}

func mustNil(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testBeneficiaries(t *testing.T, s store.Store) {
	bs := []store.Beneficiary{
		{ID: "1", Mobile: "9876543210", Name: "Asha Devi", Doses: []store.Dose{
			{Vaccine: "COVISHIELD", Number: 1, Date: "2021-05-03"}, {Vaccine: "COVISHIELD", Number: 2, Date: "2021-08-01"}}},
		{ID: "2", Mobile: "9876543210", Name: "Ravi"},
	}
	mustNil(t, s.PutBeneficiaries(ctx, bs), "put")
	mustNil(t, s.PutBeneficiaries(ctx, bs), "put again (idempotent)")
	got, err := s.Beneficiaries(ctx, "9876543210")
	mustNil(t, err, "get")
	if len(got) != 2 || got[0].ID != "1" || got[1].ID != "2" || got[0].Name != "Asha Devi" || got[0].Mobile != "9876543210" ||
		len(got[0].Doses) != 2 || got[0].Doses[1] != bs[0].Doses[1] || len(got[1].Doses) != 0 {
		t.Fatalf("got %+v", got)
	}
	// Replacing is entire: doses go too.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "1", Mobile: "9876543210", Name: "Asha"}}), "replace")
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 2 || got[0].Name != "Asha" || len(got[0].Doses) != 0 {
		t.Fatalf("after replace: %+v", got)
	}
	// Moving to another number leaves the old one.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "2", Mobile: "9000000000", Name: "Ravi"}}), "move")
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 1 || got[0].ID != "1" {
		t.Fatalf("after move, old number: %+v", got)
	}
	if got, _ := s.Beneficiaries(ctx, "9000000000"); len(got) != 1 || got[0].ID != "2" {
		t.Fatalf("after move, new number: %+v", got)
	}
	// Six fit on a number, seven do not, and a failed batch writes nothing.
	var many []store.Beneficiary
	for i := range 6 {
		many = append(many, store.Beneficiary{ID: fmt.Sprint("m", i), Mobile: "9876543210", Name: fmt.Sprint("x", i)})
	}
	many = append(many, store.Beneficiary{ID: "other", Mobile: "9111111111", Name: "y"})
	if err := s.PutBeneficiaries(ctx, many); !errors.Is(err, store.ErrMobileFull) {
		t.Fatalf("7 on one mobile: %v", err)
	}
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 1 {
		t.Fatalf("failed batch wrote: %+v", got)
	}
	if got, _ := s.Beneficiaries(ctx, "9111111111"); len(got) != 0 {
		t.Fatalf("failed batch wrote another number: %+v", got)
	}
	mustNil(t, s.PutBeneficiaries(ctx, many[1:6]), "6 on one mobile")
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 6 {
		t.Fatalf("6 on one mobile: %d", len(got))
	}
	// Moving one away makes room.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "m1", Mobile: "9222222222", Name: "x1"}, {ID: "m0", Mobile: "9876543210", Name: "x0"}}), "swap")
	if n, err := s.CountBeneficiaries(ctx); err != nil || n != 8 {
		t.Fatalf("count %d %v", n, err)
	}
	if got, err := s.Beneficiaries(ctx, "1111111111"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("unknown mobile: %#v %v", got, err)
	}
}

func testBigBatch(t *testing.T, s store.Store) {
	bs := make([]store.Beneficiary, 10000)
	for i := range bs {
		bs[i] = store.Beneficiary{ID: fmt.Sprintf("%014d", i), Mobile: fmt.Sprintf("9%09d", i/3), Name: fmt.Sprint("Person ", i),
			Doses: []store.Dose{{Vaccine: "COVAXIN", Number: 1, Date: "2021-06-01"}}}
	}
	mustNil(t, s.PutBeneficiaries(ctx, bs), "10,000")
	if n, err := s.CountBeneficiaries(ctx); err != nil || n != 10000 {
		t.Fatalf("count %d %v", n, err)
	}
	if got, _ := s.Beneficiaries(ctx, "9000000001"); len(got) != 3 || got[0].ID != "00000000000003" {
		t.Fatalf("%+v", got)
	}
}

func testClients(t *testing.T, s store.Store) {
	c := store.Client{ID: "irctc", Name: "Railways", Origins: []string{"https://a.example", "https://b.example"}, KeyHash: bytes.Repeat([]byte{1}, 32), Created: 7}
	mustNil(t, s.PutClient(ctx, c), "put")
	if err := s.PutClient(ctx, store.Client{ID: "irctc", KeyHash: bytes.Repeat([]byte{2}, 32)}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same id: %v", err)
	}
	if err := s.PutClient(ctx, store.Client{ID: "other", KeyHash: c.KeyHash}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same key hash: %v", err)
	}
	got, err := s.Client(ctx, "irctc")
	mustNil(t, err, "get")
	if got.Name != c.Name || len(got.Origins) != 2 || got.Origins[1] != c.Origins[1] || !bytes.Equal(got.KeyHash, c.KeyHash) || got.Created != 7 {
		t.Fatalf("got %+v", got)
	}
	got, err = s.ClientByKeyHash(ctx, c.KeyHash)
	if err != nil || got.ID != "irctc" {
		t.Fatalf("by key: %+v %v", got, err)
	}
	if _, err := s.Client(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := s.ClientByKeyHash(ctx, bytes.Repeat([]byte{9}, 32)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := s.Client(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rejected client stored: %v", err)
	}
	mustNil(t, s.SetClientOrigins(ctx, "irctc", []string{"http://127.0.0.1:9000"}), "set origins")
	got, err = s.Client(ctx, "irctc")
	mustNil(t, err, "get after set origins")
	if len(got.Origins) != 1 || got.Origins[0] != "http://127.0.0.1:9000" || got.Name != c.Name || !bytes.Equal(got.KeyHash, c.KeyHash) || got.Created != 7 {
		t.Fatalf("after set origins: %+v", got)
	}
	if got, err = s.ClientByKeyHash(ctx, c.KeyHash); err != nil || len(got.Origins) != 1 {
		t.Fatalf("by key after set origins: %+v %v", got, err)
	}
	if err := s.SetClientOrigins(ctx, "nobody", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("set origins of an unknown client: %v", err)
	}
}

// newTxn is a transaction to store; its Lang is not the default, so that a
// store that drops it is seen.
func newTxn(id string) store.Txn {
	return store.Txn{ID: id, ClientID: "c", Mobile: "9876543210", Name: "Asha", Nonce: "nonce-123", API: "v1", Lang: "hi",
		OTPDigest: []byte("right-digest"), Created: 0, Expires: 100, MaxTries: 3}
}

func issuer(calls *atomic.Int32) func(t *store.Txn) (*store.Issued, error) {
	return func(t *store.Txn) (*store.Issued, error) {
		if calls != nil {
			calls.Add(1)
		}
		return &store.Issued{Token: "tok-" + t.ID, TokenExpires: 400, SessionDigest: []byte("sess"),
			Consent: store.Consent{Time: 10, ClientID: t.ClientID, Subject: "sub-" + t.ID, JTI: "jti-" + t.ID, TxnID: t.ID, Status: 2}}, nil
	}
}

func testRedeem(t *testing.T, s store.Store) {
	txn := newTxn("t1")
	mustNil(t, s.CreateTxn(ctx, txn, 0), "create")
	if err := s.CreateTxn(ctx, txn, 0); !errors.Is(err, store.ErrExists) {
		t.Fatalf("create twice: %v", err)
	}
	got, err := s.Txn(ctx, "t1")
	mustNil(t, err, "txn")
	if got.Nonce != "nonce-123" || got.API != "v1" || got.Lang != "hi" || got.Consumed || got.MaxTries != 3 || !bytes.Equal(got.OTPDigest, txn.OTPDigest) {
		t.Fatalf("txn %+v", got)
	}
	if _, err := s.Txn(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown txn: %v", err)
	}
	if _, err := s.Redeem(ctx, "nope", []byte("x"), 10, issuer(nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("redeem unknown: %v", err)
	}
	var w *store.WrongOTPError
	if _, err := s.Redeem(ctx, "t1", []byte("wrong"), 10, issuer(nil)); !errors.As(err, &w) || w.Left != 2 || !errors.Is(err, store.ErrWrongOTP) {
		t.Fatalf("wrong otp: %v", err)
	}
	if _, err := s.Redeem(ctx, "t1", []byte("right-digest"), 100, issuer(nil)); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if got, _ := s.Txn(ctx, "t1"); got.Tries != 1 || got.Consumed {
		t.Fatalf("after expired: %+v", got)
	}
	got, err = s.Redeem(ctx, "t1", []byte("right-digest"), 10, issuer(nil))
	if err != nil || !got.Consumed || got.Token != "tok-t1" || got.Lang != "hi" || got.Tries != 1 || got.ConsumedAt != 10 || got.Subject != "sub-t1" ||
		got.Status != 2 || got.TokenExpires != 400 || string(got.SessionDigest) != "sess" {
		t.Fatalf("redeem: %+v %v", got, err)
	}
	stored, err := s.Txn(ctx, "t1")
	if err != nil || !stored.Consumed || stored.Token != "tok-t1" || stored.Lang != "hi" || stored.Subject != "sub-t1" || string(stored.SessionDigest) != "sess" {
		t.Fatalf("stored after redeem: %+v %v", stored, err)
	}
	if _, err := s.Redeem(ctx, "t1", []byte("right-digest"), 10, issuer(nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reuse: %v", err)
	}
	cs := consents(t, s, 0)
	if len(cs) != 1 || cs[0].JTI != "jti-t1" || cs[0].Subject != "sub-t1" || cs[0].TxnID != "t1" || cs[0].Status != 2 || cs[0].Time != 10 || cs[0].Seq == 0 {
		t.Fatalf("consents %+v", cs)
	}
}

func testRedeemDies(t *testing.T, s store.Store) {
	mustNil(t, s.CreateTxn(ctx, newTxn("t2"), 0), "create")
	var w *store.WrongOTPError
	for i := range 3 {
		if _, err := s.Redeem(ctx, "t2", []byte("x"), 10, issuer(nil)); !errors.As(err, &w) || w.Left != 2-i {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := s.Redeem(ctx, "t2", []byte("right-digest"), 10, issuer(nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dead: %v", err)
	}
	if got, _ := s.Txn(ctx, "t2"); got == nil || got.Tries != 3 || got.Consumed {
		t.Fatalf("dead txn: %+v", got)
	}
	if cs := consents(t, s, 0); len(cs) != 0 {
		t.Fatalf("consents %+v", cs)
	}
}

func testRedeemIssueFails(t *testing.T, s store.Store) {
	mustNil(t, s.CreateTxn(ctx, newTxn("t3"), 0), "create")
	boom := errors.New("boom")
	if _, err := s.Redeem(ctx, "t3", []byte("right-digest"), 10, func(*store.Txn) (*store.Issued, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("issue error: %v", err)
	}
	if tx, _ := s.Txn(ctx, "t3"); tx.Consumed || tx.Tries != 0 {
		t.Fatalf("changed after failed issue: %+v", tx)
	}
	if cs := consents(t, s, 0); len(cs) != 0 {
		t.Fatalf("consents %+v", cs)
	}
	if _, err := s.Redeem(ctx, "t3", []byte("right-digest"), 10, issuer(nil)); err != nil {
		t.Fatalf("redeem after failed issue: %v", err)
	}
}

// testRedeemConcurrent redeems one transaction from many goroutines, half
// through a and half through b: exactly one wins, the others see
// ErrNotFound, and the log holds one entry.
func testRedeemConcurrent(t *testing.T, a, b store.Store) {
	const rounds, workers = 5, 8
	for r := range rounds {
		id := fmt.Sprint("race", r)
		mustNil(t, a.CreateTxn(ctx, newTxn(id), 0), "create")
		var wins, lost atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			s := a
			if w%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Redeem(ctx, id, []byte("right-digest"), 10, issuer(nil))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, store.ErrNotFound):
					lost.Add(1)
				default:
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("redeem: %v", err)
		}
		if wins.Load() != 1 || lost.Load() != workers-1 {
			t.Fatalf("round %d: %d wins, %d lost", r, wins.Load(), lost.Load())
		}
	}
	if cs := consents(t, b, 0); len(cs) != rounds {
		t.Fatalf("%d consents, want %d", len(cs), rounds)
	}
}

func testRateLimits(t *testing.T, s store.Store) {
	l := []store.Limit{{Key: "a", Max: 2, Window: 60}, {Key: "b", Max: 1, Window: 10}}
	mustNil(t, s.Take(ctx, 0, l...), "first")
	var rl *store.RateLimitError
	if err := s.Take(ctx, 5, l...); !errors.As(err, &rl) || rl.Key != "b" || rl.RetryAfter != 5 || !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("b exceeded: %v", err)
	}
	// a was not counted by the refused call.
	mustNil(t, s.Take(ctx, 10, l...), "b recovered")
	mustNil(t, s.Take(ctx, 30, l[0]), "a: one back every 30 s")
	if err := s.Take(ctx, 31, l[0]); !errors.As(err, &rl) || rl.Key != "a" || rl.RetryAfter != 29 {
		t.Fatalf("a exceeded: %v", err)
	}
	if err := s.Take(ctx, 59, l[0]); !errors.As(err, &rl) || rl.RetryAfter != 1 {
		t.Fatalf("a exceeded a second before one is back: %v", err)
	}
	mustNil(t, s.Take(ctx, 60, l[0]), "a: one back")
	mustNil(t, s.Take(ctx, 60), "no limits")
	// Of two exceeded limits, the first given is reported.
	two := []store.Limit{{Key: "z", Max: 1, Window: 60}, {Key: "y", Max: 1, Window: 90}}
	mustNil(t, s.Take(ctx, 60, two...), "z and y")
	if err := s.Take(ctx, 61, two...); !errors.As(err, &rl) || rl.Key != "z" || rl.RetryAfter != 59 {
		t.Fatalf("z and y exceeded: %v", err)
	}
	if err := s.Take(ctx, 61, two[1], two[0]); !errors.As(err, &rl) || rl.Key != "y" || rl.RetryAfter != 89 {
		t.Fatalf("y and z exceeded: %v", err)
	}
	// A key given twice counts once, against the smaller allowance.
	twice := []store.Limit{{Key: "t", Max: 3, Window: 60}, {Key: "t", Max: 2, Window: 60}}
	mustNil(t, s.Take(ctx, 0, twice...), "t once")
	mustNil(t, s.Take(ctx, 0, twice...), "t twice")
	if err := s.Take(ctx, 0, twice...); !errors.As(err, &rl) || rl.Key != "t" {
		t.Fatalf("t a third time: %v", err)
	}
	// Many at once: exactly Max succeed.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Take(ctx, 100, store.Limit{Key: "burst", Max: 7, Window: 60}) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 7 {
		t.Fatalf("burst: %d taken, want 7", ok.Load())
	}
}

// testGradual: an exhausted allowance gives one event back every
// Window/Max seconds, not all of them at the end of a window.
func testGradual(t *testing.T, s store.Store) {
	l := store.Limit{Key: "mobile:9876543210", Max: 3, Window: 3600}
	for i := range 3 {
		mustNil(t, s.Take(ctx, 1000, l), fmt.Sprint("take ", i))
	}
	var rl *store.RateLimitError
	if err := s.Take(ctx, 1000, l); !errors.As(err, &rl) || rl.RetryAfter != 1200 {
		t.Fatalf("exhausted: %v", err)
	}
	if err := s.Take(ctx, 2199, l); !errors.As(err, &rl) || rl.RetryAfter != 1 {
		t.Fatalf("a second early: %v", err)
	}
	mustNil(t, s.Take(ctx, 2200, l), "one back after 1200 s")
	if err := s.Take(ctx, 2200, l); !errors.As(err, &rl) || rl.RetryAfter != 1200 {
		t.Fatalf("only one back: %v", err)
	}
	// Two back after 2400 s more, all three after a whole window.
	mustNil(t, s.Take(ctx, 4600, l), "two back")
	mustNil(t, s.Take(ctx, 4600, l), "two back, the second")
	for i := range 3 {
		mustNil(t, s.Take(ctx, 4600+3600, l), fmt.Sprint("all back ", i))
	}
}

// testRefund: a refund gives one event back, never more than was taken.
func testRefund(t *testing.T, s store.Store) {
	l := store.Limit{Key: "r", Max: 2, Window: 60}
	mustNil(t, s.Take(ctx, 0, l), "1")
	mustNil(t, s.Take(ctx, 0, l), "2")
	if err := s.Take(ctx, 0, l); !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("3: %v", err)
	}
	mustNil(t, s.Refund(ctx, 0, l), "refund")
	mustNil(t, s.Take(ctx, 0, l), "after the refund")
	if err := s.Take(ctx, 0, l); !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("one refund, one event: %v", err)
	}
	never := store.Limit{Key: "never", Max: 1, Window: 60}
	mustNil(t, s.Refund(ctx, 0, never, never), "refund of nothing")
	mustNil(t, s.Take(ctx, 0, never), "first")
	if err := s.Take(ctx, 0, never); !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("a refund without an event gave credit: %v", err)
	}
}

func testCreateTxnLimits(t *testing.T, s store.Store) {
	l := store.Limit{Key: "mobile:9876543210", Max: 1, Window: 60}
	mustNil(t, s.CreateTxn(ctx, newTxn("x1"), 30, l), "create")
	var rl *store.RateLimitError
	if err := s.CreateTxn(ctx, newTxn("x2"), 30, l); !errors.As(err, &rl) || rl.RetryAfter != 60 {
		t.Fatalf("limited: %v", err)
	}
	if _, err := s.Txn(ctx, "x2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rate-limited create inserted: %v", err)
	}
	// A refused create (id taken) counts nothing.
	l2 := store.Limit{Key: "client:c", Max: 1, Window: 60}
	if err := s.CreateTxn(ctx, newTxn("x1"), 30, l2); !errors.Is(err, store.ErrExists) {
		t.Fatalf("id taken: %v", err)
	}
	mustNil(t, s.CreateTxn(ctx, newTxn("x3"), 30, l2), "limit not counted by a refused create")
}

func consents(t *testing.T, s store.Store, after uint64) []store.Consent {
	t.Helper()
	var out []store.Consent
	mustNil(t, s.Consents(ctx, after, func(c store.Consent) error { out = append(out, c); return nil }), "consents")
	return out
}

func testConsents(t *testing.T, s store.Store) {
	for i := range 5 {
		id := fmt.Sprint("c", i)
		mustNil(t, s.CreateTxn(ctx, newTxn(id), 0), "create")
		if _, err := s.Redeem(ctx, id, []byte("right-digest"), 10, issuer(nil)); err != nil {
			t.Fatal(err)
		}
	}
	all := consents(t, s, 0)
	if len(all) != 5 {
		t.Fatalf("%d consents", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("not increasing: %+v", all)
		}
	}
	if rest := consents(t, s, all[2].Seq); len(rest) != 2 || rest[0].TxnID != all[3].TxnID {
		t.Fatalf("after %d: %+v", all[2].Seq, rest)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Consents(ctx, 0, func(store.Consent) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("fn's error: %v after %d", err, n)
	}
	if rest := consents(t, s, all[4].Seq); len(rest) != 0 {
		t.Fatalf("after the last: %+v", rest)
	}
}

func testSigningKeys(t *testing.T, s store.Store) {
	if ks, err := s.SigningKeys(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("empty: %v %v", ks, err)
	}
	ok, err := s.AddSigningKey(ctx, store.SigningKey{KID: "k1", PrivateJWK: []byte(`{"k":1}`), Created: 1, ActiveFrom: 1})
	if !ok || err != nil {
		t.Fatalf("first key: %v %v", ok, err)
	}
	if ok, err := s.AddSigningKey(ctx, store.SigningKey{KID: "k2", PrivateJWK: []byte(`{"k":2}`)}); ok || err != nil {
		t.Fatalf("second first key: %v %v", ok, err)
	}
	boom := errors.New("boom")
	if err := s.RotateSigningKeys(ctx, func([]store.SigningKey) ([]store.SigningKey, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("plan error: %v", err)
	}
	err = s.RotateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) {
		if len(ks) != 1 || ks[0].KID != "k1" || string(ks[0].PrivateJWK) != `{"k":1}` {
			return nil, fmt.Errorf("plan got %+v", ks)
		}
		ks[0].RetireAt = 50
		ks[0].RemoveAt = 90
		return append(ks, store.SigningKey{KID: "k3", PrivateJWK: []byte(`{"k":3}`), Created: 20, ActiveFrom: 50}), nil
	})
	mustNil(t, err, "rotate")
	ks, err := s.SigningKeys(ctx)
	if err != nil || len(ks) != 2 || ks[0].KID != "k1" || ks[0].RetireAt != 50 || ks[0].RemoveAt != 90 ||
		ks[1].KID != "k3" || string(ks[1].PrivateJWK) != `{"k":3}` || ks[1].ActiveFrom != 50 || ks[1].Created != 20 {
		t.Fatalf("after rotate: %+v %v", ks, err)
	}
	mustNil(t, s.DeleteSigningKey(ctx, "k1"), "delete")
	mustNil(t, s.DeleteSigningKey(ctx, "k1"), "delete absent")
	if ks, _ := s.SigningKeys(ctx); len(ks) != 1 || ks[0].KID != "k3" {
		t.Fatalf("after delete: %+v", ks)
	}
}

// testAddKeyRace adds a different first key from many goroutines, through
// both stores: exactly one is stored.
func testAddKeyRace(t *testing.T, a, b store.Store) {
	var wins atomic.Int32
	acrossReplicas(8, a, b, func(i int, s store.Store) {
		ok, err := s.AddSigningKey(ctx, store.SigningKey{KID: fmt.Sprint("race", i), PrivateJWK: []byte(fmt.Sprint(i))})
		if err != nil {
			t.Error(err)
		}
		if ok {
			wins.Add(1)
		}
	})
	ka, _ := a.SigningKeys(ctx)
	kb, _ := b.SigningKeys(ctx)
	if wins.Load() != 1 || len(ka) != 1 || len(kb) != 1 || ka[0].KID != kb[0].KID {
		t.Fatalf("%d wins, keys %+v / %+v", wins.Load(), ka, kb)
	}
}

func testSecret(t *testing.T, a, b store.Store) {
	got := make([][]byte, 8)
	acrossReplicas(len(got), a, b, func(i int, s store.Store) {
		sec, err := s.Secret(ctx)
		if err != nil {
			t.Error(err)
		}
		got[i] = sec
	})
	for _, g := range got {
		if len(g) != 32 || !bytes.Equal(g, got[0]) {
			t.Fatalf("secrets differ: %x", got)
		}
	}
	if bytes.Equal(got[0], make([]byte, 32)) {
		t.Fatal("all-zero secret")
	}
	again, _ := b.Secret(ctx)
	again[0] ^= 1 // returned values are the caller's
	if again, _ := a.Secret(ctx); !bytes.Equal(again, got[0]) {
		t.Fatal("secret changed")
	}
}

func testSweep(t *testing.T, s store.Store) {
	old := newTxn("old")
	old.Expires, old.TokenExpires = 100, 0
	fresh := newTxn("fresh")
	fresh.Expires = 5000
	issued := newTxn("issued") // a token still valid keeps its transaction (CoWIN status calls)
	issued.Expires = 100
	for _, x := range []store.Txn{old, fresh, issued} {
		mustNil(t, s.CreateTxn(ctx, x, 0), "create")
	}
	if _, err := s.Redeem(ctx, "issued", []byte("right-digest"), 50, func(t *store.Txn) (*store.Issued, error) {
		is, _ := issuer(nil)(t)
		is.TokenExpires = 4000
		return is, nil
	}); err != nil {
		t.Fatal(err)
	}
	mustNil(t, s.Take(ctx, 0, store.Limit{Key: "short", Max: 1, Window: 60}), "take")
	mustNil(t, s.Sweep(ctx, 100+3601), "sweep")
	if _, err := s.Txn(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old txn kept: %v", err)
	}
	for _, id := range []string{"fresh", "issued"} {
		if _, err := s.Txn(ctx, id); err != nil {
			t.Fatalf("%s swept: %v", id, err)
		}
	}
	// The swept counter starts a new window.
	mustNil(t, s.Take(ctx, 3701, store.Limit{Key: "short", Max: 1, Window: 60}), "take after sweep")
	if cs := consents(t, s, 0); len(cs) != 1 {
		t.Fatalf("consents swept: %+v", cs)
	}
}

func testClose(t *testing.T, s store.Store) {
	mustNil(t, s.Ping(ctx), "ping")
	mustNil(t, s.Close(), "close")
	if err := s.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("ping after close: %v", err)
	}
	if _, err := s.Beneficiaries(ctx, "9876543210"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := s.CreateTxn(ctx, newTxn("z"), 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// ---- replicas ----

func testTxnAcross(t *testing.T, a, b store.Store) {
	mustNil(t, a.CreateTxn(ctx, newTxn("x"), 0), "create on a")
	if got, err := b.Txn(ctx, "x"); err != nil || got.Nonce != "nonce-123" {
		t.Fatalf("b sees: %+v %v", got, err)
	}
	got, err := b.Redeem(ctx, "x", []byte("right-digest"), 10, issuer(nil))
	if err != nil || !got.Consumed {
		t.Fatalf("redeem on b: %+v %v", got, err)
	}
	if _, err := a.Redeem(ctx, "x", []byte("right-digest"), 10, issuer(nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reuse on a: %v", err)
	}
	if got, _ := a.Txn(ctx, "x"); !got.Consumed || got.Token != "tok-x" {
		t.Fatalf("a sees: %+v", got)
	}
	if cs := consents(t, a, 0); len(cs) != 1 {
		t.Fatalf("consents on a: %+v", cs)
	}
}

func testTriesAcross(t *testing.T, a, b store.Store) {
	mustNil(t, a.CreateTxn(ctx, newTxn("x"), 0), "create")
	var w *store.WrongOTPError
	for i, s := range []store.Store{a, b, a} {
		if _, err := s.Redeem(ctx, "x", []byte("bad"), 10, issuer(nil)); !errors.As(err, &w) || w.Left != 2-i {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := b.Redeem(ctx, "x", []byte("right-digest"), 10, issuer(nil)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dead on b: %v", err)
	}
	// Concurrently: 2*MaxTries wrong tries against a fresh transaction
	// count exactly MaxTries, then ErrNotFound.
	mustNil(t, a.CreateTxn(ctx, newTxn("y"), 0), "create")
	var wrong, notFound atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Redeem(ctx, "y", []byte("bad"), 10, issuer(nil))
			switch {
			case errors.Is(err, store.ErrWrongOTP):
				wrong.Add(1)
			case errors.Is(err, store.ErrNotFound):
				notFound.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wrong.Load() != 3 || notFound.Load() != 3 {
		t.Fatalf("%d wrong, %d not found", wrong.Load(), notFound.Load())
	}
}

func testRateAcross(t *testing.T, a, b store.Store) {
	l := store.Limit{Key: "client:c", Max: 10, Window: 60}
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%3 == 0 {
				err = s.CreateTxn(ctx, newTxn(fmt.Sprint("r", i)), 5, l)
			} else {
				err = s.Take(ctx, 5, l)
			}
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrRateLimited):
				limited.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 20 {
		t.Fatalf("%d taken, %d limited; want 10, 20", ok.Load(), limited.Load())
	}
	var rl *store.RateLimitError
	if err := a.Take(ctx, 5, l); !errors.As(err, &rl) || rl.RetryAfter != 6 {
		t.Fatalf("a: %v", err)
	}
	mustNil(t, b.Take(ctx, 11, l), "one back on b")
	if err := a.Take(ctx, 11, l); !errors.As(err, &rl) || rl.RetryAfter != 6 {
		t.Fatalf("a, after b took the one back: %v", err)
	}
}

func testKeysAcross(t *testing.T, a, b store.Store) {
	if ok, err := a.AddSigningKey(ctx, store.SigningKey{KID: "k1", PrivateJWK: []byte("{1}"), ActiveFrom: 1}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := b.AddSigningKey(ctx, store.SigningKey{KID: "k2", PrivateJWK: []byte("{2}")}); ok || err != nil {
		t.Fatal("b added a second first key", err)
	}
	mustNil(t, a.RotateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) {
		ks[0].RetireAt = 100
		return append(ks, store.SigningKey{KID: "k3", PrivateJWK: []byte("{3}"), ActiveFrom: 100}), nil
	}), "rotate on a")
	ks, err := b.SigningKeys(ctx)
	if err != nil || len(ks) != 2 || ks[0].KID != "k1" || ks[0].RetireAt != 100 || ks[1].KID != "k3" || string(ks[1].PrivateJWK) != "{3}" {
		t.Fatalf("b sees %+v %v", ks, err)
	}
	// Concurrent rotations through both: each sees the other's result.
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RotateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) {
				last := ks[len(ks)-1]
				return []store.SigningKey{{KID: fmt.Sprint("n", i), PrivateJWK: []byte("{n}"), ActiveFrom: last.ActiveFrom + 1}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ks, _ = a.SigningKeys(ctx)
	if len(ks) != 6 {
		t.Fatalf("keys %+v", ks)
	}
	for i := 3; i < 6; i++ {
		if ks[i].ActiveFrom != ks[i-1].ActiveFrom+1 {
			t.Fatalf("rotations interleaved: %+v", ks)
		}
	}
}

func testRegistryAcross(t *testing.T, a, b store.Store) {
	// Two replicas fill one number concurrently: the limit holds.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: fmt.Sprint("p", i), Mobile: "9876543210", Name: fmt.Sprint("x", i)}})
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, store.ErrMobileFull) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := b.Beneficiaries(ctx, "9876543210")
	if ok.Load() != store.MaxPerMobile || len(got) != store.MaxPerMobile {
		t.Fatalf("%d accepted, %d stored", ok.Load(), len(got))
	}
}

// testRegistryInvariants: at most MaxPerMobile per number, names unique per
// number after normalisation, ids unique — across calls, not only within one.
func testRegistryInvariants(t *testing.T, s store.Store) {
	const m = "9876543210"
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "1", Mobile: m, Name: "Asha Devi"}}), "first")
	// The same name, spelled differently, in a later call: refused whole.
	err := s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "9", Mobile: "9000000009", Name: "Other"}, {ID: "2", Mobile: m, Name: "  ASHA   devi "}})
	if !errors.Is(err, store.ErrDuplicateName) {
		t.Fatalf("same name across calls: %v", err)
	}
	if n, _ := s.CountBeneficiaries(ctx); n != 1 {
		t.Fatalf("refused call wrote: %d stored", n)
	}
	// Within one call too.
	if err := s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "3", Mobile: "9111111111", Name: "Ravi"}, {ID: "4", Mobile: "9111111111", Name: "ravi"}}); !errors.Is(err, store.ErrDuplicateName) {
		t.Fatalf("same name in one call: %v", err)
	}
	// The same name on another number, and the same beneficiary again, are fine.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "5", Mobile: "9222222222", Name: "Asha Devi"}}), "another number")
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "1", Mobile: m, Name: "asha devi"}}), "the same id renamed alike")
	// Two swap names in one call; one moves away and frees its name.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "6", Mobile: m, Name: "Meera"}}), "meera")
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "1", Mobile: m, Name: "Meera"}, {ID: "6", Mobile: m, Name: "Asha Devi"}}), "swap")
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "6", Mobile: "9333333333", Name: "Asha Devi"}}), "move away")
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "7", Mobile: m, Name: "Asha Devi"}}), "the freed name")
	// Ids are unique: one id twice in a call is one beneficiary, the later.
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "8", Mobile: "9444444444", Name: "A"}, {ID: "8", Mobile: "9444444444", Name: "B"}}), "id twice")
	if got, _ := s.Beneficiaries(ctx, "9444444444"); len(got) != 1 || got[0].Name != "B" {
		t.Fatalf("id twice: %+v", got)
	}
	// The per-number limit counts what is stored: 4 there, 3 more refused.
	var more []store.Beneficiary
	for i := range 3 {
		more = append(more, store.Beneficiary{ID: fmt.Sprint("n", i), Mobile: m, Name: fmt.Sprint("N", i)})
	}
	mustNil(t, s.PutBeneficiaries(ctx, more[:1]), "3 on the number")
	mustNil(t, s.PutBeneficiaries(ctx, more[1:2]), "4 on the number")
	if got, _ := s.Beneficiaries(ctx, m); len(got) != 4 {
		t.Fatalf("%d on the number", len(got))
	}
	mustNil(t, s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "n3", Mobile: m, Name: "N3"}, {ID: "n4", Mobile: m, Name: "N4"}}), "6 on the number")
	if err := s.PutBeneficiaries(ctx, more[2:]); !errors.Is(err, store.ErrMobileFull) {
		t.Fatalf("7th across calls: %v", err)
	}
}

// testWholeFile: a registry file goes to the store in one call, whatever its
// size, and a problem at its very end writes nothing of it.
func testWholeFile(t *testing.T, s store.Store) {
	bs := make([]store.Beneficiary, 20001)
	for i := range bs {
		bs[i] = store.Beneficiary{ID: fmt.Sprintf("%014d", i), Mobile: fmt.Sprintf("9%09d", i/3), Name: fmt.Sprint("Person ", i)}
	}
	bs[20000].Mobile, bs[20000].Name = bs[0].Mobile, "PERSON 0"
	if err := s.PutBeneficiaries(ctx, bs); !errors.Is(err, store.ErrDuplicateName) {
		t.Fatalf("a duplicate name in the last row: %v", err)
	}
	if n, err := s.CountBeneficiaries(ctx); err != nil || n != 0 {
		t.Fatalf("a refused file wrote %d (%v)", n, err)
	}
	bs[20000].Name = "Person 20000"
	mustNil(t, s.PutBeneficiaries(ctx, bs), "the corrected file")
	if n, err := s.CountBeneficiaries(ctx); err != nil || n != 20001 {
		t.Fatalf("count %d %v", n, err)
	}
}

// testNamesAcross: two replicas write the same name to one number at once:
// exactly one wins.
func testNamesAcross(t *testing.T, a, b store.Store) {
	var ok atomic.Int32
	acrossReplicas(10, a, b, func(i int, s store.Store) {
		err := s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: fmt.Sprint("p", i), Mobile: "9876543210", Name: "Asha Devi"}})
		if err == nil {
			ok.Add(1)
		} else if !errors.Is(err, store.ErrDuplicateName) {
			t.Error(err)
		}
	})
	if got, _ := b.Beneficiaries(ctx, "9876543210"); ok.Load() != 1 || len(got) != 1 {
		t.Fatalf("%d accepted, %d stored", ok.Load(), len(got))
	}
}

// acrossReplicas runs f(i, s) for i in [0, n) at once, s alternating
// between the two replicas a and b, and waits for all of them.
func acrossReplicas(n int, a, b store.Store, f func(i int, s store.Store)) {
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { f(i, s) })
	}
	wg.Wait()
}
