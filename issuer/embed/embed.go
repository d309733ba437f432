// Package embed serves the kycvs embeddable consent page and the script a
// verifying entity includes to open it.
//
// # Routes
//
//   - GET /embed?client_id=…&nonce=…[&name=…][&origin=…][&mode=iframe|popup][&lang=en|hi]:
//     the page. It asks for the mobile number and the name, then the OTP
//     (with resend and a countdown), which it checks at once (a wrong code
//     is told there, with the tries left), then shows a consent screen
//     naming the verifying entity and what it will and will not learn. On
//     consent it posts {type: "kycvs:token", token} to the entity's registered origin
//     (origin, when given, must be one of them; else the first). Its CSP
//     allows framing only by the entity's registered origins and scripts
//     only from the issuer.
//   - POST /embed/otp {"mobile","name","lang"?}, POST /embed/verify {"txn","otp"}
//     (checks the code without using it: the transaction still expires
//     with its OTP) and POST /embed/confirm {"txn","otp","consent"}: the
//     page's own calls, application/json only. The client and the nonce
//     come from the page token, not from the body; lang ("en", the
//     default, or "hi") is the page's language when the code was asked
//     for, which its switch may have changed since the page was served,
//     and is the language of the SMS texts (the code and the receipt).
//   - GET /embed/check?client_id=…&origin=…: whether the page will open for
//     that origin (CORS *), so the script can say why before it waits; see
//     handleCheck. Each refused origin is logged once.
//   - GET /embed/kycvs-embed.js: the entity's script (an ES module, CORS *).
//   - GET /embed/page.js, /embed/page.css: the page's assets.
//
// # CSRF
//
// Every page carries a page token: an HMAC (under a key derived from the
// issuer's secret) over the client, the nonce, the target origin, an expiry
// (30 minutes) and a random session id, which the page's calls send in the
// X-KYCVS-Page header — a custom header a cross-site form or fetch cannot
// send without a CORS grant, which the issuer never gives. The session id is
// also set in a cookie (SameSite=Strict on http, SameSite=None; Secure;
// Partitioned on https): when the cookie comes back it must match. Calls
// whose Sec-Fetch-Site is not same-origin, or whose Origin is not the
// issuer's host, are refused.
package embed

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/internal/jsonbody"
	"github.com/kycvs/kycvs/issuer/store"
)

//go:embed assets
var assets embed.FS

// PageTokenTTL is how long a page (and so its calls) stays usable.
const PageTokenTTL = 30 * time.Minute

const (
	pageHeader = "X-KYCVS-Page"
	cookieName = "kycvs_embed"
	maxBody    = 4 << 10
)

// Deps is what the page needs from the issuer.
type Deps struct {
	// Client returns the registered verifying entity with this id, or an
	// error wrapping store.ErrNotFound.
	Client func(ctx context.Context, id string) (*store.Client, error)
	// StartOTP starts a transaction for c and sends the OTP; lang is the
	// language of its SMS texts, as the page sent it ("en" when it sent
	// none).
	StartOTP func(ctx context.Context, c *store.Client, mobile, name, nonce, ip, lang string) (txn string, expiresIn int, err error)
	// Verify checks the OTP (its SHA-256) of a transaction without using it.
	Verify func(ctx context.Context, c *store.Client, txn string, otpSHA256 []byte, ip string) error
	// Confirm redeems the transaction with the OTP's SHA-256, with consent.
	Confirm func(ctx context.Context, c *store.Client, txn string, otpSHA256 []byte, ip string) (token string, err error)
	// Problem writes an error of StartOTP or Confirm as problem+json.
	Problem func(w http.ResponseWriter, err error)
	// Secret keys the page tokens (a key is derived from it).
	Secret []byte
	// ResendAfter is the wait before the page offers to resend an OTP.
	ResendAfter time.Duration
	// TokenTTL is the status token's lifetime, shown on the consent screen.
	TokenTTL time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

type handler struct {
	d       Deps
	key     []byte
	page    *template.Template
	refused refusals
}

// Register adds the embed routes to mux.
func Register(mux *http.ServeMux, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	m := hmac.New(sha256.New, d.Secret)
	m.Write([]byte("kycvs-embed-page-v1"))
	h := &handler{d: d, key: m.Sum(nil), page: template.Must(template.ParseFS(assets, "assets/page.html"))}
	mux.HandleFunc("GET /embed", h.handlePage)
	mux.HandleFunc("GET /embed/check", h.handleCheck)
	mux.HandleFunc("POST /embed/otp", h.handleOTP)
	mux.HandleFunc("POST /embed/verify", h.handleVerify)
	mux.HandleFunc("POST /embed/confirm", h.handleConfirm)
	mux.HandleFunc("GET /embed/{file}", h.handleAsset)
}

var assetTypes = map[string]string{
	"kycvs-embed.js": "text/javascript; charset=utf-8",
	"page.js":        "text/javascript; charset=utf-8",
	"page.css":       "text/css; charset=utf-8",
}

func (h *handler) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	typ, ok := assetTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", typ)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age=300")
	if name == "kycvs-embed.js" {
		// Entities import it from their own origin.
		hd.Set("Access-Control-Allow-Origin", "*")
	}
	w.Write(b)
}

// ---- the page ----

var matcher = language.NewMatcher([]language.Tag{language.English, language.Hindi})

// pickLang returns "en" or "hi": the lang parameter, else Accept-Language.
func pickLang(r *http.Request) string {
	switch r.URL.Query().Get("lang") {
	case "hi":
		return "hi"
	case "en":
		return "en"
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, _ := matcher.Match(tags...)
	if i == 1 {
		return "hi"
	}
	return "en"
}

type pageData struct {
	Lang        string
	Error       string // an error key; the page shows only the error
	ClientID    string
	ClientName  string
	Origin      string
	Mode        string
	Name        string
	PageToken   string
	ResendAfter int
	TokenTTL    int
}

// csp is the page's Content-Security-Policy for these frame ancestors.
func csp(ancestors []string) string {
	fa := "'none'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors " + fa
}

func (h *handler) handlePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := pageData{Lang: pickLang(r), Mode: "iframe", ResendAfter: int(h.d.ResendAfter / time.Second), TokenTTL: int(h.d.TokenTTL / time.Second)}
	if q.Get("mode") == "popup" {
		d.Mode = "popup"
	}
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", csp(nil))
	status := 200
	fail := func(code int, key string) {
		status, d.Error = code, key
	}
	clientID, nonce, name := q.Get("client_id"), q.Get("nonce"), q.Get("name")
	var c *store.Client
	switch {
	case clientID == "" || !kycvs.ValidNonce(nonce) || len(name) > 200:
		fail(400, "badLink")
	default:
		var err error
		c, err = h.d.Client(r.Context(), clientID)
		if errors.Is(err, store.ErrNotFound) {
			fail(404, "unknownClient")
		} else if err != nil {
			h.d.Log.Error("embed: read client", "err", err)
			fail(503, "unavailable")
		}
	}
	if c != nil {
		hd.Set("Content-Security-Policy", csp(c.Origins))
		origin := q.Get("origin")
		if origin == "" && len(c.Origins) > 0 {
			origin = c.Origins[0]
		}
		if !contains(c.Origins, origin) {
			h.logRefused(c.ID, origin)
			fail(403, "unregisteredOrigin")
		} else {
			sid := randomID()
			d.ClientID, d.ClientName, d.Origin, d.Name = c.ID, c.Name, origin, name
			d.PageToken = h.sign(pageClaims{Client: c.ID, Nonce: nonce, Origin: origin, Session: sid, Expires: h.d.Now().Add(PageTokenTTL).Unix()})
			ck := &http.Cookie{Name: cookieName, Value: sid, Path: "/embed", HttpOnly: true, MaxAge: int(PageTokenTTL / time.Second), SameSite: http.SameSiteStrictMode}
			if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
				ck.Secure, ck.SameSite, ck.Partitioned = true, http.SameSiteNoneMode, true
			}
			http.SetCookie(w, ck)
		}
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.page.Execute(w, d); err != nil {
		h.d.Log.Error("embed: page template", "err", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- page tokens ----

type pageClaims struct {
	Client  string `json:"c"`
	Nonce   string `json:"n"`
	Origin  string `json:"o"`
	Session string `json:"s"`
	Expires int64  `json:"e"`
}

func (h *handler) mac(payload string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (h *handler) sign(p pageClaims) string {
	b, _ := json.Marshal(p)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(h.mac(payload))
}

var errForbidden = errors.New("forbidden")

// check returns the claims of a page call's token after the CSRF checks.
func (h *handler) check(r *http.Request) (*pageClaims, error) {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return nil, errForbidden
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return nil, errForbidden
		}
	}
	payload, sig, ok := strings.Cut(r.Header.Get(pageHeader), ".")
	if !ok {
		return nil, errForbidden
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, h.mac(payload)) {
		return nil, errForbidden
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, errForbidden
	}
	var p pageClaims
	if json.Unmarshal(b, &p) != nil || h.d.Now().Unix() > p.Expires {
		return nil, errForbidden
	}
	if ck, err := r.Cookie(cookieName); err == nil {
		if subtle.ConstantTimeCompare([]byte(ck.Value), []byte(p.Session)) != 1 {
			return nil, errForbidden
		}
	} else if r.Header.Get("Sec-Fetch-Site") != "same-origin" {
		return nil, errForbidden
	}
	return &p, nil
}

// problem writes an error of the page itself as problem+json.
func problem(w http.ResponseWriter, status int, code kycvs.Code, detail string) {
	b, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail, "code": code})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// begin runs the checks every page call shares and decodes its body,
// strictly, with members among fields.
func (h *handler) begin(w http.ResponseWriter, r *http.Request, fields ...jsonbody.Field) (*pageClaims, *store.Client, jsonbody.Object, bool) {
	w.Header().Set("Cache-Control", "no-store")
	p, err := h.check(r)
	if err != nil {
		problem(w, 403, kycvs.CodeUnauthorized, "this page has expired or was not opened by the issuer; reload it")
		return nil, nil, nil, false
	}
	body, err := jsonbody.Read(w, r, maxBody, fields...)
	if err != nil {
		var je *jsonbody.Error
		errors.As(err, &je)
		code := kycvs.CodeBadRequest
		switch je.Status {
		case 413:
			code = kycvs.CodeTooLarge
		case 415:
			code = kycvs.CodeMediaType
		}
		problem(w, je.Status, code, je.Msg)
		return nil, nil, nil, false
	}
	c, err := h.d.Client(r.Context(), p.Client)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			problem(w, 403, kycvs.CodeUnauthorized, "the verifying entity is no longer registered")
		} else {
			problem(w, 503, kycvs.CodeUnavailable, "the issuer cannot serve this request now; try again later")
		}
		return nil, nil, nil, false
	}
	if !contains(c.Origins, p.Origin) {
		problem(w, 403, kycvs.CodeUnauthorized, "this site is no longer registered")
		return nil, nil, nil, false
	}
	return p, c, body, true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// clientIP is the request's client address. The issuer's handler has put
// it in RemoteAddr already, when the request came through a trusted proxy.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func str(name string) jsonbody.Field { return jsonbody.Field{Name: name, Kind: jsonbody.String} }

func (h *handler) handleOTP(w http.ResponseWriter, r *http.Request) {
	p, c, body, ok := h.begin(w, r, str("mobile"), str("name"), str("lang"))
	if !ok {
		return
	}
	mobile, _ := body.String("mobile")
	name, _ := body.String("name")
	lang, hasLang := body.String("lang")
	if !hasLang {
		lang = "en"
	}
	txn, expiresIn, err := h.d.StartOTP(r.Context(), c, mobile, name, p.Nonce, clientIP(r), lang)
	if err != nil {
		h.d.Problem(w, err)
		return
	}
	writeJSON(w, map[string]any{"txn": txn, "expires_in": expiresIn, "resend_in": int(h.d.ResendAfter / time.Second)})
}

// otpOf returns the body's txn and the SHA-256 of its otp, or writes the
// problem.
func otpOf(w http.ResponseWriter, body jsonbody.Object) (string, []byte, bool) {
	txn, _ := body.String("txn")
	otp, _ := body.String("otp")
	if txn == "" || len(otp) != 6 || strings.Trim(otp, "0123456789") != "" {
		problem(w, 400, kycvs.CodeBadRequest, `body: "txn" and a 6-digit "otp" are required`)
		return "", nil, false
	}
	sum := sha256.Sum256([]byte(otp))
	return txn, sum[:], true
}

// handleVerify checks the code before the person is asked for consent.
func (h *handler) handleVerify(w http.ResponseWriter, r *http.Request) {
	_, c, body, ok := h.begin(w, r, str("txn"), str("otp"))
	if !ok {
		return
	}
	txn, otpSHA, ok := otpOf(w, body)
	if !ok {
		return
	}
	if err := h.d.Verify(r.Context(), c, txn, otpSHA, clientIP(r)); err != nil {
		h.d.Problem(w, err)
		return
	}
	writeJSON(w, map[string]any{"verified": true})
}

func (h *handler) handleConfirm(w http.ResponseWriter, r *http.Request) {
	_, c, body, ok := h.begin(w, r, str("txn"), str("otp"), jsonbody.Field{Name: "consent", Kind: jsonbody.Bool})
	if !ok {
		return
	}
	if consent, _ := body.Bool("consent"); !consent {
		problem(w, 400, kycvs.CodeConsentRequired, "the person's consent is required")
		return
	}
	txn, otpSHA, ok := otpOf(w, body)
	if !ok {
		return
	}
	tok, err := h.d.Confirm(r.Context(), c, txn, otpSHA, clientIP(r))
	if err != nil {
		h.d.Problem(w, err)
		return
	}
	writeJSON(w, map[string]any{"token": tok})
}
