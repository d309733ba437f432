package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kycvs/kycvs"
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
}

// StatusHeader carries the verified status to the origin. Any copy of it in
// the incoming request is removed first, so the origin can trust it.
const StatusHeader = "KYCVS-Status"

// CookieName is the cookie that may carry the token.
const CookieName = "kycvs"

// Handler gates an origin. The configuration is read at the first request
// (in workerd the environment is only known then) and kept; a bad
// configuration fails every request with 500 ERR_CONFIG, never open.
type Handler struct {
	p    Platform
	once sync.Once
	g    *gate
	err  error
}

// NewHandler returns the gating handler.
func NewHandler(p Platform) *Handler {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Background == nil {
		p.Background = func(f func()) { go f() }
	}
	return &Handler{p: p}
}

type gate struct {
	cfg  *Config
	keys keySource
	do   func(*http.Request) (*http.Response, error)
	bg   func(func())
}

func newGate(p Platform) (*gate, error) {
	cfg, err := LoadConfig(p.Getenv)
	if err != nil {
		return nil, err
	}
	build := func(ks *kycvs.KeySet) (*kycvs.Verifier, error) {
		// The gate cannot know the transaction's nonce: the origin behind it
		// checks it (README), so the gate opts out of the check by name.
		return kycvs.NewVerifier(ks, cfg.Issuer, cfg.Audience, kycvs.WithLeeway(cfg.Leeway), kycvs.WithClock(p.Now), kycvs.WithoutNonce())
	}
	g := &gate{cfg: cfg, do: p.Do, bg: p.Background}
	if cfg.JWKS != nil {
		ks, err := kycvs.ParseKeySet(cfg.JWKS)
		if err != nil {
			return nil, &kycvs.Error{Code: kycvs.CodeConfig, Message: "KYCVS_JWKS: " + err.Error()}
		}
		v, err := build(ks)
		if err != nil {
			return nil, &kycvs.Error{Code: kycvs.CodeConfig, Message: err.Error()}
		}
		g.keys = pinnedKeys{v}
	} else {
		g.keys = &remoteKeys{
			url: cfg.JWKSURL, do: p.Do, now: p.Now, build: build,
			refresh: cfg.JWKSRefresh, maxStale: cfg.JWKSMaxStale,
		}
	}
	return g, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		h.g, h.err = newGate(h.p)
		if h.err != nil {
			log.Printf("kycvs worker: bad configuration: %v", h.err)
		}
	})
	if h.err != nil {
		problem(w, http.StatusInternalServerError, kycvs.CodeConfig, "the worker is misconfigured: "+messageOf(h.err), nil)
		return
	}
	h.g.serve(w, r)
}

func (g *gate) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token, fromHeader := tokenOf(r)
	if token == "" { // answered without touching the key set
		w.Header().Set("WWW-Authenticate", `KYCVS realm="kycvs"`)
		problem(w, http.StatusUnauthorized, kycvs.CodeTokenMissing,
			"send a kycvs token as \"Authorization: KYCVS <token>\" or in the \"kycvs\" cookie", nil)
		return
	}
	// Before any await: in workerd, bg binds to this request's ctx.
	v, err := g.keys.verifier(ctx, g.bg)
	if err != nil {
		w.Header().Set("Retry-After", "30")
		problem(w, http.StatusServiceUnavailable, kycvs.CodeJWKSStale, messageOf(err), nil)
		return
	}
	// The nonce belongs to the verifying entity's own transaction; the edge
	// does not know it, so it is not checked here.
	tok, err := v.Verify(token, "")
	if kycvs.CodeOf(err) == kycvs.CodeKIDUnknown {
		if nv := g.keys.refreshForKID(ctx, v); nv != nil {
			tok, err = nv.Verify(token, "")
		}
	}
	if err != nil {
		code, msg := kycvs.CodeOf(err), messageOf(err)
		if code == "" {
			code = kycvs.CodeMalformed
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`KYCVS realm="kycvs", error=%q`, string(code)))
		problem(w, http.StatusUnauthorized, code, msg, nil)
		return
	}
	if tok.Status < g.cfg.MinStatus {
		problem(w, http.StatusForbidden, kycvs.CodeStatusLow,
			fmt.Sprintf("vaccination status %d (%s) is below the required %d (%s)", tok.Status, tok.Status, g.cfg.MinStatus, g.cfg.MinStatus),
			map[string]any{"vaccination_status": int(tok.Status), "min_status": int(g.cfg.MinStatus)})
		return
	}
	g.forward(w, r, tok.Status, fromHeader)
}

// messageOf is the message of a *kycvs.Error without its code prefix.
func messageOf(err error) string {
	if e, ok := err.(*kycvs.Error); ok {
		return e.Message
	}
	return err.Error()
}

// tokenOf returns the token from "Authorization: KYCVS <token>" (scheme
// case-insensitive, as RFC 9110 says) or else the kycvs cookie.
func tokenOf(r *http.Request) (token string, fromHeader bool) {
	for _, a := range r.Header.Values("Authorization") {
		if t, ok := kycvsCredentials(a); ok {
			return t, true
		}
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value, false
	}
	return "", false
}

func kycvsCredentials(a string) (string, bool) {
	scheme, rest, _ := strings.Cut(a, " ")
	if !strings.EqualFold(scheme, "KYCVS") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// hopHeaders are not forwarded in either direction (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host"}

func (g *gate) forward(w http.ResponseWriter, r *http.Request, st kycvs.Status, fromHeader bool) {
	u := *g.cfg.Origin
	u.Path = g.cfg.Origin.Path + r.URL.Path
	if g.cfg.Origin.RawPath != "" || r.URL.RawPath != "" {
		u.RawPath = g.cfg.Origin.EscapedPath() + r.URL.EscapedPath()
	}
	u.RawQuery = r.URL.RawQuery

	h := r.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Del(StatusHeader)
	if !g.cfg.KeepToken {
		if fromHeader {
			var keep []string
			for _, a := range h.Values("Authorization") {
				if _, ok := kycvsCredentials(a); !ok {
					keep = append(keep, a)
				}
			}
			h.Del("Authorization")
			for _, a := range keep {
				h.Add("Authorization", a)
			}
		}
		stripCookie(h, CookieName)
	}
	h.Set(StatusHeader, strconv.Itoa(int(st)))
	if r.Host != "" {
		h.Set("X-Forwarded-Host", r.Host)
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		problem(w, http.StatusBadGateway, kycvs.CodeUnavailable, "cannot build the origin request", nil)
		return
	}
	out.Header = h
	if r.Body != nil && r.Body != http.NoBody && r.Method != http.MethodGet && r.Method != http.MethodHead {
		out.Body = r.Body
		out.ContentLength = r.ContentLength
	}
	resp, err := g.do(out)
	if err != nil {
		log.Printf("kycvs worker: origin: %v", err)
		problem(w, http.StatusBadGateway, kycvs.CodeUnavailable, "the origin did not answer", nil)
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

// stripCookie removes one cookie from the Cookie header(s), keeping the rest.
func stripCookie(h http.Header, name string) {
	vals := h.Values("Cookie")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, line := range vals {
		for _, part := range strings.Split(line, ";") {
			p := strings.TrimSpace(part)
			if p == "" {
				continue
			}
			if n, _, _ := strings.Cut(p, "="); strings.TrimSpace(n) == name {
				continue
			}
			keep = append(keep, p)
		}
	}
	h.Del("Cookie")
	if len(keep) > 0 {
		h.Set("Cookie", strings.Join(keep, "; "))
	}
}

// problem writes an RFC 9457 problem+json with the kycvs code.
func problem(w http.ResponseWriter, status int, code kycvs.Code, detail string, extra map[string]any) {
	body := map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"code":   string(code),
		"detail": detail,
	}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if writeBody != nil && writeBody(w, b) {
		return
	}
	w.Write(b)
}

// writeBody, when set (main_js.go), hands a small complete body to the
// runtime in one piece instead of streaming it; it reports whether it did.
var writeBody func(w http.ResponseWriter, b []byte) bool
