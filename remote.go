//go:build !kycvs_noremote

// The kycvs_noremote build tag leaves remote key sets, and with them
// net/http, out of the package: wasm/verifier (verifierjs's kycvs.wasm) is
// built with it (build.sh build_wasm), which halves the module (4.9 to
// 2.4 MB raw) and what V8 compiles and Go initialises at its start.

package kycvs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kycvs/kycvs/internal/logurl"
)

// The remote key set policy (SPEC.md, "Remote key sets"). The JavaScript
// package's createRemoteVerifier uses the same numbers.
const (
	// DefaultRefresh is how long a fetched key set is fresh when the
	// answer has no Cache-Control max-age.
	DefaultRefresh = 5 * time.Minute
	// MinRefresh and MaxRefresh bound the issuer's Cache-Control max-age.
	MinRefresh = time.Minute
	MaxRefresh = 24 * time.Hour
	// DefaultMaxAge is how long a key set may be used without a successful
	// fetch or revalidation; past it, verification fails closed with
	// CodeJWKSStale.
	DefaultMaxAge = 24 * time.Hour
	// DefaultKIDCooldown is the least time between two fetches made
	// because a token named a kid the set does not have.
	DefaultKIDCooldown = 30 * time.Second
	// DefaultFetchTimeout bounds one fetch.
	DefaultFetchTimeout = 5 * time.Second
	// FailedFetchBackoff is how long a failed fetch is remembered: no new
	// fetch starts meanwhile (except one for an unknown kid, which has its
	// own cooldown).
	FailedFetchBackoff = 5 * time.Second
)

// HTTPDoer sends an HTTP request; *http.Client is one.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// RemoteKeySet is an issuer's key set, fetched from its JWKS URL and kept
// fresh: it honours Cache-Control max-age (bounded by MinRefresh and
// MaxRefresh, DefaultRefresh without it), revalidates with ETag, refetches
// when a token names an unknown kid (at most once per cooldown), makes one
// fetch for any number of concurrent callers, keeps serving the last good
// set through failed refreshes and fails closed with CodeJWKSStale past its
// maximum age. Verify tokens with it through [NewRemoteVerifier]. It is
// safe for concurrent use.
type RemoteKeySet struct {
	url   string
	shown string // url for errors, which end up in logs (logurl: its query hidden)
	o     remoteOptions

	mu       sync.Mutex
	set      *KeySet
	etag     string
	checked  time.Time     // start of the last fetch that succeeded (200 or 304)
	fresh    time.Duration // freshness lifetime of the set, from Cache-Control
	failedAt time.Time     // of the last failed fetch
	failErr  error
	inflight *fetchCall // the fetch under way, which callers may share
	kidFetch time.Time  // start of the last fetch made for an unknown kid
	fetches  int64
}

// fetchCall is one fetch that several callers may wait for.
type fetchCall struct {
	done chan struct{}
	set  *KeySet
	err  error
}

type remoteOptions struct {
	client      HTTPDoer
	now         func() time.Time
	background  func(func())
	minRefresh  time.Duration
	maxRefresh  time.Duration
	maxAge      time.Duration
	kidCooldown time.Duration
	timeout     time.Duration
	isolated    bool
	plainHTTP   bool
	err         *Error
}

// A RemoteOption changes a RemoteKeySet's defaults.
type RemoteOption func(*remoteOptions)

// WithHTTPClient sets what sends the requests (default: an http.Client
// that follows no redirect and has no timeout of its own; each fetch has
// the fetch timeout). A client that follows redirects lets whoever
// answers the redirect choose the keys.
func WithHTTPClient(c HTTPDoer) RemoteOption {
	return func(o *remoteOptions) {
		if c == nil {
			o.err = errorf(CodeConfig, "HTTP client is nil")
			return
		}
		o.client = c
	}
}

// WithRemoteClock sets the clock used for ages and cooldowns (default
// time.Now).
func WithRemoteClock(now func() time.Time) RemoteOption {
	return func(o *remoteOptions) {
		if now == nil {
			o.err = errorf(CodeConfig, "clock is nil")
			return
		}
		o.now = now
	}
}

// WithBackground sets how a refresh that nobody waits for is run (default:
// go f()). An edge runtime passes its waitUntil, so that the refresh may
// outlive the request that started it.
func WithBackground(run func(f func())) RemoteOption {
	return func(o *remoteOptions) {
		if run == nil {
			o.err = errorf(CodeConfig, "background runner is nil")
			return
		}
		o.background = run
	}
}

// WithRefreshBounds sets the bounds of the issuer's Cache-Control max-age
// (default MinRefresh, MaxRefresh). Both must be positive and min ≤ max.
func WithRefreshBounds(min, max time.Duration) RemoteOption {
	return func(o *remoteOptions) {
		if min <= 0 || max < min {
			o.err = errorf(CodeConfig, "refresh bounds must be positive with min ≤ max")
			return
		}
		o.minRefresh, o.maxRefresh = min, max
	}
}

// WithMaxAge sets how long a key set may be used without a successful fetch
// (default DefaultMaxAge); past it, verification fails with CodeJWKSStale.
func WithMaxAge(d time.Duration) RemoteOption {
	return func(o *remoteOptions) {
		if d <= 0 {
			o.err = errorf(CodeConfig, "maximum age must be positive")
			return
		}
		o.maxAge = d
	}
}

// WithKIDCooldown sets the least time between fetches made for unknown kids
// (default DefaultKIDCooldown), so that tokens with made-up kids cannot turn
// the verifier into a load generator against the issuer.
func WithKIDCooldown(d time.Duration) RemoteOption {
	return func(o *remoteOptions) {
		if d <= 0 {
			o.err = errorf(CodeConfig, "kid cooldown must be positive")
			return
		}
		o.kidCooldown = d
	}
}

// WithFetchTimeout bounds one fetch (default DefaultFetchTimeout).
func WithFetchTimeout(d time.Duration) RemoteOption {
	return func(o *remoteOptions) {
		if d <= 0 {
			o.err = errorf(CodeConfig, "fetch timeout must be positive")
			return
		}
		o.timeout = d
	}
}

// WithIsolatedFetches makes every caller that needs a fetch do its own
// instead of waiting for one another caller started; the cooldown and the
// failed-fetch backoff still apply. Only runtimes that cancel a request
// waiting on another request's I/O need it (Cloudflare Workers / workerd,
// where the edge worker serves all requests from one Go instance).
func WithIsolatedFetches() RemoteOption {
	return func(o *remoteOptions) { o.isolated = true }
}

// WithInsecureHTTP allows a JWKS URL of plain http to a host other than
// loopback. Anyone on the path of such a fetch can replace the keys and so
// forge every token; use it only inside a network you trust.
func WithInsecureHTTP() RemoteOption {
	return func(o *remoteOptions) { o.plainHTTP = true }
}

// defaultHTTPClient is set where net/http's transport is wanted by default
// (remote_client.go); in GOOS=js builds it stays nil so that a program that
// brings its own client does not link the transport, and
// NewRemoteKeySet then requires WithHTTPClient.
var defaultHTTPClient HTTPDoer

// NewRemoteKeySet returns a RemoteKeySet for the https URL of an issuer's
// JWKS (its /.well-known/jwks.json); plain http only to a loopback host
// (localhost, *.localhost, 127.0.0.0/8, ::1) unless WithInsecureHTTP. Nothing is fetched
// until the first use. A bad URL or option is CodeConfig.
func NewRemoteKeySet(jwksURL string, opts ...RemoteOption) (*RemoteKeySet, error) {
	req, err := http.NewRequest(http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, errorf(CodeConfig, "the JWKS URL is not valid: "+err.Error())
	}
	if u := req.URL; (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, errorf(CodeConfig, "the JWKS URL must be an https URL without user info or fragment")
	}
	o := remoteOptions{
		client: defaultHTTPClient, now: time.Now, background: func(f func()) { go f() },
		minRefresh: MinRefresh, maxRefresh: MaxRefresh, maxAge: DefaultMaxAge,
		kidCooldown: DefaultKIDCooldown, timeout: DefaultFetchTimeout,
	}
	for _, opt := range opts {
		opt(&o)
		if o.err != nil {
			return nil, o.err
		}
	}
	if o.maxAge < o.minRefresh {
		return nil, errorf(CodeConfig, "the maximum age "+o.maxAge.String()+" is shorter than the least refresh interval "+o.minRefresh.String()+": the set would go stale before its first refresh")
	}
	if req.URL.Scheme == "http" && !o.plainHTTP && !loopback(req.URL.Hostname()) {
		return nil, errorf(CodeConfig, "the JWKS URL must be https (plain http only to loopback, or with WithInsecureHTTP)")
	}
	if o.client == nil {
		return nil, errorf(CodeConfig, "no HTTP client in this build: pass WithHTTPClient")
	}
	return &RemoteKeySet{url: jwksURL, shown: logurl.String(req.URL), o: o}, nil
}

func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// URL returns the JWKS URL.
func (r *RemoteKeySet) URL() string { return r.url }

// Fetches returns how many fetches the set has started (for metrics).
func (r *RemoteKeySet) Fetches() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

// KeySet returns the current key set. The first call fetches it; a set past
// its freshness lifetime is returned as is while a refresh runs in the
// background; a set past the maximum age (or none) must be fetched now, and
// when that fails the error is CodeJWKSStale.
func (r *RemoteKeySet) KeySet(ctx context.Context) (*KeySet, error) {
	now := r.o.now()
	r.mu.Lock()
	if r.set != nil {
		age := now.Sub(r.checked)
		if age <= r.o.maxAge {
			var c *fetchCall
			if age > r.fresh && r.inflight == nil && !r.backingOff(now) {
				c = r.startLocked()
			}
			set := r.set
			r.mu.Unlock()
			if c != nil { // outside the lock: a runner may call f at once
				r.o.background(func() { r.run(context.Background(), c, now) })
			}
			return set, nil
		}
	}
	// None yet, or too old: this caller needs the fetch's result.
	if r.backingOff(now) {
		err := r.failErr
		r.mu.Unlock()
		return nil, r.stale(err)
	}
	set, err := r.fetchNowLocked(ctx, now)
	if err != nil {
		return nil, r.stale(err)
	}
	return set, nil
}

// Cached returns the key set KeySet would return at once, without fetching
// and without starting a refresh: one younger than the maximum age that is
// within its freshness lifetime, or whose refresh is under way or backing
// off after a failure. Otherwise (no set yet, one past its maximum age, or
// a refresh due) it returns nil, and a caller that cannot wait for I/O
// leaves the request to one that can call KeySet. It never does I/O.
func (r *RemoteKeySet) Cached() *KeySet {
	now := r.o.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		return nil
	}
	age := now.Sub(r.checked)
	if age > r.o.maxAge || (age > r.fresh && r.inflight == nil && !r.backingOff(now)) {
		return nil
	}
	return r.set
}

// keySetForKID is called when a token's kid is not in have, the set a token was
// checked against. It returns a set to check the token again with, or nil
// when there is no newer set and no fetch is allowed now.
func (r *RemoteKeySet) keySetForKID(ctx context.Context, have *KeySet) *KeySet {
	now := r.o.now()
	r.mu.Lock()
	if r.set != nil && r.set != have {
		set := r.set // another caller installed a newer set meanwhile
		r.mu.Unlock()
		return set
	}
	if r.inflight == nil || r.o.isolated {
		if !r.kidFetch.IsZero() && now.Sub(r.kidFetch) < r.o.kidCooldown {
			r.mu.Unlock()
			return nil
		}
		r.kidFetch = now
	}
	set, err := r.fetchNowLocked(ctx, now)
	if err != nil || set == have {
		return nil
	}
	return set
}

// fetchNowLocked returns the result of a fetch: the one under way, unless
// fetches are isolated, or a new one. It is called with r.mu held and
// returns with it released.
func (r *RemoteKeySet) fetchNowLocked(ctx context.Context, now time.Time) (*KeySet, error) {
	c := r.inflight
	if c == nil || r.o.isolated {
		c = r.startLocked()
		r.mu.Unlock()
		// The fetch is for everyone waiting on it: a caller that gives up
		// (a client that disconnects) must not fail it for the others, nor
		// make the next 5 s fail fast. Only the fetch timeout ends it.
		go r.run(context.WithoutCancel(ctx), c, now)
	} else {
		r.mu.Unlock()
	}
	select {
	case <-c.done:
		return c.set, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *RemoteKeySet) backingOff(now time.Time) bool {
	return !r.failedAt.IsZero() && now.Sub(r.failedAt) < FailedFetchBackoff
}

// startLocked registers a new fetch; run performs it.
func (r *RemoteKeySet) startLocked() *fetchCall {
	c := &fetchCall{done: make(chan struct{})}
	r.fetches++
	if r.inflight == nil {
		r.inflight = c
	}
	return c
}

// run fetches, installs the result and releases the callers waiting on c.
// A failed fetch leaves the set in place.
func (r *RemoteKeySet) run(ctx context.Context, c *fetchCall, started time.Time) {
	r.mu.Lock()
	etag := r.etag
	if r.set == nil {
		etag = ""
	}
	r.mu.Unlock()

	set, newETag, fresh, err := r.get(ctx, etag)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == c {
		r.inflight = nil
	}
	defer close(c.done)
	if err != nil {
		r.failedAt, r.failErr = r.o.now(), err
		c.err = err
		return
	}
	r.failedAt, r.failErr = time.Time{}, nil
	if started.Before(r.checked) {
		c.set = r.set // a fetch that started later finished first: keep its set
		return
	}
	if set != nil { // 200
		r.set, r.etag = set, newETag
	}
	r.checked, r.fresh = started, fresh
	c.set = r.set
}

func (r *RemoteKeySet) stale(err error) error {
	r.mu.Lock()
	had := r.set != nil
	r.mu.Unlock()
	msg := "no key set from " + r.shown + " yet: " + err.Error()
	if had {
		msg = "the key set from " + r.shown + " is older than " + r.o.maxAge.String() + " and cannot be refreshed: " + err.Error()
	}
	return errorf(CodeJWKSStale, msg)
}

// get makes one request. For 304 Not Modified it returns a nil set and no
// error.
func (r *RemoteKeySet) get(ctx context.Context, etag string) (set *KeySet, newETag string, fresh time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, "", 0, err
	}
	req.Body = nil // a GET with a body is refused by the Fetch API (GOOS=js)
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := r.o.client.Do(req)
	if err != nil {
		// Not the *url.Error's text, which repeats the URL with its query.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, "", 0, errors.New("fetching the key set: " + err.Error())
	}
	defer resp.Body.Close()
	fresh = r.freshness(resp.Header)
	switch {
	case resp.StatusCode == http.StatusNotModified && etag != "":
		return nil, "", fresh, nil
	case resp.StatusCode != http.StatusOK:
		return nil, "", 0, errors.New("fetching the key set: HTTP " + strconv.Itoa(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxKeySetSize+1))
	if err != nil {
		return nil, "", 0, errors.New("fetching the key set: " + err.Error())
	}
	if len(body) > MaxKeySetSize {
		return nil, "", 0, errors.New("the key set is larger than " + strconv.Itoa(MaxKeySetSize) + " bytes")
	}
	set, err = ParseKeySet(body)
	if err != nil {
		return nil, "", 0, err
	}
	return set, resp.Header.Get("ETag"), fresh, nil
}

// freshness is the answer's Cache-Control max-age within the bounds, or
// DefaultRefresh (also within the bounds) without one. no-cache and
// no-store count as max-age=0, that is the lower bound.
func (r *RemoteKeySet) freshness(h http.Header) time.Duration {
	d, found := DefaultRefresh, false
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "max-age":
				if found {
					continue // the first max-age counts
				}
				n, err := strconv.ParseUint(strings.Trim(val, `"`), 10, 32)
				if err != nil {
					continue
				}
				d, found = time.Duration(n)*time.Second, true
			case "no-cache", "no-store":
				d, found = 0, true
			}
		}
	}
	return min(max(d, r.o.minRefresh), r.o.maxRefresh)
}

// RemoteVerifier verifies tokens against a [RemoteKeySet]: [Verifier]'s
// checks, with the key set the RemoteKeySet holds at the time. A token whose
// kid is unknown makes it refetch the set (at most once per cooldown) and
// check the token again, which is how a key rotation is picked up at once.
// It is safe for concurrent use.
type RemoteVerifier struct {
	keys             *RemoteKeySet
	issuer, audience string
	opts             []Option

	mu  sync.Mutex
	set *KeySet // the set v was built for
	v   *Verifier
}

// NewRemoteVerifier returns a RemoteVerifier for tokens of issuer addressed
// to audience, signed by a key of keys. Issuer, audience and opts are
// checked now, as NewVerifier checks them (CodeConfig); nothing is fetched
// until the first Verify.
func NewRemoteVerifier(keys *RemoteKeySet, issuer, audience string, opts ...Option) (*RemoteVerifier, error) {
	if keys == nil {
		return nil, errorf(CodeConfig, "no remote key set")
	}
	// What NewVerifier checks besides the keys, now rather than at the
	// first Verify (where it would fail every token as if it were bad).
	if _, err := verifierOptions(issuer, audience, opts); err != nil {
		return nil, err
	}
	return &RemoteVerifier{keys: keys, issuer: issuer, audience: audience, opts: append([]Option(nil), opts...)}, nil
}

// Verify checks token as [Verifier.Verify] does, against the current key
// set; ctx bounds a fetch the call has to wait for. Besides the
// verification codes, it fails with CodeJWKSStale when no key set younger
// than the maximum age can be had.
func (rv *RemoteVerifier) Verify(ctx context.Context, token, nonce string) (*Token, error) {
	set, err := rv.keys.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	v, err := rv.verifierFor(set)
	if err != nil {
		return nil, err
	}
	tok, err := v.Verify(token, nonce)
	if CodeOf(err) != CodeKIDUnknown {
		return tok, err
	}
	// The kid is unknown: perhaps the issuer rotated its keys.
	newer := rv.keys.keySetForKID(ctx, set)
	if newer == nil {
		return nil, err
	}
	if v, err = rv.verifierFor(newer); err != nil {
		return nil, err
	}
	return v.Verify(token, nonce)
}

// verifierFor returns the Verifier for set, building it once per set.
func (rv *RemoteVerifier) verifierFor(set *KeySet) (*Verifier, error) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.set == set {
		return rv.v, nil
	}
	v, err := NewVerifier(set, rv.issuer, rv.audience, rv.opts...)
	if err != nil {
		return nil, err
	}
	rv.set, rv.v = set, v
	return v, nil
}
