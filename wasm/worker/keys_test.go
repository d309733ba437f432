//go:build !js

package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// TestRemoteKeysSchedule drives the key-set cache with a fake clock and a
// fake fetch: when it fetches in the request, when in the background, how
// often while the issuer is down, and when it fails closed.
func TestRemoteKeysSchedule(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	doc, _ := kycvs.PublicJWKS(a.PublicKey())
	now := time.Unix(1_800_000_000, 0)
	up, fetches := true, 0
	k := &remoteKeys{
		url: "https://issuer.test/jwks", now: func() time.Time { return now },
		refresh: time.Minute, maxStale: 10 * time.Minute,
		build: func(ks *kycvs.KeySet) (*kycvs.Verifier, error) {
			return kycvs.NewVerifier(ks, "iss", "aud", kycvs.WithoutNonce())
		},
		do: func(*http.Request) (*http.Response, error) {
			fetches++
			if !up {
				return nil, errors.New("connection refused")
			}
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(doc)))}, nil
		},
	}
	var queued []func()
	bg := func(f func()) { queued = append(queued, f) }
	runBG := func() {
		for _, f := range queued {
			f()
		}
		queued = nil
	}
	get := func() error { _, err := k.verifier(context.Background(), bg); return err }
	step := func(d time.Duration) { now = now.Add(d) }

	if err := get(); err != nil || fetches != 1 || len(queued) != 0 {
		t.Fatalf("first use: err %v, %d fetches, %d queued", err, fetches, len(queued))
	}
	step(30 * time.Second)
	if get(); fetches != 1 || len(queued) != 0 {
		t.Fatalf("fresh: %d fetches, %d queued", fetches, len(queued))
	}
	step(31 * time.Second)
	get()
	get() // only one background refresh at a time
	if len(queued) != 1 {
		t.Fatalf("due: %d background refreshes queued, want 1", len(queued))
	}
	runBG()
	if fetches != 2 {
		t.Fatalf("after the refresh: %d fetches", fetches)
	}

	up = false // the issuer goes away
	step(61 * time.Second)
	get()
	runBG() // fails
	if fetches != 3 {
		t.Fatalf("%d fetches", fetches)
	}
	step(time.Second)
	if err := get(); err != nil || len(queued) != 0 {
		t.Fatalf("within the backoff: err %v, %d queued", err, len(queued))
	}
	step(failedFetchBackoff)
	get()
	if len(queued) != 1 {
		t.Fatalf("after the backoff: %d queued, want a new background try", len(queued))
	}
	runBG()
	step(10 * time.Minute) // past the hard limit since the last success
	err := get()
	if kycvs.CodeOf(err) != kycvs.CodeJWKSStale {
		t.Fatalf("stale: got %v", err)
	}
	n := fetches
	if err := get(); kycvs.CodeOf(err) != kycvs.CodeJWKSStale || fetches != n {
		t.Fatalf("stale within the backoff: %v, %d fetches (want no new one)", err, fetches-n)
	}
	up = true
	step(failedFetchBackoff)
	if err := get(); err != nil {
		t.Fatalf("issuer back: %v", err)
	}

	// unknown kid: one refresh a minute; a newer set installed meanwhile is used at once
	v, _ := k.verifier(context.Background(), bg)
	if k.refreshForKID(context.Background(), v) == nil {
		t.Fatal("first unknown kid: no refresh")
	}
	v2, _ := k.verifier(context.Background(), bg)
	if k.refreshForKID(context.Background(), v2) != nil {
		t.Fatal("second unknown kid within the minute refreshed")
	}
	if k.refreshForKID(context.Background(), v) != v2 {
		t.Fatal("a request holding an older set was not given the newer one")
	}
	step(time.Minute)
	if k.refreshForKID(context.Background(), v2) == nil {
		t.Fatal("unknown kid a minute later: no refresh")
	}
}
