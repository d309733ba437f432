package pgstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

// pgCtl runs pg_ctlcluster on the local cluster (the Debian layout of this
// machine; it needs root).
func pgCtl(t *testing.T, action string) {
	t.Helper()
	vers, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(vers) == 0 {
		t.Fatalf("no local cluster in /etc/postgresql: %v", err)
	}
	ctl := func(action string) ([]byte, error) {
		return exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", vers[0].Name(), "main", action).CombinedOutput()
	}
	if action == "stop" {
		// Never leave the server stopped, whatever happens next.
		t.Cleanup(func() {
			if _, err := ctl("status"); err != nil {
				ctl("start")
			}
		})
	}
	if out, err := ctl(action); err != nil {
		t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
	}
}

// TestRestart restarts PostgreSQL under a stream of OTP requests and
// confirmations, then stops it for a moment: every failure is
// ErrUnavailable, the same Store serves again once PostgreSQL is back, no
// transaction is redeemed twice, and the consent log holds an entry for
// every token returned. It disturbs every user of the server, so it runs
// only with KYCVS_TEST_PG_RESTART=1.
func TestRestart(t *testing.T) {
	if os.Getenv("KYCVS_TEST_PG_RESTART") != "1" {
		t.Skip("restarts the local PostgreSQL: set KYCVS_TEST_PG_RESTART=1")
	}
	dsn := freshSchema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	ctx := context.Background()

	var (
		mu        sync.Mutex
		tokens    = map[string]int{} // txn id → successful redeems
		created   atomic.Int64
		redeemed  atomic.Int64
		unavail   atomic.Int64
		otherErrs []error
	)
	issue := func(t *store.Txn) (*store.Issued, error) {
		return &store.Issued{Token: "tok-" + t.ID, TokenExpires: 400,
			Consent: store.Consent{Time: 10, ClientID: t.ClientID, Subject: "s", JTI: "jti-" + t.ID, TxnID: t.ID, Status: 2}}, nil
	}
	record := func(err error) {
		if errors.Is(err, ErrUnavailable) {
			unavail.Add(1)
			return
		}
		mu.Lock()
		otherErrs = append(otherErrs, err)
		mu.Unlock()
	}
	// Each worker creates a transaction on one replica and redeems it on
	// the other; a redeem whose outcome is unknown is tried again until it
	// succeeds or the transaction is gone.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s1, s2 := a, b
			if w%2 == 1 {
				s1, s2 = b, a
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				txn := store.Txn{ID: id, ClientID: "c", OTPDigest: []byte("d"), Expires: 1000, MaxTries: 5}
				if err := s1.CreateTxn(ctx, txn, 0, store.Limit{Key: "ip", Max: 1 << 30, Window: 60}); err != nil {
					record(err)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				created.Add(1)
				for {
					_, err := s2.Redeem(ctx, id, []byte("d"), 10, issue)
					if err == nil {
						redeemed.Add(1)
						mu.Lock()
						tokens[id]++
						mu.Unlock()
						break
					}
					if errors.Is(err, store.ErrNotFound) {
						break // consumed by a commit whose answer was lost
					}
					record(err)
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	before := redeemed.Load()
	pgCtl(t, "restart")
	t.Logf("restarted after %d redeems", before)
	time.Sleep(2 * time.Second)

	// Stopped: every call fails as unavailable.
	pgCtl(t, "stop")
	stopped := time.Now()
	for name, err := range map[string]error{
		"ping":   a.Ping(ctx),
		"create": a.CreateTxn(ctx, store.Txn{ID: "down", Expires: 10}, 0),
		"redeem": func() error { _, err := b.Redeem(ctx, "w0-0", []byte("d"), 10, issue); return err }(),
		"take":   b.Take(ctx, 0, store.Limit{Key: "k", Max: 1, Window: 1}),
	} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s while stopped: %v", name, err)
		}
	}
	pgCtl(t, "start")
	t.Logf("stopped for %v", time.Since(stopped).Round(time.Millisecond))

	// Recovered: the same stores serve again.
	deadline := time.Now().Add(30 * time.Second)
	for a.Ping(ctx) != nil || b.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no recovery within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mid := redeemed.Load()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if redeemed.Load() <= mid {
		t.Fatalf("no redeems after recovery (%d)", mid)
	}
	for _, err := range otherErrs {
		t.Errorf("not reported as unavailable: %v", err)
	}
	for id, n := range tokens {
		if n != 1 {
			t.Errorf("txn %s redeemed %d times", id, n)
		}
	}
	// Every returned token has its consent entry, and every consumed
	// transaction has exactly one.
	logged := map[string]int{}
	if err := a.Consents(ctx, 0, func(c store.Consent) error { logged[c.TxnID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for id := range tokens {
		if logged[id] != 1 {
			t.Errorf("txn %s: token returned, %d consent entries", id, logged[id])
		}
	}
	var consumed int
	a.pool.QueryRow(ctx, `SELECT count(*) FROM kycvs_txns WHERE consumed`).Scan(&consumed)
	if consumed != len(logged) {
		t.Errorf("%d consumed, %d logged", consumed, len(logged))
	}
	t.Logf("%d created, %d tokens returned, %d consumed, %d unavailable errors", created.Load(), redeemed.Load(), consumed, unavail.Load())
}
