package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// Platform is what the handler needs from where it runs: workerd (main_js.go)
// or a plain net/http server (main.go).
type Platform struct {
	Getenv func(string) string
	// Do makes the outgoing requests (origin and JWKS). It must not follow
	// redirects: the origin's redirects go back to the caller. (A function,
	// not an *http.Client: in the wasm build http.Client would link the
	// whole net/http transport, about 1.2 MB of compressed upload.)
	Do func(*http.Request) (*http.Response, error)
	// Background runs f, possibly after the response was sent (workerd's
	// ctx.waitUntil). It is called before the handler's first await.
	Background func(f func())
	Now        func() time.Time
	// Isolated: no request may wait for a fetch another request started
	// (workerd cancels such a request as hung; README, "One Go instance").
	Isolated bool
	// Logf writes a line to the operator's log (log.Printf when nil). The
	// handler never gives it a token or a request's path or query.
	Logf func(format string, args ...any)
}

// InstanceHeader carries the id of the Go instance that answered, when
// KYCVS_DEBUG_INSTANCE=1.
const InstanceHeader = "KYCVS-Debug-Instance"

// instanceID is this Go instance's id, made at its first use.
var instanceID = sync.OnceValue(func() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
})

// Handler is the worker: package gate in front of a proxy to the origin.
// The configuration is read at the first request (in workerd the
// environment is only known then) and kept; a bad configuration fails
// every request with 500 ERR_CONFIG, never open.
type Handler struct {
	p    Platform
	once sync.Once
	h    http.Handler
	err  error
	// gc is the gate's configuration (gc.Remote: the fetched key set of
	// KYCVS_JWKS_URL, nil when the set is pinned).
	gc    gate.Config
	cfg   *Config
	gate  *gate.Gate // the full path's
	proxy *proxy
	debug bool

	// noToken is the fast path's answer to a request without credentials
	// that the gate does not exempt, once made: the same for every such
	// request (Decide), and set once (the shim keeps what it made of it).
	noToken atomic.Pointer[FastAnswer]

	// The fast path's gate for a fetched set (pinnedGate): pinned to the
	// set the RemoteKeySet holds, sharing the replay store.
	fastMu   sync.Mutex
	fastSet  *kycvs.KeySet
	fastGate *gate.Gate
}

// NewHandler returns the worker's handler.
func NewHandler(p Platform) *Handler {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Background == nil {
		p.Background = func(f func()) { go f() }
	}
	if p.Logf == nil {
		p.Logf = log.Printf
	}
	return &Handler{p: p}
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// gateConfig reads the configuration into the gate's.
func gateConfig(p Platform) (gate.Config, *Config, error) {
	cfg, err := LoadConfig(p.Getenv)
	if err != nil {
		return gate.Config{}, nil, err
	}
	gc := gate.Config{
		Issuer: cfg.Issuer, Audience: cfg.Audience,
		MinStatus: cfg.MinStatus, AdmitAnyStatus: cfg.MinStatus == kycvs.NotVaccinated, // KYCVS_MIN_STATUS=0, by name
		Leeway: cfg.Leeway, Clock: p.Now, KeepToken: cfg.KeepToken, Bypass: cfg.Bypass,
		AllowReplay: cfg.AllowReplay, Logf: p.Logf,
	}
	if !cfg.AllowReplay {
		// Once per isolate, whichever path admits the token: the full
		// path's gate and the fast path's share this store.
		gc.Replay = gate.NewMemoryReplay(gate.DefaultReplayEntries, p.Now)
	}
	if cfg.JWKS != nil {
		if gc.Keys, err = kycvs.ParseKeySet(cfg.JWKS); err != nil {
			return gc, nil, &kycvs.Error{Code: kycvs.CodeConfig, Message: "KYCVS_JWKS: " + err.Error()}
		}
	} else {
		opts := []kycvs.RemoteOption{
			kycvs.WithHTTPClient(doFunc(p.Do)), kycvs.WithRemoteClock(p.Now), kycvs.WithBackground(p.Background),
			kycvs.WithRefreshBounds(cfg.JWKSMinRefresh, kycvs.MaxRefresh), kycvs.WithMaxAge(cfg.JWKSMaxAge),
		}
		if p.Isolated {
			opts = append(opts, kycvs.WithIsolatedFetches())
		}
		if gc.Remote, err = kycvs.NewRemoteKeySet(cfg.JWKSURL, opts...); err != nil {
			return gc, nil, &kycvs.Error{Code: kycvs.CodeConfig, Message: "KYCVS_JWKS_URL: " + err.(*kycvs.Error).Message}
		}
	}
	return gc, cfg, nil
}

// chain is the gate of gc in front of the proxy, with the debug header.
func (h *Handler) chain(gc gate.Config) (http.Handler, *gate.Gate, error) {
	g, err := gate.New(gc)
	if err != nil {
		return nil, nil, &kycvs.Error{Code: kycvs.CodeConfig, Message: err.Error()}
	}
	next := g.Middleware(h.proxy)
	if !h.cfg.DebugInstance {
		return next, g, nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(InstanceHeader, instanceID())
		next.ServeHTTP(w, r)
	}), g, nil
}

// load reads the configuration at the first request.
func (h *Handler) load() {
	h.once.Do(func() {
		h.gc, h.cfg, h.err = gateConfig(h.p)
		if h.err == nil {
			h.proxy = &proxy{origin: h.cfg.Origin, do: h.p.Do, logf: h.p.Logf}
			h.h, h.gate, h.err = h.chain(h.gc)
			h.debug = h.cfg.DebugInstance
		}
		if h.err != nil {
			h.p.Logf("kycvs worker: bad configuration: %v", h.err)
		}
	})
}

// pinnedGate is the fast path's gate for a token when the key set is
// fetched: pinned to the set the RemoteKeySet holds, while it holds one it
// would use without fetching or starting a refresh
// (kycvs.RemoteKeySet.Cached); nil otherwise, and the full path answers.
// It checks as the full path's gate would with that set, and shares its
// replay store.
func (h *Handler) pinnedGate() *gate.Gate {
	set := h.gc.Remote.Cached()
	if set == nil {
		return nil
	}
	h.fastMu.Lock()
	defer h.fastMu.Unlock()
	if set != h.fastSet {
		gc := h.gc
		gc.Remote, gc.Keys = nil, set
		g, err := gate.New(gc)
		if err != nil {
			return nil // the full path answers, and says why
		}
		h.fastSet, h.fastGate = set, g
	}
	return h.fastGate
}

// ServeHTTP gates r: the origin's answer, or the gate's refusal.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.load()
	if h.err != nil {
		// What is wrong stays in the log (load): a setting's value can
		// name the origin, which the worker stands in front of.
		gate.WriteProblem(w, http.StatusInternalServerError, kycvs.CodeConfig, "the worker is misconfigured; its log says why", nil)
		return
	}
	h.h.ServeHTTP(w, r)
}

// hopHeaders are not forwarded in either direction (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host"}

// proxy sends what the gate admitted to the origin and its answer back.
type proxy struct {
	origin *url.URL
	do     func(*http.Request) (*http.Response, error)
	logf   func(format string, args ...any)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, h := p.outgoing(r)
	if c, ok := r.Context().Value(captureKey{}).(*capture); ok {
		c.forward(w, r, target, h) // the fast path: the shim sends it
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target, nil)
	if err != nil {
		gate.WriteProblem(w, http.StatusBadGateway, kycvs.CodeUnavailable, "cannot build the origin request", nil)
		return
	}
	out.Header = h
	if forwardsBody(r) {
		out.Body = r.Body
		out.ContentLength = r.ContentLength
	}
	resp, err := p.do(out)
	if err != nil {
		p.logf("kycvs worker: origin %s://%s: %s %s", p.origin.Scheme, p.origin.Host, r.Method, originFailure(err, target))
		gate.WriteProblem(w, http.StatusBadGateway, kycvs.CodeUnavailable, "the origin did not answer", nil)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// originFailure is what a log may say of err, the failure of a request to
// target: its path and query are the client's (a mobile number, a name, a
// booking reference), so neither is in it. Go's client wraps its failures
// in a *url.Error that names the URL, which is dropped; a runtime's message
// (workerd's fetch) may quote the URL in it, which is replaced.
func originFailure(err error, target string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), target, "(the request's URL)")
}

// outgoing is the origin request's URL and headers for r.
func (p *proxy) outgoing(r *http.Request) (string, http.Header) {
	h := r.Header.Clone()
	p.editHeader(h, r.Host)
	return p.target(r.URL), h
}

// target is the origin's URL for a request for u.
func (p *proxy) target(u *url.URL) string {
	t := *p.origin
	t.Path = p.origin.Path + u.Path
	if p.origin.RawPath != "" || u.RawPath != "" {
		t.RawPath = p.origin.EscapedPath() + u.EscapedPath()
	}
	t.RawQuery = u.RawQuery
	return t.String()
}

// editHeader makes h, a copy of the header of a request for host, the
// origin request's.
func (p *proxy) editHeader(h http.Header, host string) {
	for _, k := range hopHeaders {
		delete(h, k) // Header.Del: the names are canonical (TestHopHeadersCanonical)
	}
	if host != "" {
		h.Set("X-Forwarded-Host", host)
	}
}

// forwardsBody reports whether r's body goes to the origin.
func forwardsBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.Method != http.MethodGet && r.Method != http.MethodHead
}
