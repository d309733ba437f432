// Package gate puts a kycvs vaccination-status gate in front of an HTTP
// handler: the request's token is verified locally, a request without a
// valid token of the required status is refused with RFC 9457
// problem+json, and an admitted request reaches the next handler with the
// verified status in the KYCVS-Status header. The kycvs edge worker
// (wasm/worker) is this package in front of a proxy to the origin; Go
// servers use [Gate.Middleware] directly. A server that forwards a request
// without an http.Handler chain calls [Gate.Check] and then
// [Gate.PrepareHeader], which make the same decision and header edits, and
// treats a preflight ([IsPreflight]) as Middleware does: forwarded without
// its body, answered without the answer's body.
//
// # What it checks, and what it cannot
//
// The token comes from "Authorization: KYCVS <token>" (the scheme compared
// case-insensitively) or the "kycvs" cookie; the header wins. Other
// Authorization schemes, "Bearer" included, are not read: they belong to the
// application behind the gate (its own users' sessions) and pass to it
// untouched.
//
// The gate verifies with [kycvs.WithoutNonce]: it does not know the nonce of
// the verifying entity's transaction, so it cannot tell a token made for
// this transaction from another one of the same audience. The application
// behind the gate checks the nonce ([TokenFrom] gives it the verified
// token's claims, Nonce included); until it does, a token is a bearer
// credential for its lifetime.
//
// # Refusals
//
//	no token                              401 ERR_TOKEN_MISSING  WWW-Authenticate: KYCVS realm="kycvs"
//	a token that fails verification        401 with the verifier's code (ERR_EXPIRED, ERR_KID_UNKNOWN, …)
//	a valid token below the minimum status 403 ERR_STATUS (with vaccination_status and min_status)
//	no key set younger than its max age    503 ERR_JWKS_STALE  Retry-After: 30
//	the replay store cannot answer         503 ERR_UNAVAILABLE  Retry-After: 30
//
// A refusal's detail speaks of the request only. Why a 503 happened (the
// key set fetch's or the replay store's error, which can name internal
// hosts) is the operator's: it goes to [Config.Logf], not into the answer.
//
// A CORS preflight (OPTIONS with Access-Control-Request-Method) and requests
// for the configured bypass paths pass without a token; browsers send
// preflights without credentials, so gating them would break every
// cross-origin call. Anyone can send such an OPTIONS request, so the gate
// passes it without a body and returns the next handler's answer without
// its body: the application behind the gate must treat OPTIONS as a
// preflight only and never act on it (a handler that ignores the method
// would run ungated, though its answer's body is dropped).
//
// # A token works once
//
// Every admitted token's jti is remembered until the token expires, and
// the same token again is refused with 409 ERR_REPLAY ([Config.Replay]; by
// default a [MemoryReplay] of this process). A replica of a Go server, like
// each isolate of the edge worker, remembers only what it admitted itself:
// give replicas one shared [ReplayStore] where a token must work once
// across all of them. [Config.AllowReplay] turns the check off, by name.
//
// # The nonce
//
// Where the application can say which transaction a request belongs to,
// [Config.Nonce] gives the gate that transaction's nonce, and the token's
// must equal it (401 ERR_NONCE), before the replay check. Otherwise the
// application checks it: [TokenFrom] gives it the verified claims, and
// NonceHeader carries the verified nonce to it (an origin behind the edge
// worker, which knows no transactions, compares that header with the nonce
// it handed out).
package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycvs/kycvs"
)

// StatusHeader carries the verified status (0, 1 or 2) to the next handler.
// Any copy of it in the incoming request is removed first, so the
// application behind the gate can trust it.
const StatusHeader = "KYCVS-Status"

// NonceHeader carries the verified token's nonce to the next handler, which
// compares it with the nonce it handed out for the transaction. Any copy of
// it in the incoming request is removed first.
const NonceHeader = "KYCVS-Nonce"

// CookieName is the cookie that may carry the token.
const CookieName = "kycvs"

// Scheme is the Authorization scheme that carries the token.
const Scheme = "KYCVS"

// Config is a gate's configuration.
type Config struct {
	// Issuer (iss) and Audience (aud, the verifying entity's client id)
	// are required.
	Issuer, Audience string

	// Exactly one of Keys (a pinned key set) and Remote (fetched and
	// cached from the issuer's JWKS URL) is set.
	Keys   *kycvs.KeySet
	Remote *kycvs.RemoteKeySet

	// MinStatus is the least status admitted: 1 partially or 2 fully
	// vaccinated. 0 admits every valid token, whatever its status; it is
	// refused unless AdmitAnyStatus is set too, so that a forgotten field
	// does not open the gate to the unvaccinated.
	MinStatus      kycvs.Status
	AdmitAnyStatus bool

	// Leeway is the clock skew allowed on exp and iat (0: kycvs.DefaultLeeway).
	Leeway time.Duration
	// Clock is the verification clock (nil: time.Now).
	Clock func() time.Time

	// KeepToken forwards the token to the next handler; by default the
	// "Authorization: KYCVS" header and the kycvs cookie are removed, from
	// exempt requests (a preflight, a bypass path) too.
	KeepToken bool

	// Nonce, when set, returns the nonce the application handed out for
	// the transaction r belongs to (from its path, say); the token's nonce
	// must equal it, or the request is refused with 401 ERR_NONCE before
	// the replay check. "" (no such transaction) refuses r the same way,
	// once every earlier check has passed.
	// Unset, the gate verifies without a nonce and the application checks
	// it (NonceHeader, TokenFrom).
	Nonce func(r *http.Request) string

	// Replay remembers admitted tokens so that each works once (409
	// ERR_REPLAY). nil means a MemoryReplay of DefaultReplayEntries for
	// this gate, unless AllowReplay is set: then a token is admitted as
	// often as it is sent within its lifetime.
	Replay      ReplayStore
	AllowReplay bool

	// Bypass lists paths that pass without a token (health checks, static
	// assets): "/healthz" is that path only, "/static/" everything under
	// it. A request path matches only when it is clean (no "..", "." or
	// "//" segments), has no percent-encoding and consists of
	// [A-Za-z0-9/._~-] alone, so that no spelling a server behind the gate
	// would resolve differently ("/static/..;/admin", "/static\..\admin",
	// "/static/%2e%2e/admin") can reach a gated path through it.
	Bypass []string

	// Logf writes what the gate's answers leave out for the operator: why
	// a key set cannot be fetched, why the replay store failed (a
	// Refusal's Cause). nil means log.Printf. It is never given a token.
	Logf func(format string, args ...any)
}

// Gate checks requests. It is safe for concurrent use.
type Gate struct {
	cfg    Config
	verify func(ctx context.Context, token, nonce string) (*kycvs.Token, error)
	now    func() time.Time

	// LogCause's state: per refusal code, when a cause was last logged
	// and how many were not logged since. Its own clock, not Config.Clock:
	// a pinned verification clock must not silence the log.
	logMu  sync.Mutex
	logged map[kycvs.Code]*causeLog
	logNow func() time.Time
}

type causeLog struct {
	at      time.Time
	skipped int
}

// CauseLogInterval is how often a refusal code's cause is logged at most:
// a key set that cannot be fetched refuses every request with a token, and
// a stranger can send many, and make the cause's text vary (a client that
// gives up mid-fetch, then one that waits).
const CauseLogInterval = time.Minute

// New checks cfg and returns its gate. Every problem is a *kycvs.Error with
// kycvs.CodeConfig (or CodeJWKS for a pinned set a verifier cannot use).
func New(cfg Config) (*Gate, error) {
	bad := func(msg string) error { return &kycvs.Error{Code: kycvs.CodeConfig, Message: msg} }
	switch {
	case (cfg.Keys == nil) == (cfg.Remote == nil):
		return nil, bad("set exactly one of Keys (pinned) and Remote")
	case !cfg.MinStatus.Valid():
		return nil, bad("MinStatus must be 0, 1 or 2")
	case cfg.MinStatus == kycvs.NotVaccinated && !cfg.AdmitAnyStatus:
		return nil, bad("MinStatus is 0, which admits every status: set AdmitAnyStatus to mean it")
	case cfg.Replay != nil && cfg.AllowReplay:
		return nil, bad("set at most one of Replay and AllowReplay")
	}
	for _, b := range cfg.Bypass {
		if !strings.HasPrefix(b, "/") || !plainPath(b) {
			return nil, bad(fmt.Sprintf("bypass path %q is not a clean absolute path", b))
		}
	}
	cfg.Bypass = append([]string(nil), cfg.Bypass...)
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	// The gate cannot know the transaction's nonce: the application behind
	// it checks it (package doc), so the gate opts out by name.
	opts := []kycvs.Option{kycvs.WithoutNonce()}
	if cfg.Leeway != 0 {
		opts = append(opts, kycvs.WithLeeway(cfg.Leeway))
	}
	if cfg.Clock != nil {
		opts = append(opts, kycvs.WithClock(cfg.Clock))
	}
	g := &Gate{cfg: cfg, now: cfg.Clock, logged: map[kycvs.Code]*causeLog{}, logNow: time.Now}
	if g.now == nil {
		g.now = time.Now
	}
	if cfg.Replay == nil && !cfg.AllowReplay {
		g.cfg.Replay = NewMemoryReplay(DefaultReplayEntries, g.now)
	}
	if cfg.Keys != nil {
		v, err := kycvs.NewVerifier(cfg.Keys, cfg.Issuer, cfg.Audience, opts...)
		if err != nil {
			return nil, err
		}
		g.verify = func(_ context.Context, token, nonce string) (*kycvs.Token, error) { return v.Verify(token, nonce) }
	} else {
		v, err := kycvs.NewRemoteVerifier(cfg.Remote, cfg.Issuer, cfg.Audience, opts...)
		if err != nil {
			return nil, err
		}
		g.verify = func(ctx context.Context, token, nonce string) (*kycvs.Token, error) {
			return v.Verify(ctx, token, nonce)
		}
	}
	return g, nil
}

// Refusal is the gate's answer to a request it does not admit.
type Refusal struct {
	Status int        // HTTP status: 401, 403, 409 or 503
	Code   kycvs.Code // the stable code of the problem+json body
	Detail string     // the body's detail, about the request only
	// Extra members of the problem+json body.
	Extra map[string]any
	// Cause is why the gate could not decide (a 503: the key set fetch's
	// or the replay store's error), for the operator's log and never for
	// the answer: it can name internal hosts and addresses. nil otherwise.
	Cause error
}

// Public details of the 503 refusals; what went wrong is in Cause.
const (
	detailNoKeySet = "the issuer's key set cannot be fetched now; try again later"
	detailNoReplay = "cannot tell whether this token was used before; try again later"
)

// Error returns the code and the detail, and the cause if there is one.
func (r *Refusal) Error() string {
	if r.Cause != nil {
		return string(r.Code) + ": " + r.Detail + ": " + r.Cause.Error()
	}
	return string(r.Code) + ": " + r.Detail
}

// LogCause writes ref's Cause, if it has one, with the gate's Logf. A server
// that answers [Gate.Check]'s refusals itself calls it, as Middleware does.
// A code's cause is written at most once per CauseLogInterval, the latest
// one, with the number of refusals of that code not written meanwhile.
func (g *Gate) LogCause(ref *Refusal) {
	if ref == nil || ref.Cause == nil {
		return
	}
	now := g.logNow()
	g.logMu.Lock()
	l := g.logged[ref.Code]
	if l == nil {
		l = &causeLog{}
		g.logged[ref.Code] = l
	} else if now.Sub(l.at) < CauseLogInterval && !now.Before(l.at) {
		l.skipped++
		g.logMu.Unlock()
		return
	}
	skipped := l.skipped
	l.at, l.skipped = now, 0
	g.logMu.Unlock()

	msg := ref.Cause.Error()
	if kycvs.CodeOf(ref.Cause) != ref.Code { // a kycvs.Error's text starts with its code
		msg = string(ref.Code) + ": " + msg
	}
	if skipped > 0 {
		g.cfg.Logf("kycvs gate: %s (and %d more refusals with %s since its last line)", msg, skipped, ref.Code)
	} else {
		g.cfg.Logf("kycvs gate: %s", msg)
	}
}

// Check decides on r without answering it: the verified token, or nil for a
// request that passes without one (a CORS preflight, a bypass path), or a
// refusal.
func (g *Gate) Check(r *http.Request) (*kycvs.Token, *Refusal) {
	if g.Exempt(r) {
		return nil, nil
	}
	token, _ := TokenOf(r)
	if token == "" { // answered without touching the key set
		return nil, &Refusal{Status: http.StatusUnauthorized, Code: kycvs.CodeTokenMissing,
			Detail: `send a kycvs token as "Authorization: KYCVS <token>" or in the "kycvs" cookie`}
	}
	nonce := ""
	if g.cfg.Nonce != nil {
		// No transaction: a nonce no token carries, so that the verifier
		// still answers in its one order (a bad signature is ERR_SIGNATURE
		// whatever the transaction) and ends with ERR_NONCE.
		if nonce = g.cfg.Nonce(r); nonce == "" {
			nonce = "!"
		}
	}
	tok, err := g.verify(r.Context(), token, nonce)
	if err != nil {
		code := kycvs.CodeOf(err)
		switch code {
		case kycvs.CodeJWKSStale, "":
			// "": only a cancelled or timed-out wait for a key set fetch
			// ends here (the caller is gone or the issuer is too slow).
			return nil, &Refusal{Status: http.StatusServiceUnavailable, Code: kycvs.CodeJWKSStale, Detail: detailNoKeySet, Cause: err}
		}
		return nil, &Refusal{Status: http.StatusUnauthorized, Code: code, Detail: messageOf(err)}
	}
	if tok.Status < g.cfg.MinStatus {
		return nil, &Refusal{Status: http.StatusForbidden, Code: kycvs.CodeStatusLow,
			Detail: fmt.Sprintf("vaccination status %d (%s) is below the required %d (%s)", tok.Status, tok.Status, g.cfg.MinStatus, g.cfg.MinStatus),
			Extra:  map[string]any{"vaccination_status": int(tok.Status), "min_status": int(g.cfg.MinStatus)}}
	}
	// Last, so that only valid tokens of a sufficient status (and the right
	// nonce, where the gate knows it) are remembered.
	if g.cfg.Replay != nil {
		// Remembered until the gate would no longer accept the token.
		until := time.Unix(tok.Expires, 0).Add(g.leeway())
		fresh, err := g.cfg.Replay.Admit(r.Context(), tok.ID, until)
		if err != nil {
			return nil, &Refusal{Status: http.StatusServiceUnavailable, Code: kycvs.CodeUnavailable, Detail: detailNoReplay, Cause: err}
		}
		if !fresh {
			return nil, &Refusal{Status: http.StatusConflict, Code: kycvs.CodeReplay, Detail: "this token was used before: a token works once"}
		}
	}
	return tok, nil
}

func (g *Gate) leeway() time.Duration {
	if g.cfg.Leeway != 0 {
		return g.cfg.Leeway
	}
	return kycvs.DefaultLeeway
}

// Exempt reports whether r passes the gate without a token: a CORS
// preflight, or a request for one of the Bypass paths.
func (g *Gate) Exempt(r *http.Request) bool {
	if IsPreflight(r) {
		return true // browsers send it without credentials
	}
	p := r.URL.Path
	if len(g.cfg.Bypass) == 0 || r.URL.RawPath != "" || !plainPath(p) {
		return false
	}
	for _, b := range g.cfg.Bypass {
		if p == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(p, b)) {
			return true
		}
	}
	return false
}

// plainPath reports whether p is a clean path (path.Clean keeps it, but
// for a trailing slash) of the characters [A-Za-z0-9/._~-] alone.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/._~-", c) >= 0) {
			return false
		}
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// IsPreflight reports whether r is a CORS preflight: OPTIONS with
// Access-Control-Request-Method. [Gate.Check] lets one through without a
// token; [Gate.Middleware] passes it on without its body and answers
// without the next handler's body, and a server forwarding what Check
// lets through must do the same.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// noBody passes a preflight's answer on without its body (browsers ignore
// it; anyone else could use it to read what a method-blind handler serves).
type noBody struct {
	http.ResponseWriter
	wrote bool
}

func (w *noBody) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Del("Content-Length")
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *noBody) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

type tokenKey struct{}

// TokenFrom returns the verified token of a request the gate admitted, for
// the next handler: its claims, among them the Nonce the application should
// compare with its own transaction's.
func TokenFrom(ctx context.Context) (*kycvs.Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(*kycvs.Token)
	return t, ok
}

// Middleware returns next behind the gate. Refused requests are answered
// with problem+json and never reach next. An admitted request reaches next
// with StatusHeader and NonceHeader set, its token in the context
// ([TokenFrom]) and, unless KeepToken, without the token. Requests passing without a token (a
// preflight, a bypass path) reach next without StatusHeader and, unless
// KeepToken, without any token they carried. ([Gate.PrepareHeader] makes
// these header edits.)
func (g *Gate) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ref := g.Check(r)
		if ref != nil {
			g.LogCause(ref)
			WriteRefusal(w, ref)
			return
		}
		ctx := r.Context()
		if tok != nil {
			ctx = context.WithValue(ctx, tokenKey{}, tok)
		}
		r2 := r.Clone(ctx)
		g.PrepareHeader(r2.Header, tok)
		if tok == nil && IsPreflight(r) {
			r2.Body, r2.ContentLength = http.NoBody, 0
			w = &noBody{ResponseWriter: w}
		}
		next.ServeHTTP(w, r2)
	})
}

// PrepareHeader edits h, the header of a request that [Gate.Check] let
// through with tok (nil for an exempt request), as [Gate.Middleware] edits
// the request it passes on: it removes StatusHeader and NonceHeader as the
// client sent them (in any case, and spelled with "_"), sets them from tok
// when tok is not nil, and unless [Config.KeepToken] removes any token (the
// Authorization values naming the KYCVS scheme and the kycvs cookie; the
// header lines holding none are left as they are, and a Cookie line that
// held one keeps its other cookie pairs as they were sent, in order), an
// exempt request's too. It is for servers that forward a request without an
// http.Handler chain (see [IsPreflight] for a preflight); h must be theirs to
// change (a copy such as r.Header.Clone(), not the header of a request they
// were handed) and, when tok is not nil, not nil (as for http.Header.Set).
func (g *Gate) PrepareHeader(h http.Header, tok *kycvs.Token) {
	stripGateHeaders(h)
	if tok != nil {
		// Header.Set, with the names made canonical once.
		h[statusKey] = []string{strconv.Itoa(int(tok.Status))}
		h[nonceKey] = []string{tok.Nonce}
	}
	if !g.cfg.KeepToken {
		stripToken(h)
	}
}

// statusKey and nonceKey are StatusHeader and NonceHeader as http.Header
// keys them.
var statusKey, nonceKey = http.CanonicalHeaderKey(StatusHeader), http.CanonicalHeaderKey(NonceHeader)

// stripGateHeaders removes StatusHeader and NonceHeader from h, in any
// case and spelled with "_" too (CGI-style servers read KYCVS_Status as
// the same variable): only the gate sets them.
func stripGateHeaders(h http.Header) {
	for k := range h {
		n := strings.ReplaceAll(k, "_", "-")
		if strings.EqualFold(n, StatusHeader) || strings.EqualFold(n, NonceHeader) {
			delete(h, k)
		}
	}
}

// TokenOf returns the token from "Authorization: KYCVS <token>" or else the
// kycvs cookie, and whether it came from the header.
func TokenOf(r *http.Request) (token string, fromHeader bool) {
	for _, a := range r.Header.Values("Authorization") {
		if t, ok := credentials(a); ok {
			return t, true
		}
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value, false
	}
	return "", false
}

// credentials returns the token of an Authorization value of the KYCVS
// scheme: the scheme (ASCII letters, in any case), then spaces or tabs,
// then the token. Leading spaces are skipped: where a client's
// Authorization lines arrive joined with ", " (a Workers runtime joins
// them), the worker splits them at commas and the second one starts with a
// space.
func credentials(a string) (string, bool) {
	a = strings.TrimLeft(a, " \t")
	scheme, rest := a, ""
	if i := strings.IndexAny(a, " \t"); i >= 0 {
		scheme, rest = a[:i], a[i:]
	}
	if !isScheme(scheme) {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// isScheme reports whether s is Scheme in ASCII letters of any case. Not
// strings.EqualFold, whose Unicode folding takes the Kelvin sign for a K.
func isScheme(s string) bool {
	if len(s) != len(Scheme) {
		return false
	}
	for i := range len(s) {
		if s[i]|0x20 != Scheme[i]|0x20 {
			return false
		}
	}
	return true
}

// namesScheme reports whether the Authorization value a names the KYCVS
// scheme anywhere a reader behind the gate might find it: what credentials
// reads, and also what it does not but a looser reader would, such as
// "KYCVS\u00a0<token>", "\u00a0KYCVS <token>" (split at any Unicode or
// Latin-1 space), "\u212aYCVS <token>" (Unicode case folding) and
// "Basic x, KYCVS <token>" (split at commas). Every such value is removed
// with the token; another scheme whose name begins with KYCVS ("KYCVS2")
// is not.
func namesScheme(a string) bool {
	// Every comma splits, in quoted strings too: a reader that splits
	// naively would find "KYCVS <token>" in Digest a=", KYCVS <token>, b=",
	// so such a value goes, and with it the rare one that only quotes the
	// name (username="Doe, Kycvs J").
	for elem := range strings.SplitSeq(a, ",") {
		// The first five characters, compared with Unicode folding as a
		// reader that lower-cases with Unicode tables would ("\u212aYCVS",
		// with a Kelvin sign, is "kycvs" to it).
		e, n := trimLooseSpace(elem), 0
		for range len(Scheme) {
			_, size := utf8.DecodeRuneInString(e[n:]) // 0 at the end
			n += size
		}
		if strings.EqualFold(e[:n], Scheme) && (n == len(e) || !isTokenChar(e[n])) {
			return true
		}
	}
	return false
}

// trimLooseSpace removes what any common reader may skip before a scheme:
// Unicode spaces, the byte-order mark, the C0 separators 0x1c-0x1f, and
// the bytes 0x85 and 0xa0 that a Latin-1 reader takes for spaces.
func trimLooseSpace(s string) string {
	for len(s) > 0 {
		if s[0] == 0x85 || s[0] == 0xa0 {
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if !isLooseSpace(r) {
			return s
		}
		s = s[n:]
	}
	return s
}

// isLooseSpace reports whether a reader may take r for a space.
func isLooseSpace(r rune) bool {
	return r != utf8.RuneError && (unicode.IsSpace(r) || r == '\ufeff' || 0x1c <= r && r <= 0x1f)
}

// isTokenChar reports whether c may appear in an auth-scheme name (an RFC
// 9110 tchar): a scheme such as "KYCVS2" is another scheme.
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// stripToken removes the Authorization values naming the KYCVS scheme and
// the kycvs cookie, keeping other schemes and cookies; a header without
// them stays as it is. A Cookie line that held the kycvs cookie keeps its
// other pairs byte for byte, in order, and Cookie lines stay separate
// lines: a Workers runtime's request arrives with its headers split at
// commas, and a line joined to the next with "; " would turn
// "note=x,session=y" into a cookie of its own (session=y). (An origin then
// gets the lines as the client's request would have brought them without
// the kycvs cookie.)
func stripToken(h http.Header) {
	if as := h.Values("Authorization"); slices.ContainsFunc(as, namesScheme) {
		keep := slices.DeleteFunc(slices.Clone(as), namesScheme)
		if len(keep) == 0 {
			h.Del("Authorization")
		} else {
			h["Authorization"] = keep
		}
	}
	var keep []string
	found := false
	for _, line := range h.Values("Cookie") {
		var pairs []string
		for _, part := range strings.Split(line, ";") {
			switch p := strings.TrimSpace(part); {
			case isTokenCookie(p):
				found = true
			case p != "":
				pairs = append(pairs, part)
			}
		}
		if len(pairs) > 0 {
			keep = append(keep, strings.Join(pairs, ";"))
		}
	}
	if !found {
		return
	}
	if len(keep) == 0 {
		h.Del("Cookie")
	} else {
		h["Cookie"] = keep
	}
}

// isTokenCookie reports whether a reader behind the gate might find the
// kycvs cookie in the cookie-pair p (one ";"-separated piece of a Cookie
// line, trimmed): Go reads "kycvs=…" and "kycvs" alone; a reader that
// trims Unicode or Latin-1 spaces reads "\xa0kycvs=…"; one that ends a
// cookie at a space (Python's http.cookies) reads "a=b kycvs=…". So: the
// name at the start or after such a space, then such spaces, then "=" or
// the end.
func isTokenCookie(p string) bool {
	for i := 0; ; i++ {
		j := strings.Index(p[i:], CookieName)
		if j < 0 {
			return false
		}
		i += j
		before, after := p[:i], trimLooseSpace(p[i+len(CookieName):])
		if (before == "" || trimLooseSpaceRight(before) != before) && (after == "" || after[0] == '=') {
			return true
		}
	}
}

// trimLooseSpaceRight is trimLooseSpace at the end of s.
func trimLooseSpaceRight(s string) string {
	for len(s) > 0 {
		if c := s[len(s)-1]; c == 0x85 || c == 0xa0 {
			if r, _ := utf8.DecodeLastRuneInString(s); r == utf8.RuneError { // not part of a UTF-8 sequence
				s = s[:len(s)-1]
				continue
			}
		}
		r, n := utf8.DecodeLastRuneInString(s)
		if !isLooseSpace(r) {
			return s
		}
		s = s[:len(s)-n]
	}
	return s
}

// WriteRefusal answers with the refusal as RFC 9457 problem+json carrying
// the kycvs code, with WWW-Authenticate on 401 and Retry-After on 503.
func WriteRefusal(w http.ResponseWriter, ref *Refusal) {
	switch ref.Status {
	case http.StatusUnauthorized:
		if ref.Code == kycvs.CodeTokenMissing {
			w.Header().Set("WWW-Authenticate", `KYCVS realm="kycvs"`)
		} else {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`KYCVS realm="kycvs", error=%q`, string(ref.Code)))
		}
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "30")
	}
	WriteProblem(w, ref.Status, ref.Code, ref.Detail, ref.Extra)
}

// WriteProblem writes an RFC 9457 problem+json with the kycvs code.
func WriteProblem(w http.ResponseWriter, status int, code kycvs.Code, detail string, extra map[string]any) {
	var b []byte
	if len(extra) == 0 { // the members in json.Marshal's (sorted) order
		b = make([]byte, 0, 128+len(detail))
		b = appendJSONString(append(b, `{"code":`...), string(code))
		b = appendJSONString(append(b, `,"detail":`...), detail)
		b = strconv.AppendInt(append(b, `,"status":`...), int64(status), 10)
		b = appendJSONString(append(b, `,"title":`...), http.StatusText(status))
		b = append(b, `,"type":"about:blank"}`...)
	} else {
		body := map[string]any{
			"type":   "about:blank",
			"title":  http.StatusText(status),
			"status": status,
			"code":   string(code),
			"detail": detail,
		}
		for k, v := range extra {
			if _, taken := body[k]; !taken {
				body[k] = v
			}
		}
		b = problemJSON(body)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// problemJSON is json.Marshal(body), byte for byte, without reflection for
// the members a problem has (strings and ints): json.Marshal of a map was
// most of the cost of a refusal in the wasm worker (19 of 21 µs under V8).
func problemJSON(body map[string]any) []byte {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys) // json.Marshal sorts map keys
	b := make([]byte, 0, 192)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := body[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		default:
			j, _ := json.Marshal(body)
			return j
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as json.Marshal quotes it. ASCII is escaped
// here as encoding/json does (<, > and & too); a string with other bytes
// goes through json.Marshal (U+2028/2029, invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// messageOf is the message of a *kycvs.Error without its code prefix.
func messageOf(err error) string {
	if e, ok := err.(*kycvs.Error); ok {
		return e.Message
	}
	return err.Error()
}
