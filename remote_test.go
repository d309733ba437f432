package kycvs_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// jwksServer is an issuer's JWKS endpoint on loopback whose document,
// Cache-Control and availability the test changes, counting requests and
// revalidations.
type jwksServer struct {
	*httptest.Server
	mu           sync.Mutex
	doc          []byte
	etag         string
	cacheControl string
	status       int           // 0: normal
	hold         chan struct{} // when set, requests wait for it to close
	hits, revals atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...*kycvs.Signer) *jwksServer {
	s := &jwksServer{}
	s.set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		doc, etag, cc, st, hold := s.doc, s.etag, s.cacheControl, s.status, s.hold
		s.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if st != 0 {
			w.WriteHeader(st)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			s.revals.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, keys ...*kycvs.Signer) {
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.PublicKey())
	}
	doc, err := kycvs.PublicJWKS(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.doc, s.etag = doc, fmt.Sprintf(`"v%d"`, len(doc)+int(doc[len(doc)/2]))
	s.mu.Unlock()
}

func (s *jwksServer) with(f func(s *jwksServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// fakeClock and a background queue make the schedule observable.
type sched struct {
	now time.Time
	mu  sync.Mutex
	bg  []func()
}

func (c *sched) clock() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *sched) step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
func (c *sched) queue(f func()) { c.mu.Lock(); c.bg = append(c.bg, f); c.mu.Unlock() }
func (c *sched) run() int {
	c.mu.Lock()
	q := c.bg
	c.bg = nil
	c.mu.Unlock()
	for _, f := range q {
		f()
	}
	return len(q)
}

func newRemote(t *testing.T, url string, c *sched, opts ...kycvs.RemoteOption) *kycvs.RemoteKeySet {
	t.Helper()
	r, err := kycvs.NewRemoteKeySet(url, append([]kycvs.RemoteOption{
		kycvs.WithRemoteClock(c.clock), kycvs.WithBackground(c.queue)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRemoteKeySetPolicy walks the policy of SPEC.md "Remote key sets" with
// a fake clock against a real HTTP server.
func TestRemoteKeySetPolicy(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	srv := newJWKSServer(t, a)
	srv.cacheControl = "public, max-age=120"
	c := &sched{now: time.Unix(1_800_000_000, 0)}
	r := newRemote(t, srv.URL, c)
	ctx := context.Background()
	get := func() (*kycvs.KeySet, error) { return r.KeySet(ctx) }

	set, err := get()
	if err != nil || srv.hits.Load() != 1 {
		t.Fatalf("first use: %v, %d fetches", err, srv.hits.Load())
	}
	c.step(119 * time.Second)
	if s2, _ := get(); s2 != set || c.run() != 0 {
		t.Fatal("within max-age: a refresh was started")
	}
	c.step(2 * time.Second)
	get()
	get() // one refresh at a time
	if n := c.run(); n != 1 {
		t.Fatalf("past max-age: %d refreshes queued, want 1", n)
	}
	if srv.hits.Load() != 2 || srv.revals.Load() != 1 {
		t.Fatalf("refresh: %d fetches, %d revalidations (want an If-None-Match → 304)", srv.hits.Load(), srv.revals.Load())
	}
	if s2, _ := get(); s2 != set {
		t.Fatal("304 replaced the set")
	}
	c.step(119 * time.Second) // the 304 made the set fresh again
	if get(); c.run() != 0 {
		t.Fatal("a 304 did not refresh the set's age")
	}

	// max-age is clamped to [1 min, 24 h]; without one the set is fresh 5 min.
	for _, cc := range []struct {
		header string
		fresh  time.Duration
	}{{"max-age=1", time.Minute}, {"no-store", time.Minute}, {"max-age=999999", 24 * time.Hour}, {"", 5 * time.Minute}, {"max-age=abc", 5 * time.Minute}} {
		srv.with(func(s *jwksServer) { s.cacheControl = cc.header })
		c.step(25 * time.Hour)
		if _, err := get(); err != nil { // past the max age: fetched now
			t.Fatal(err)
		}
		c.step(cc.fresh - time.Second)
		if get(); c.run() != 0 {
			t.Errorf("Cache-Control %q: refreshed before %v", cc.header, cc.fresh)
		}
		c.step(2 * time.Second)
		n := srv.hits.Load()
		get()
		c.run()
		if srv.hits.Load() != n+1 { // in the background, or now once past the max age
			t.Errorf("Cache-Control %q: not refreshed after %v", cc.header, cc.fresh)
		}
	}

	// A failed refresh keeps the last good set until the maximum age, then
	// the set fails closed; failed fetches are not retried for 5 s.
	srv.with(func(s *jwksServer) { s.cacheControl = "max-age=60"; s.status = 500 })
	c.step(25 * time.Hour)
	if _, err := get(); kycvs.CodeOf(err) != kycvs.CodeJWKSStale {
		t.Fatalf("past the max age, issuer failing: %v", err)
	}
	n := srv.hits.Load()
	if _, err := get(); kycvs.CodeOf(err) != kycvs.CodeJWKSStale || srv.hits.Load() != n {
		t.Fatalf("within the backoff: %v, %d new fetches", err, srv.hits.Load()-n)
	}
	srv.with(func(s *jwksServer) { s.status = 0 })
	c.step(kycvs.FailedFetchBackoff)
	if _, err := get(); err != nil {
		t.Fatalf("issuer back: %v", err)
	}
	srv.with(func(s *jwksServer) { s.status = 503 })
	c.step(61 * time.Second)
	if _, err := get(); err != nil || c.run() != 1 {
		t.Fatalf("stale but within the max age: %v", err)
	}
	c.step(23 * time.Hour)
	if _, err := get(); err != nil || c.run() != 1 {
		t.Fatalf("a failed refresh lost the set: %v", err)
	}
	c.step(time.Hour)
	if _, err := get(); kycvs.CodeOf(err) != kycvs.CodeJWKSStale {
		t.Fatalf("past 24 h without a good fetch: %v", err)
	}
}

// TestRemoteVerifierRotation: an unknown kid refetches at once, at most once
// per cooldown.
func TestRemoteVerifierRotation(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	b, _ := kycvs.GenerateSigner()
	x, _ := kycvs.GenerateSigner()
	srv := newJWKSServer(t, a)
	c := &sched{now: time.Now()}
	r := newRemote(t, srv.URL, c)
	v, err := kycvs.NewRemoteVerifier(r, "https://iss", "aud", kycvs.WithClock(c.clock))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s *kycvs.Signer) string {
		now := c.clock().Unix()
		tok, err := s.Sign(&kycvs.Claims{Issuer: "https://iss", Subject: "s", Audience: "aud", IssuedAt: now, Expires: now + 300,
			ID: kycvs.NewTokenID(), Nonce: "nonce-123456", Status: 2})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(a), "nonce-123456"); err != nil {
		t.Fatal(err)
	}
	srv.set(t, a, b)
	if _, err := v.Verify(ctx, sign(b), "nonce-123456"); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("rotated key: %v after %d fetches", err, srv.hits.Load())
	}
	if _, err := v.Verify(ctx, sign(x), "nonce-123456"); kycvs.CodeOf(err) != kycvs.CodeKIDUnknown || srv.hits.Load() != 2 {
		t.Fatalf("unknown kid within the cooldown: %v after %d fetches (want no fetch)", err, srv.hits.Load())
	}
	c.step(kycvs.DefaultKIDCooldown)
	if _, err := v.Verify(ctx, sign(x), "nonce-123456"); kycvs.CodeOf(err) != kycvs.CodeKIDUnknown || srv.hits.Load() != 3 {
		t.Fatalf("unknown kid after the cooldown: %v after %d fetches (want one more)", err, srv.hits.Load())
	}
	if _, err := v.Verify(ctx, sign(a), ""); kycvs.CodeOf(err) != kycvs.CodeConfig {
		t.Fatalf("empty nonce: %v", err)
	}
}

// TestRemoteKeySetCoalesces: concurrent callers share one fetch, unless
// fetches are isolated.
func TestRemoteKeySetCoalesces(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	for _, isolated := range []bool{false, true} {
		srv := newJWKSServer(t, a)
		hold := make(chan struct{})
		srv.with(func(s *jwksServer) { s.hold = hold })
		var opts []kycvs.RemoteOption
		if isolated {
			opts = append(opts, kycvs.WithIsolatedFetches())
		}
		r := newRemote(t, srv.URL, &sched{now: time.Now()}, opts...)
		const n = 20
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range n {
			wg.Go(func() {
				if _, err := r.KeySet(context.Background()); err != nil {
					failed.Add(1)
				}
			})
		}
		want := int64(1)
		if isolated {
			want = n
		}
		// Release the server once every fetch that will be made has arrived
		// (with isolation, all n; shared, the one, plus any stragglers
		// that would show as a second fetch).
		for srv.hits.Load() < want {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		close(hold)
		wg.Wait()
		if got := srv.hits.Load(); got != want || failed.Load() != 0 {
			t.Errorf("isolated %v: %d callers made %d fetches (%d failed), want %d", isolated, n, got, failed.Load(), want)
		}
		if r.Fetches() != want {
			t.Errorf("Fetches() = %d, want %d", r.Fetches(), want)
		}
	}
}

// TestRemoteKeySetLimits: a hanging issuer times out, an oversized or
// invalid document is refused, and bad settings are ERR_CONFIG.
// TestRemoteKeySetErrorHidesQuery: a JWKS URL's query (where an issuer may
// want a key) is not in the errors, which servers log.
func TestRemoteKeySetErrorHidesQuery(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r := newRemote(t, dead.URL+"/jwks.json?sig=s3cret", &sched{now: time.Now()})
	_, err := r.KeySet(context.Background())
	if kycvs.CodeOf(err) != kycvs.CodeJWKSStale || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), dead.URL+"/jwks.json?…") {
		t.Errorf("got %v", err)
	}
}

func TestRemoteKeySetLimits(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	r := newRemote(t, slow.URL, &sched{now: time.Now()}, kycvs.WithFetchTimeout(50*time.Millisecond))
	if _, err := r.KeySet(context.Background()); kycvs.CodeOf(err) != kycvs.CodeJWKSStale || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("hanging issuer: %v", err)
	}
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[` + strings.Repeat(" ", kycvs.MaxKeySetSize) + `]}`))
	}))
	defer big.Close()
	if _, err := newRemote(t, big.URL, &sched{now: time.Now()}).KeySet(context.Background()); kycvs.CodeOf(err) != kycvs.CodeJWKSStale || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized: %v", err)
	}
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) }))
	defer junk.Close()
	if _, err := newRemote(t, junk.URL, &sched{now: time.Now()}).KeySet(context.Background()); kycvs.CodeOf(err) != kycvs.CodeJWKSStale || !strings.Contains(err.Error(), "ERR_JWKS") {
		t.Errorf("no usable key: %v", err)
	}
	for name, opts := range map[string][]kycvs.RemoteOption{
		"nil client": {kycvs.WithHTTPClient(nil)}, "nil clock": {kycvs.WithRemoteClock(nil)},
		"bounds": {kycvs.WithRefreshBounds(time.Hour, time.Minute)}, "max age": {kycvs.WithMaxAge(0)},
		"cooldown": {kycvs.WithKIDCooldown(-1)}, "max age below the refresh bound": {kycvs.WithMaxAge(30 * time.Second)}, "timeout": {kycvs.WithFetchTimeout(0)}, "background": {kycvs.WithBackground(nil)},
	} {
		if _, err := kycvs.NewRemoteKeySet("https://issuer.example/jwks", opts...); kycvs.CodeOf(err) != kycvs.CodeConfig {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, u := range []string{"", "file:///etc/passwd", "issuer.example/jwks", "https://[::1", "http://issuer.example/jwks",
		"http://10.0.0.1/jwks", "https://user:pw@issuer.example/jwks", "https:///jwks"} {
		if _, err := kycvs.NewRemoteKeySet(u); kycvs.CodeOf(err) != kycvs.CodeConfig {
			t.Errorf("URL %q: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]/jwks"} {
		if _, err := kycvs.NewRemoteKeySet(u); err != nil {
			t.Errorf("loopback %s: %v", u, err)
		}
	}
	if _, err := kycvs.NewRemoteKeySet("http://issuer.internal/jwks", kycvs.WithInsecureHTTP()); err != nil {
		t.Errorf("plain http by name: %v", err)
	}
	r, _ = kycvs.NewRemoteKeySet("https://issuer.example/jwks")
	if _, err := kycvs.NewRemoteVerifier(r, "", "aud"); kycvs.CodeOf(err) != kycvs.CodeConfig {
		t.Errorf("no issuer: %v", err)
	}
	if _, err := kycvs.NewRemoteVerifier(r, "iss", "aud", kycvs.WithLeeway(-1)); kycvs.CodeOf(err) != kycvs.CodeConfig {
		t.Errorf("bad option: %v", err)
	}
	// What NewVerifier refuses, refused at once here too, not at every
	// token as though the token were bad.
	signer, _ := kycvs.GenerateSigner()
	doc, _ := kycvs.PublicJWKS(signer.PublicKey())
	pinned, err := kycvs.ParseKeySet(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{strings.Repeat("i", kycvs.MaxTokenSize+1), "aud"}, {"iss", "a\xffud"}, {"", ""}} {
		_, errRemote := kycvs.NewRemoteVerifier(r, c[0], c[1])
		_, errPinned := kycvs.NewVerifier(pinned, c[0], c[1])
		if kycvs.CodeOf(errRemote) != kycvs.CodeConfig || errRemote.Error() != errPinned.Error() {
			t.Errorf("issuer %.10q audience %q: remote %v, pinned %v", c[0], c[1], errRemote, errPinned)
		}
	}
}

// TestRemoteKeySetCallerGivesUp: a caller whose context ends while its
// fetch is under way gets an error, but the fetch goes on for the others
// and is not counted as a failure.
func TestRemoteKeySetCallerGivesUp(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	srv := newJWKSServer(t, a)
	hold := make(chan struct{})
	srv.with(func(s *jwksServer) { s.hold = hold })
	r := newRemote(t, srv.URL, &sched{now: time.Now()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := r.KeySet(ctx); done <- err }()
	for srv.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; kycvs.CodeOf(err) != kycvs.CodeJWKSStale {
		t.Fatalf("the caller that gave up: %v", err)
	}
	close(hold)
	if _, err := r.KeySet(context.Background()); err != nil || srv.hits.Load() != 1 {
		t.Fatalf("after the fetch finished for nobody: %v, %d fetches (want the one, not failed)", err, srv.hits.Load())
	}
}

// TestRemoteKeySetInlineBackground: a background runner that runs the
// refresh at once, in the caller, works (no lock is held while it runs).
func TestRemoteKeySetInlineBackground(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	srv := newJWKSServer(t, a)
	c := &sched{now: time.Now()}
	r, err := kycvs.NewRemoteKeySet(srv.URL, kycvs.WithRemoteClock(c.clock), kycvs.WithBackground(func(f func()) { f() }))
	if err != nil {
		t.Fatal(err)
	}
	r.KeySet(context.Background())
	c.step(kycvs.DefaultRefresh + time.Second)
	done := make(chan struct{})
	go func() { r.KeySet(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a guard against a deadlock, not a measurement
		t.Fatal("KeySet with an inline background runner did not return")
	}
	if srv.hits.Load() != 2 {
		t.Errorf("%d fetches, want 2", srv.hits.Load())
	}
}

// TestRemoteKeySetCached: Cached answers what KeySet would return without
// fetching or starting a refresh, and never does I/O itself.
func TestRemoteKeySetCached(t *testing.T) {
	a, _ := kycvs.GenerateSigner()
	srv := newJWKSServer(t, a)
	srv.cacheControl = "max-age=120"
	c := &sched{now: time.Unix(1_800_000_000, 0)}
	r := newRemote(t, srv.URL, c)
	ctx := context.Background()
	check := func(step string, want *kycvs.KeySet) {
		t.Helper()
		hits, queued := srv.hits.Load(), len(c.bg)
		if got := r.Cached(); got != want {
			t.Errorf("%s: Cached %p, want %p", step, got, want)
		}
		if srv.hits.Load() != hits || len(c.bg) != queued {
			t.Errorf("%s: Cached fetched or queued a refresh", step)
		}
	}
	check("none yet", nil)
	set, err := r.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("fresh", set)
	c.step(119 * time.Second)
	check("still fresh", set)
	c.step(2 * time.Second)
	check("refresh due", nil)
	r.KeySet(ctx) // queues the refresh
	check("refresh under way", set)
	c.run()
	check("revalidated (304)", set)

	srv.with(func(s *jwksServer) { s.status = 503 })
	c.step(121 * time.Second)
	r.KeySet(ctx)
	c.run() // fails: backing off
	check("refresh failed, backing off", set)
	c.step(kycvs.FailedFetchBackoff)
	check("backoff over, refresh due", nil)
	c.step(kycvs.DefaultMaxAge)
	check("past the maximum age", nil)

	// Past the maximum age while backing off (a refresh failed just
	// before it): KeySet fails closed, so Cached has nothing either.
	srv.with(func(s *jwksServer) { s.status = 0 })
	r = newRemote(t, srv.URL, c, kycvs.WithMaxAge(150*time.Second))
	if set, err = r.KeySet(ctx); err != nil {
		t.Fatal(err)
	}
	c.step(148 * time.Second)
	srv.with(func(s *jwksServer) { s.status = 503 })
	r.KeySet(ctx)
	c.run() // fails: backing off for 5 s
	check("refresh failed just before the maximum age", set)
	c.step(3 * time.Second)
	check("past the maximum age, backing off", nil)
	if _, err := r.KeySet(ctx); kycvs.CodeOf(err) != kycvs.CodeJWKSStale {
		t.Errorf("KeySet past the maximum age, backing off: %v", err)
	}
}
