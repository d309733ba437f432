package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/storetest"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var ctx = context.Background()

func TestBeneficiaries(t *testing.T) {
	s := open(t)
	bs := []store.Beneficiary{
		{ID: "1", Mobile: "9876543210", Name: "Asha Devi", Doses: []store.Dose{{Vaccine: "COVISHIELD", Number: 1, Date: "2021-05-03"}}},
		{ID: "2", Mobile: "9876543210", Name: "Ravi"},
	}
	if err := s.PutBeneficiaries(ctx, bs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBeneficiaries(ctx, bs); err != nil { // idempotent
		t.Fatal(err)
	}
	got, err := s.Beneficiaries(ctx, "9876543210")
	if err != nil || len(got) != 2 || got[0].Doses[0].Vaccine != "COVISHIELD" {
		t.Fatalf("got %+v %v", got, err)
	}
	// Move 2 to another number.
	if err := s.PutBeneficiaries(ctx, []store.Beneficiary{{ID: "2", Mobile: "9000000000", Name: "Ravi"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 1 {
		t.Fatalf("after move: %+v", got)
	}
	var many []store.Beneficiary
	for i := range 6 {
		many = append(many, store.Beneficiary{ID: fmt.Sprint("m", i), Mobile: "9876543210", Name: "x"})
	}
	if err := s.PutBeneficiaries(ctx, many); !errors.Is(err, store.ErrMobileFull) {
		t.Fatalf("7 on one mobile: %v", err)
	}
	if got, _ := s.Beneficiaries(ctx, "9876543210"); len(got) != 1 {
		t.Fatalf("failed batch wrote: %+v", got)
	}
	if n, _ := s.CountBeneficiaries(ctx); n != 2 {
		t.Fatalf("count %d", n)
	}
	if got, err := s.Beneficiaries(ctx, "1111111111"); err != nil || len(got) != 0 {
		t.Fatalf("unknown mobile: %v %v", got, err)
	}
}

func TestRedeem(t *testing.T) {
	s := open(t)
	txn := store.Txn{ID: "t1", ClientID: "c", Mobile: "9876543210", OTPDigest: []byte("right"), Expires: 100, MaxTries: 3}
	if err := s.CreateTxn(ctx, txn, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTxn(ctx, txn, 0); !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	issue := func(t *store.Txn) (*store.Issued, error) {
		return &store.Issued{Token: "tok", TokenExpires: 400, Consent: store.Consent{Time: 10, ClientID: t.ClientID, JTI: "j", TxnID: t.ID, Status: 2}}, nil
	}
	var w *store.WrongOTPError
	if _, err := s.Redeem(ctx, "t1", []byte("wrong"), 10, issue); !errors.As(err, &w) || w.Left != 2 || !errors.Is(err, store.ErrWrongOTP) {
		t.Fatalf("wrong otp: %v", err)
	}
	if _, err := s.Redeem(ctx, "t1", []byte("right"), 100, issue); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	got, err := s.Redeem(ctx, "t1", []byte("right"), 10, issue)
	if err != nil || !got.Consumed || got.Token != "tok" || got.Tries != 1 {
		t.Fatalf("redeem: %+v %v", got, err)
	}
	if _, err := s.Redeem(ctx, "t1", []byte("right"), 10, issue); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reuse: %v", err)
	}
	var n int
	s.Consents(ctx, 0, func(c store.Consent) error { n++; return nil })
	if n != 1 {
		t.Fatalf("%d consents", n)
	}
	// Dies after MaxTries wrong OTPs.
	txn.ID = "t2"
	s.CreateTxn(ctx, txn, 0)
	for i := range 3 {
		_, err := s.Redeem(ctx, "t2", []byte("x"), 10, issue)
		if !errors.As(err, &w) || w.Left != 2-i {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := s.Redeem(ctx, "t2", []byte("right"), 10, issue); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dead: %v", err)
	}
	// A failing issue changes nothing.
	txn.ID = "t3"
	s.CreateTxn(ctx, txn, 0)
	boom := errors.New("boom")
	if _, err := s.Redeem(ctx, "t3", []byte("right"), 10, func(*store.Txn) (*store.Issued, error) { return nil, boom }); err != boom {
		t.Fatal(err)
	}
	if tx, _ := s.Txn(ctx, "t3"); tx.Consumed {
		t.Fatal("consumed after failed issue")
	}
}

func TestKeysAndSecret(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	ok, err := s.AddSigningKey(ctx, store.SigningKey{KID: "k1", PrivateJWK: []byte("{1}")})
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, _ := s.AddSigningKey(ctx, store.SigningKey{KID: "k2", PrivateJWK: []byte("{2}")}); ok {
		t.Fatal("second first key")
	}
	fi, err := os.Stat(filepath.Join(dir, "keys", "k1.jwk"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	err = s.RotateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) {
		ks[0].RetireAt = 50
		return append(ks, store.SigningKey{KID: "k3", PrivateJWK: []byte("{3}"), ActiveFrom: 50}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := s.Secret(ctx)
	s.Close()
	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ks, err := s.SigningKeys(ctx)
	if err != nil || len(ks) != 2 || ks[0].RetireAt != 50 || string(ks[1].PrivateJWK) != "{3}" {
		t.Fatalf("%+v %v", ks, err)
	}
	sec2, _ := s.Secret(ctx)
	if string(sec) != string(sec2) || len(sec) != 32 {
		t.Fatal("secret changed")
	}
	if err := s.DeleteSigningKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if ks, _ := s.SigningKeys(ctx); len(ks) != 1 {
		t.Fatal(ks)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestSweepChunks(t *testing.T) {
	defer func(n int) { sweepChunk = n }(sweepChunk)
	sweepChunk = 3
	s := open(t)
	issue := func(t *store.Txn) (*store.Issued, error) {
		return &store.Issued{Token: "tok", TokenExpires: 10_000, Consent: store.Consent{JTI: "j"}}, nil
	}
	for i := range 10 {
		txn := store.Txn{ID: fmt.Sprint("t", i), OTPDigest: []byte("d"), Expires: 100, MaxTries: 5}
		if err := s.CreateTxn(ctx, txn, 0, store.Limit{Key: fmt.Sprint("k", i), Max: 1, Window: 60}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Redeem(ctx, "t0", []byte("d"), 50, issue); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(ctx, 100+3600+1); err != nil { // the OTPs are dead; t0's token is not
		t.Fatal(err)
	}
	for i := range 10 {
		_, err := s.Txn(ctx, fmt.Sprint("t", i))
		if (i == 0) != (err == nil) {
			t.Fatalf("t%d: %v", i, err)
		}
	}
	if err := s.Sweep(ctx, 10_000+3600+1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Txn(ctx, "t0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("t0 after its token expired: %v", err)
	}
	// The rate counters are gone after a day: a new window starts.
	if err := s.Take(ctx, 200_000, store.Limit{Key: "k1", Max: 1, Window: 60}); err != nil {
		t.Fatal(err)
	}
}
