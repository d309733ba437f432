package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/kycvs/kycvs"
)

// kidRefreshInterval bounds refreshes triggered by tokens with an unknown
// kid: at most one a minute, so that a flood of forged kids cannot turn the
// worker into a load generator against the issuer.
const kidRefreshInterval = time.Minute

// failedFetchBackoff is how long a failed fetch is remembered: no new
// background refresh starts meanwhile, and requests that need a fetch (the
// set is past its staleness limit or was never fetched) fail fast instead
// of each waiting for the same dead server.
const failedFetchBackoff = 5 * time.Second

// maxJWKSSize caps the fetched document.
const maxJWKSSize = 1 << 20

// keySource hands out the verifier to use for one request.
type keySource interface {
	// verifier returns the current verifier, fetching or scheduling a
	// refresh as needed; bg runs work that may outlive the request.
	verifier(ctx context.Context, bg func(func())) (*kycvs.Verifier, error)
	// refreshForKID is called when a token's kid is unknown to used; it
	// returns a newer verifier to retry with, or nil when there is none and
	// no refresh is allowed now.
	refreshForKID(ctx context.Context, used *kycvs.Verifier) *kycvs.Verifier
}

// pinnedKeys is a key set fixed in the configuration.
type pinnedKeys struct{ v *kycvs.Verifier }

func (p pinnedKeys) verifier(context.Context, func(func())) (*kycvs.Verifier, error) {
	return p.v, nil
}
func (p pinnedKeys) refreshForKID(context.Context, *kycvs.Verifier) *kycvs.Verifier { return nil }

// remoteKeys is a key set fetched from KYCVS_JWKS_URL and cached.
//
// No request ever waits for a fetch that another request started: in
// workerd all requests share one Go instance, and a request whose only
// pending work is another request's I/O is cancelled by the runtime as hung.
// So a fetch made for a request (first use, past the staleness limit, an
// unknown kid) is that request's own, and the periodic refresh runs under
// the triggering request's waitUntil with nobody waiting for it. The
// mutex is never held across I/O.
type remoteKeys struct {
	url      string
	do       func(*http.Request) (*http.Response, error)
	now      func() time.Time
	build    func(*kycvs.KeySet) (*kycvs.Verifier, error)
	refresh  time.Duration
	maxStale time.Duration

	mu             sync.Mutex
	v              *kycvs.Verifier
	fetched        time.Time // of the last successful fetch
	failedAt       time.Time // of the last failed fetch
	failErr        error
	refreshing     bool // a background refresh is under way
	lastKIDRefresh time.Time
}

func (k *remoteKeys) verifier(ctx context.Context, bg func(func())) (*kycvs.Verifier, error) {
	now := k.now()
	k.mu.Lock()
	v, age := k.v, now.Sub(k.fetched)
	if v != nil && age <= k.maxStale {
		if age > k.refresh && !k.refreshing && now.Sub(k.failedAt) >= failedFetchBackoff {
			k.refreshing = true
			bg(func() {
				k.fetch(context.Background())
				k.mu.Lock()
				k.refreshing = false
				k.mu.Unlock()
			})
		}
		k.mu.Unlock()
		return v, nil
	}
	// Never fetched, or past the hard staleness limit: fetch now, in the
	// request, and fail closed if that does not work.
	if !k.failedAt.IsZero() && now.Sub(k.failedAt) < failedFetchBackoff {
		err := k.failErr
		k.mu.Unlock()
		return nil, k.stale(v, err)
	}
	k.mu.Unlock()
	v, err := k.fetch(ctx)
	if err != nil {
		k.mu.Lock()
		old := k.v
		k.mu.Unlock()
		return nil, k.stale(old, err)
	}
	return v, nil
}

func (k *remoteKeys) stale(old *kycvs.Verifier, err error) error {
	if old == nil {
		return &kycvs.Error{Code: kycvs.CodeJWKSStale, Message: "no key set yet: " + err.Error()}
	}
	return &kycvs.Error{Code: kycvs.CodeJWKSStale, Message: fmt.Sprintf("the key set is older than the staleness limit %v: %v", k.maxStale, err)}
}

func (k *remoteKeys) refreshForKID(ctx context.Context, used *kycvs.Verifier) *kycvs.Verifier {
	now := k.now()
	k.mu.Lock()
	if k.v != used && k.v != nil {
		// Another request installed a newer set meanwhile: retry with it.
		v := k.v
		k.mu.Unlock()
		return v
	}
	if !k.lastKIDRefresh.IsZero() && now.Sub(k.lastKIDRefresh) < kidRefreshInterval {
		k.mu.Unlock()
		return nil
	}
	k.lastKIDRefresh = now
	k.mu.Unlock()
	v, err := k.fetch(ctx)
	if err != nil {
		return nil
	}
	return v
}

// fetch gets the key set and installs it. A failed fetch leaves the cached
// key set in place.
func (k *remoteKeys) fetch(ctx context.Context) (*kycvs.Verifier, error) {
	started := k.now()
	v, err := k.get(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.failedAt, k.failErr = k.now(), err
		return nil, err
	}
	if started.Before(k.fetched) {
		// A fetch that started later finished first: keep its set.
		return k.v, nil
	}
	k.v, k.fetched, k.failedAt, k.failErr = v, started, time.Time{}, nil
	return v, nil
}

func (k *remoteKeys) get(ctx context.Context) (*kycvs.Verifier, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Body = nil // a GET with a body is refused by the Fetch API
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", k.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSSize))
		return nil, fmt.Errorf("fetching %s: HTTP %d", k.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", k.url, err)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("fetching %s: larger than %d bytes", k.url, maxJWKSSize)
	}
	ks, err := kycvs.ParseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", k.url, err)
	}
	return k.build(ks)
}
