// Package issuer is the kycvs reference issuer: the vaccination registry,
// the OTP and consent flow, signing keys, and the HTTP API (native /v1 and
// CoWIN-compatible /api/v3/vaccination), over any [store.Store].
//
// # Operations
//
//   - Endpoints: POST /v1/otp, POST /v1/otp/confirm,
//     POST /api/v3/vaccination/generateOTP, POST /api/v3/vaccination/confirmOTP,
//     GET /api/v3/vaccination/status, GET /.well-known/jwks.json,
//     GET /.well-known/kycvs-configuration, GET /healthz, GET /readyz; the
//     embed page's routes (package embed); with --demo also /demo/ and
//     /demo/inbox. /metrics is not among them: see Metrics.
//   - Errors are RFC 9457 problem+json with a code member (kycvs.Code).
//   - Logs are slog JSON on stderr; the OTP, the mobile number and the
//     name are never logged (except by the development-only log sender).
//   - Metrics are Prometheus, kycvs_ prefix, on a private registry, served
//     only by [Server.MetricsHandler] on a listener of its own (kycvs serve
//     --metrics-addr): counts such as kycvs_tokens_issued_total{status}
//     change at each disclosure, so a public /metrics would let anyone
//     watch them happen.
//   - Behind a reverse proxy, Config.TrustedProxies names the proxies'
//     addresses: only for requests from them are X-Forwarded-For and
//     X-Forwarded-Proto believed (see [Server.Handler]).
//   - /healthz is 200 while the process runs; /readyz is 200 when the
//     store answers and a signing key is active, 503 otherwise and while
//     shutting down.
//   - The embedded store's admin socket (<data>/admin.sock) lets
//     `kycvs import`, `client add` and `keys rotate` reach a running server.
package issuer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/internal/jsonbody"
	"github.com/kycvs/kycvs/issuer/store"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 16 << 10

// Config is the issuer's configuration. Zero durations and counts take the
// defaults shown.
type Config struct {
	Issuer string      // iss of every token, byte for byte; required
	Store  store.Store // required
	Sender Sender      // required
	Log    *slog.Logger
	// LogLevel, when set, is the level of Log's handler, which the admin
	// socket's POST /log-level changes at run time.
	LogLevel *slog.LevelVar

	TokenTTL        time.Duration // 5m; at most 1h
	OTPTTL          time.Duration // 3m; at most 10m
	MaxTries        int           // 5 wrong OTPs per transaction
	ResendCooldown  time.Duration // 60s between OTPs to one mobile from one source; <0: none
	MaxOTPPerDay    int           // 20 OTPs per mobile per 24h over all sources, one back every 24h/20
	MaxOTPPerSource int           // 5 OTPs per mobile per day from one source, one back every 4.8 h
	RateClient      int           // OTP requests (and missed confirmations) per client per minute; 0: 60000; <0: off
	RateIP          int           // the same per address on the embed page; 0: 600; <0: off

	// TrustedProxies are the reverse proxies in front of the issuer. Only
	// a request whose TCP peer is in one of them has its X-Forwarded-For
	// (the rightmost address that is not itself a trusted proxy) taken as
	// the client's address, and its X-Forwarded-Proto believed; from any
	// other peer both headers are dropped. None by default.
	TrustedProxies []netip.Prefix
	JWKSMaxAge     time.Duration // 5m: the JWKS cache lifetime, which key rotation honours
	Leeway         time.Duration // 60s: verifiers' leeway, which key rotation honours
	Now            func() time.Time

	// Demo serves DemoDir at /demo/ and the inbox at /demo/inbox.
	Demo    bool
	DemoDir string
	Inbox   *Inbox
}

// Schedule returns the key schedule this configuration implies.
func (c *Config) Schedule() KeySchedule {
	return KeySchedule{CacheLifetime: c.JWKSMaxAge, TokenLifetime: c.TokenTTL, Leeway: c.Leeway}
}

func (c *Config) defaults() error {
	if c.Issuer == "" || c.Store == nil || c.Sender == nil {
		return errors.New("issuer: Issuer, Store and Sender are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.TokenTTL, 5*time.Minute)
	def(&c.OTPTTL, 3*time.Minute)
	if c.ResendCooldown == 0 {
		c.ResendCooldown = 60 * time.Second
	}
	def(&c.JWKSMaxAge, 5*time.Minute)
	def(&c.Leeway, 60*time.Second)
	if c.TokenTTL > time.Duration(kycvs.MaxLifetime)*time.Second || c.TokenTTL < time.Second {
		return fmt.Errorf("issuer: token lifetime %v: want 1s to 1h", c.TokenTTL)
	}
	if c.OTPTTL > 10*time.Minute {
		return fmt.Errorf("issuer: OTP lifetime %v: at most 10m", c.OTPTTL)
	}
	if c.MaxTries <= 0 {
		c.MaxTries = 5
	}
	if c.MaxOTPPerDay <= 0 {
		c.MaxOTPPerDay = 20
	}
	if c.MaxOTPPerSource <= 0 {
		c.MaxOTPPerSource = 5
	}
	if c.RateClient == 0 {
		c.RateClient = 60000
	}
	if c.RateIP == 0 {
		c.RateIP = 600
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Server is the issuer.
type Server struct {
	cfg    Config
	st     store.Store
	sender Sender
	keys   *KeyRing
	secret []byte
	otpKey []byte
	m      *metrics
	log    *slog.Logger
	bg     sync.WaitGroup
	ready  atomic.Bool
}

// New prepares an issuer: it creates the first signing key and the
// pairwise secret if the store has none, and loads the keys.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: cfg.Store, sender: cfg.Sender, m: newMetrics(), log: cfg.Log}
	if err := EnsureKey(ctx, s.st, cfg.Now()); err != nil {
		return nil, fmt.Errorf("issuer: first signing key: %w", err)
	}
	var err error
	if s.keys, err = NewKeyRing(ctx, s.st, cfg.Now()); err != nil {
		return nil, fmt.Errorf("issuer: keys: %w", err)
	}
	if s.secret, err = s.st.Secret(ctx); err != nil {
		return nil, fmt.Errorf("issuer: secret: %w", err)
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("kycvs-otp-v1"))
	s.otpKey = m.Sum(nil)
	s.ready.Store(true)
	return s, nil
}

// Keys returns the issuer's key ring.
func (s *Server) Keys() *KeyRing { return s.keys }

// Config returns the configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Store returns the issuer's store.
func (s *Server) Store() store.Store { return s.st }

// Maintain refreshes the keys every few seconds and sweeps old
// transactions every ten minutes, until ctx is done.
func (s *Server) Maintain(ctx context.Context) {
	tick := time.NewTicker(KeyRefresh)
	defer tick.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.keys.Refresh(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("key refresh", "err", err)
		}
		if time.Since(lastSweep) > 10*time.Minute {
			lastSweep = time.Now()
			if err := s.st.Sweep(ctx, s.cfg.Now().Unix()); err != nil && ctx.Err() == nil {
				s.log.Error("sweep", "err", err)
			}
		}
	}
}

// Shutdown marks the server not ready and waits (until ctx is done) for
// receipts still being sent.
func (s *Server) Shutdown(ctx context.Context) {
	s.ready.Store(false)
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// ---- HTTP ----

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return w.ResponseWriter.Write(b)
}

// MetricsHandler serves the Prometheus metrics. Serve it on a private
// listener only (see the package documentation).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{Registry: s.m.reg}))
	return mux
}

// Handler returns the issuer's public HTTP handler. Every per-address
// decision in it (the embed page's limits, its cookie's Secure flag) uses
// one client address and scheme, found as Config.TrustedProxies says.
func (s *Server) Handler() http.Handler {
	return s.forwarded(s.routes())
}

// forwarded puts the client's address in r.RemoteAddr (port 0) when the
// peer is a trusted proxy, and drops X-Forwarded-For and X-Forwarded-Proto
// from everyone else, so that handlers can read RemoteAddr and the
// X-Forwarded-Proto header as they are.
func (s *Server) forwarded(h http.Handler) http.Handler {
	trusted := func(a netip.Addr) bool {
		for _, p := range s.cfg.TrustedProxies {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !trusted(peer.Addr()) {
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Proto")
			h.ServeHTTP(w, r)
			return
		}
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		client := peer.Addr()
		for i := len(hops) - 1; i >= 0; i-- {
			hop := strings.TrimSpace(hops[i])
			a, err := netip.ParseAddr(hop)
			if err != nil {
				// Some proxies write "ip:port" (and "[v6]:port").
				ap, err2 := netip.ParseAddrPort(hop)
				if err2 != nil {
					break // a hop we cannot read: stop at the last one we could
				}
				a = ap.Addr()
			}
			client = a.Unmap()
			if !trusted(a) {
				break
			}
		}
		r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		if p := r.Header.Values("X-Forwarded-Proto"); len(p) > 0 {
			last := p[len(p)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			r.Header.Set("X-Forwarded-Proto", strings.TrimSpace(last))
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		route := pattern
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			h(sw, r)
			d := time.Since(start)
			s.m.latency.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(d.Seconds())
			s.log.Debug("http", "method", r.Method, "route", route, "status", sw.code, "ms", float64(d.Microseconds())/1000)
		})
	}
	handle("POST /v1/otp", s.handleOTP)
	handle("POST /v1/otp/confirm", s.handleConfirm)
	handle("POST /api/v3/vaccination/generateOTP", s.handleCoWINGenerate)
	handle("POST /api/v3/vaccination/confirmOTP", s.handleCoWINConfirm)
	handle("GET /api/v3/vaccination/status", s.handleCoWINStatus)
	handle("GET /.well-known/jwks.json", s.handleJWKS)
	handle("GET /.well-known/kycvs-configuration", withETag(s.handleConfiguration))
	handle("OPTIONS /.well-known/jwks.json", corsPreflight)
	handle("OPTIONS /.well-known/kycvs-configuration", corsPreflight)
	handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok\n")
	})
	handle("GET /readyz", s.handleReady)
	s.registerEmbed(mux) // GET /embed, /embed/{file}; POST /embed/otp, /embed/confirm (embed_routes.go)
	if s.cfg.Demo {
		if s.cfg.Inbox != nil {
			handle("GET /demo/inbox", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				s.demoInboxCORS(w, r)
				writeJSON(w, 200, map[string]any{"messages": s.cfg.Inbox.Messages()})
			})
		}
		if s.cfg.DemoDir != "" {
			mux.Handle("GET /demo/", http.StripPrefix("/demo/", http.FileServer(http.Dir(s.cfg.DemoDir))))
		}
		newDemoBookings(s).register(mux) // POST /demo/api/{client}/bookings[/{id}] behind the gate (demobookings.go)
	}
	// Everything else gets problem+json too: 405 with Allow when the path
	// exists for another method, 404 otherwise.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "POST", "OPTIONS"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, pattern := mux.Handler(r2); pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, &apiError{Status: 405, Code: kycvs.CodeMethodNotAllowed, Message: r.Method + " is not allowed here"})
			return
		}
		writeError(w, &apiError{Status: 404, Code: kycvs.CodeNotFound, Message: "no such endpoint"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{}`)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes err as problem+json.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = unavailable(err)
	}
	body := map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(ae.Status),
		"status": ae.Status,
		"detail": ae.Message,
		"code":   ae.Code,
	}
	if ae.TriesLeft != nil {
		body["tries_left"] = *ae.TriesLeft
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(ae.RetryAfter, 10))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, ae.Status, body)
}

// decodeBody reads the request's body strictly (package jsonbody).
func decodeBody(w http.ResponseWriter, r *http.Request, fields ...jsonbody.Field) (jsonbody.Object, error) {
	o, err := jsonbody.Read(w, r, MaxBody, fields...)
	var je *jsonbody.Error
	if errors.As(err, &je) {
		switch je.Status {
		case 413:
			return nil, &apiError{Status: 413, Code: kycvs.CodeTooLarge, Message: je.Msg}
		case 415:
			return nil, &apiError{Status: 415, Code: kycvs.CodeMediaType, Message: je.Msg}
		}
		return nil, badRequest("%s", je.Msg)
	}
	return o, err
}

func str(name string) jsonbody.Field { return jsonbody.Field{Name: name, Kind: jsonbody.String} }
func boolean(name string) jsonbody.Field {
	return jsonbody.Field{Name: name, Kind: jsonbody.Bool}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) auth(w http.ResponseWriter, r *http.Request, cowin bool) (*store.Client, bool) {
	key := bearer(r)
	if key == "" && cowin {
		key = r.Header.Get("X-Api-Key")
	}
	c, err := s.Authenticate(r.Context(), key)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kycvs"`)
		writeError(w, err)
		return nil, false
	}
	return c, true
}

func (s *Server) handleOTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.auth(w, r, false)
	if !ok {
		return
	}
	body, err := decodeBody(w, r, str("mobile"), str("name"), str("nonce"), str("lang"))
	if err != nil {
		writeError(w, err)
		return
	}
	mobile, hasMobile := body.String("mobile")
	name, hasName := body.String("name")
	nonce, _ := body.String("nonce")
	lang, hasLang := body.String("lang")
	if !hasMobile || !hasName {
		writeError(w, badRequest(`body: "mobile" and "name" are required`))
		return
	}
	if !hasLang {
		lang = langEnglish
	}
	st, err := s.StartOTP(r.Context(), c, mobile, name, nonce, APINative, "", lang)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"txn": st.Txn, "expires_in": st.ExpiresIn})
}

func validOTP(otp string) bool {
	if len(otp) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if otp[i] < '0' || otp[i] > '9' {
			return false
		}
	}
	return true
}

func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.auth(w, r, false)
	if !ok {
		return
	}
	body, err := decodeBody(w, r, str("txn"), str("otp"), boolean("consent"))
	if err != nil {
		writeError(w, err)
		return
	}
	txn, _ := body.String("txn")
	otp, _ := body.String("otp")
	consent, _ := body.Bool("consent")
	if txn == "" || !validOTP(otp) {
		writeError(w, badRequest(`body: "txn" and a 6-digit "otp" are required`))
		return
	}
	sum := sha256.Sum256([]byte(otp))
	t, _, err := s.Confirm(r.Context(), c, APINative, "", txn, sum[:], consent)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"token": t.Token, "status": t.Status})
}

func (s *Server) handleCoWINGenerate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.auth(w, r, true)
	if !ok {
		return
	}
	// CoWIN's own optional "email" is accepted, as the brief says, and
	// neither stored nor used.
	body, err := decodeBody(w, r, str("mobile_number"), str("full_name"), str("email"), str("nonce"))
	if err != nil {
		writeError(w, err)
		return
	}
	mobile, hasMobile := body.String("mobile_number")
	name, hasName := body.String("full_name")
	nonce, _ := body.String("nonce")
	if !hasMobile || !hasName {
		writeError(w, badRequest(`body: "mobile_number" and "full_name" are required`))
		return
	}
	// CoWIN's body has no language: its SMS texts are in English.
	st, err := s.StartOTP(r.Context(), c, mobile, name, nonce, APICoWIN, "", langEnglish)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"txnId": st.Txn})
}

// handleCoWINConfirm: the CoWIN-compatible API has no consent field; calling
// confirmOTP is the consent (an explicit "consent": false refuses).
func (s *Server) handleCoWINConfirm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.auth(w, r, true)
	if !ok {
		return
	}
	body, err := decodeBody(w, r, str("otp"), str("txnId"), boolean("consent"))
	if err != nil {
		writeError(w, err)
		return
	}
	txn, _ := body.String("txnId")
	otp, _ := body.String("otp")
	consent, given := body.Bool("consent")
	otpSHA, err := hex.DecodeString(otp)
	if txn == "" || err != nil || len(otpSHA) != sha256.Size {
		writeError(w, badRequest(`body: "txnId" and "otp" (the SHA-256 of the OTP, in hex) are required`))
		return
	}
	_, session, err := s.Confirm(r.Context(), c, APICoWIN, "", txn, otpSHA, !given || consent)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"token": session})
}

func (s *Server) handleCoWINStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	t, err := s.CoWINStatus(r.Context(), bearer(r))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kycvs"`)
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"vaccination_status": t.Status, "kycvs_token": t.Token})
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	jwks, etag := s.keys.JWKS()
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(s.cfg.JWKSMaxAge/time.Second)))
	h.Set("ETag", etag)
	h.Set("Access-Control-Expose-Headers", "ETag") // so that browser clients can revalidate
	h.Set("Vary", "Accept-Encoding")
	if notModified(r, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	w.Write(jwks)
}

func (s *Server) handleConfiguration(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(s.cfg.Issuer, "/")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, 200, map[string]any{
		"issuer":   s.cfg.Issuer,
		"jwks_uri": base + "/.well-known/jwks.json",
		"endpoints": map[string]string{
			"otp":                base + "/v1/otp",
			"otp_confirm":        base + "/v1/otp/confirm",
			"cowin_generate_otp": base + "/api/v3/vaccination/generateOTP",
			"cowin_confirm_otp":  base + "/api/v3/vaccination/confirmOTP",
			"cowin_status":       base + "/api/v3/vaccination/status",
			"embed":              base + "/embed",
		},
		"algorithms":             []string{kycvs.AlgEdDSA},
		"token_type":             kycvs.TokenType,
		"token_lifetime":         int(s.cfg.TokenTTL / time.Second),
		"otp_lifetime":           int(s.cfg.OTPTTL / time.Second),
		"jwks_max_age":           int(s.cfg.JWKSMaxAge / time.Second),
		"statuses":               map[string]string{"0": "not vaccinated", "1": "partially vaccinated", "2": "fully vaccinated"},
		"name_binding":           "nmh",
		"subject_type":           "pairwise",
		"max_beneficiaries_each": store.MaxPerMobile,
	})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.ready.Load() {
		writeError(w, &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		writeError(w, &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "store unavailable"})
		return
	}
	if _, err := s.keys.Signer(s.cfg.Now()); err != nil {
		writeError(w, &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "no active signing key"})
		return
	}
	io.WriteString(w, "ready\n")
}

// IdleTimeout is how long a kept-alive connection may wait for its next
// request: short, since connections are capped (see kycvs serve).
const IdleTimeout = 10 * time.Second

// HTTPServer returns an http.Server for h with the issuer's timeouts.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
