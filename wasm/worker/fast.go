package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unsafe"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// The fast path (README.md, "Fast path"). syumai/workers hands a request to
// Go by converting all of it (every header, the URL, the body stream) and
// builds the answer in Go; measured, that conversion and the origin fetch
// made from Go cost more than the gate itself. For the gate's decision only
// a few strings matter, so the shim passes just those (FastRequest), Go
// decides as ServeHTTP would (a request with a token: the gate's Check,
// refusal and header edits and the proxy's URL and header rules, called
// directly, decideToken; any other: the same handler chain, its fetch
// captured), and answers with either the refusal to send or the edits that
// make the origin request (FastAnswer); the shim makes the fetch itself.
// TestDecideAnswersAsServeHTTP compares the two. Decide never waits for I/O:
// with a fetched key set (KYCVS_JWKS_URL) it verifies a token only while
// the set is held fresh and has the token's kid; a request that would make
// the worker fetch the set or start its refresh goes the full way, through
// syumai/workers, where a fetch can be awaited.

// FastRequest is what the shim passes across: the request's method, URL
// and Host, and the headers the gate reads, each as the runtime's Headers
// object gives it (list values joined with ", ").
type FastRequest struct {
	Method, URL string
	Host        *string // nil: no such header
	// Authorization, Cookie and Access-Control-Request-Method.
	Authorization, Cookie, ACRM *string
	HasBody                     bool // the request has a body stream
}

// Presence flags of kycvs_worker_decide (ReadFastRequest).
const (
	hasHost = 1 << iota
	hasAuthorization
	hasCookie
	hasACRM
	hasBodyStream
)

// ReadFastRequest reads the shim's input: method, URL, Host,
// Authorization, Cookie and Access-Control-Request-Method separated by
// NUL, and flags saying which headers are present and whether there is a
// body. ok is false when the input is not six fields (a NUL inside one):
// then the full path answers.
func ReadFastRequest(b []byte, flags uint32) (q FastRequest, ok bool) {
	f := strings.SplitN(string(b), "\x00", 7) // one copy: Go may keep the strings
	if len(f) != 6 {
		return q, false
	}
	present := func(s string, flag uint32) *string {
		if flags&flag == 0 {
			return nil
		}
		return &s
	}
	return FastRequest{Method: f[0], URL: f[1], Host: present(f[2], hasHost), Authorization: present(f[3], hasAuthorization),
		Cookie: present(f[4], hasCookie), ACRM: present(f[5], hasACRM), HasBody: flags&hasBodyStream != 0}, true
}

// fastHeaders are the request headers the fast path passes to Go; the
// shim replaces them (and the hop-by-hop ones) by what Go says.
var fastHeaders = []string{"Authorization", "Cookie", "Access-Control-Request-Method", gate.StatusHeader, gate.NonceHeader, "X-Forwarded-Host"}

// FastAnswer is Go's answer to a FastRequest.
type FastAnswer struct {
	// Full: take the full path (syumai/workers) for this request.
	Full bool
	// Forward: send the request to Target; otherwise answer with Status,
	// Header and Body.
	Forward bool
	Status  int
	Header  http.Header // the answer's headers; when forwarding, headers to add to the origin's answer
	Body    []byte

	Target string
	// ReqAdd is added to the incoming headers once ReqDel are deleted.
	ReqAdd http.Header
	// WithBody: the incoming body goes to the origin. DropBody: the
	// origin's answer goes back without its body and Content-Length (a
	// CORS preflight).
	WithBody, DropBody bool

	encoded []byte // Encode's result, kept with an answer made once
}

// ReqDel are the headers deleted from every request forwarded on the fast
// path (before FastAnswer.ReqAdd is added): the hop-by-hop ones, as the
// proxy deletes them, and those Go decides on. RespDel are deleted from
// every origin answer, as the proxy does.
var ReqDel, RespDel = append(append([]string(nil), hopHeaders...), fastHeaders...), hopHeaders

// PathHeader is "fast" on the answers of the fast path when
// KYCVS_DEBUG_INSTANCE=1 (the tests use it); the full path does not set it.
const PathHeader = "KYCVS-Debug-Path"

type captureKey struct{}

// capture records what the proxy would send, on the fast path.
type capture struct {
	rec               *recorder
	done              bool
	target            string
	header            http.Header
	withBody, dropped bool
}

func (c *capture) forward(w http.ResponseWriter, r *http.Request, target string, h http.Header) {
	c.done, c.target, c.header, c.withBody = true, target, h, forwardsBody(r)
	// Whether w passes a body on: the gate wraps it for a preflight, whose
	// answer goes back without one. A probe byte tells, and is taken back.
	n := len(c.rec.body)
	w.Write([]byte{0})
	c.dropped = len(c.rec.body) == n
	c.rec.body = c.rec.body[:n]
}

// recorder is the fast path's ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

// hasBody is the body of a request whose stream stays in JavaScript.
type hasBody struct{}

func (hasBody) Read([]byte) (int, error) { return 0, io.EOF }
func (hasBody) Close() error             { return nil }

// KeptAnswer is the encoded answer for the shim's input b (ReadFastRequest's
// format) when Decide would give the kept refusal of a request without
// credentials, found without parsing the request or allocating: the flags
// say no Authorization, Cookie or Access-Control-Request-Method came, the
// input is six fields, the URL's path is plain (only [A-Za-z0-9/._~-],
// which url.Parse leaves as it is) and the gate does not exempt it. ok is
// false otherwise, and Decide answers. (Measured in workerd, Decide's
// parsing and allocations cost a no-token request about 45 µs of CPU.)
func (h *Handler) KeptAnswer(b []byte, flags uint32) (enc []byte, ok bool) {
	a := h.noToken.Load()
	if a == nil || flags&(hasAuthorization|hasCookie|hasACRM) != 0 || bytes.Count(b, []byte{0}) != 5 {
		return nil, false
	}
	rawURL := b[bytes.IndexByte(b, 0)+1:]
	rawURL = rawURL[:bytes.IndexByte(rawURL, 0)]
	_, rest, found := bytes.Cut(rawURL, []byte("://"))
	if !found {
		return nil, false
	}
	i := bytes.IndexByte(rest, '/')
	if i < 0 || !plainHost(rest[:i]) {
		return nil, false // workerd builds the URL from the raw Host header: url.Parse may refuse it
	}
	path := rest[i:]
	if j := bytes.IndexAny(path, "?#"); j >= 0 {
		path = path[:j]
	}
	for _, c := range path {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '.' || c == '_' || c == '~' || c == '-') {
			return nil, false
		}
	}
	// Read during the call only: the strings need no copy.
	u := url.URL{Path: unsafe.String(unsafe.SliceData(path), len(path))}
	if h.gate.Exempt(&http.Request{Method: http.MethodGet, URL: &u}) {
		return nil, false
	}
	return a.encoded, true
}

// plainHost reports whether h is a host name or IPv4 address with an
// optional port, of [A-Za-z0-9.-] and ":digits" only: url.Parse takes it as
// it is.
func plainHost(h []byte) bool {
	name, port, hasPort := bytes.Cut(h, []byte(":"))
	if len(name) == 0 || hasPort && len(port) == 0 {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Decide is the fast path: the gate's answer to q, or the origin request to
// make, without waiting for I/O. It behaves as ServeHTTP does for the
// request q describes. The answer's Header and Body may be shared with
// later answers (the kept no-token refusal): callers read them only.
func (h *Handler) Decide(q FastRequest) (a FastAnswer) {
	defer func() {
		if err := recover(); err != nil {
			h.p.Logf("kycvs worker: panic: %v", err)
			rec := &recorder{header: http.Header{}}
			gate.WriteProblem(rec, http.StatusInternalServerError, kycvs.CodeUnavailable, "internal error", nil)
			a = FastAnswer{Status: rec.status, Header: rec.header, Body: rec.body}
		}
	}()
	// A NUL byte would break the answer's encoding; the runtime does not
	// pass one in these, but if it did, the full path would answer. This is
	// decided before anything runs: the gate must not record a token twice.
	for _, v := range []*string{&q.Method, &q.URL, q.Host, q.Authorization, q.Cookie, q.ACRM} {
		if v != nil && strings.IndexByte(*v, 0) >= 0 {
			return FastAnswer{Full: true}
		}
	}
	u, err := url.Parse(q.URL)
	if err != nil {
		return FastAnswer{Full: true} // the full path answers as it always did
	}
	// The header values as syumai/workers gives them to Go: split at
	// every comma.
	hdr := http.Header{}
	add := func(k string, v *string) { // k canonical: Header.Add without its copy
		if v == nil {
			return
		}
		for s, more := *v, true; more; {
			var part string
			part, s, more = strings.Cut(s, ",")
			hdr[k] = append(hdr[k], part)
		}
	}
	add("Authorization", q.Authorization)
	add("Cookie", q.Cookie)
	add("Access-Control-Request-Method", q.ACRM)
	host := ""
	if q.Host != nil {
		host, _, _ = strings.Cut(*q.Host, ",")
	}
	r := &http.Request{Method: q.Method, URL: u, Header: hdr, Host: host, ContentLength: -1}
	if q.HasBody {
		r.Body = hasBody{}
	}
	h.load()
	// A request without credentials that the gate does not exempt is
	// refused with ERR_TOKEN_MISSING before anything else is read: the
	// answer is the same for all of them (its headers are the gate's and
	// this instance's), so the first one's is kept and given again. It is
	// made by the handler chain below, like every other answer.
	noCreds := h.err == nil && q.Authorization == nil && q.Cookie == nil && !h.gate.Exempt(r)
	if a := h.noToken.Load(); noCreds && a != nil {
		return *a
	}
	if h.err == nil && !h.gate.Exempt(r) {
		if tok, _ := gate.TokenOf(r); tok != "" {
			return h.decideToken(r)
		}
	}
	return h.viaChain(r, noCreds)
}

// viaChain answers r as ServeHTTP does, running the handler chain with the
// proxy's fetch captured: the requests decideToken does not answer (a bad
// configuration, no token, an exempt request). noCreds: r has no
// credentials, and a 401 is kept for the next such requests.
func (h *Handler) viaChain(r *http.Request, noCreds bool) FastAnswer {
	rec := &recorder{header: http.Header{}}
	c := &capture{rec: rec}
	h.ServeHTTP(rec, r.WithContext(context.WithValue(context.Background(), captureKey{}, c)))
	if h.debug {
		rec.header.Set(PathHeader, "fast")
	}
	if !c.done {
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		a := FastAnswer{Status: rec.status, Header: rec.header, Body: rec.body}
		if noCreds && a.Status == http.StatusUnauthorized {
			kept := a
			kept.encoded = a.Encode(nil)
			h.noToken.CompareAndSwap(nil, &kept) // once: the shim keeps what it made of it
		}
		return a
	}
	return FastAnswer{
		Forward: true, Header: rec.header, Target: c.target, ReqAdd: c.header,
		WithBody: c.withBody, DropBody: c.dropped,
	}
}

// decideToken answers r, which carries a token the gate does not exempt,
// as the handler chain would (ServeHTTP with a good configuration: the
// debug header, then gate.Middleware in front of the proxy), but without
// running it: the gate's Check, then its refusal, or the edits Middleware
// (Gate.PrepareHeader) and the proxy (editHeader, target) make to the
// request; r is Decide's own, and its header becomes the origin request's.
// Measured in workerd, the chain's clones of the request and of its
// headers, the context values and the captured fetch cost a forwarded
// request about 14 µs of CPU (README.md, "Per step").
func (h *Handler) decideToken(r *http.Request) FastAnswer {
	g := h.gate
	if h.gc.Remote != nil {
		// Verifying may have to fetch the key set: only a set held fresh
		// is used here; otherwise the full path answers.
		if g = h.pinnedGate(); g == nil {
			return FastAnswer{Full: true}
		}
	}
	hdr := http.Header{}
	if h.debug { // as chain's handler sets it
		hdr.Set(InstanceHeader, instanceID())
	}
	tok, ref := g.Check(r) // not nil, nil: Decide sends exempt requests to viaChain
	if ref != nil && h.gc.Remote != nil && ref.Code == kycvs.CodeKIDUnknown {
		// A kid the held set lacks makes the full path fetch the set
		// again (a key rotation). Nothing was recorded: the token was
		// refused before the replay check.
		return FastAnswer{Full: true}
	}
	if h.debug {
		hdr.Set(PathHeader, "fast")
	}
	if ref != nil {
		g.LogCause(ref)
		rec := &recorder{header: hdr}
		gate.WriteRefusal(rec, ref)
		return FastAnswer{Status: rec.status, Header: hdr, Body: rec.body}
	}
	g.PrepareHeader(r.Header, tok)
	h.proxy.editHeader(r.Header, r.Host)
	return FastAnswer{Forward: true, Header: hdr, Target: h.proxy.target(r.URL), ReqAdd: r.Header, WithBody: forwardsBody(r)}
}

// Unavailable is the answer when the origin cannot be reached on the fast
// path, as the proxy gives it.
func (h *Handler) Unavailable() FastAnswer {
	rec := &recorder{header: http.Header{}}
	if h.debug { // as ServeHTTP sets it
		rec.header.Set(InstanceHeader, instanceID())
	}
	gate.WriteProblem(rec, http.StatusBadGateway, kycvs.CodeUnavailable, "the origin did not answer", nil)
	return FastAnswer{Status: rec.status, Header: rec.header, Body: rec.body}
}

// Encode writes a as the shim reads it: fields separated by NUL bytes
// (which no header, URL or JSON body contains), see js/worker.mjs. Should a
// field contain one all the same, the answer is "full" instead, so that no
// value can shift the fields after it. (Decide refuses inputs with a NUL
// before it runs the gate, so this cannot happen through it.)
func (a *FastAnswer) Encode(b []byte) []byte {
	if a.encoded != nil {
		return append(b, a.encoded...)
	}
	start, nul := len(b), false
	field := func(s string) {
		nul = nul || strings.IndexByte(s, 0) >= 0
		b = append(append(b, s...), 0)
	}
	pairs := func(h http.Header) {
		n := 0
		for _, vs := range h {
			n += len(vs)
		}
		field(strconv.Itoa(n))
		for k, vs := range h {
			for _, v := range vs {
				field(k)
				field(v)
			}
		}
	}
	switch {
	case a.Full:
		field("full")
	case !a.Forward:
		field("answer")
		field(strconv.Itoa(a.Status))
		field(http.StatusText(a.Status))
		pairs(a.Header)
		b = append(b, a.Body...) // the rest is the body
	default:
		field("forward")
		field(a.Target)
		field(bit(a.WithBody))
		field(bit(a.DropBody))
		pairs(a.ReqAdd)
		pairs(a.Header)
	}
	if nul {
		return append(b[:start], "full\x00"...)
	}
	return b
}

// EncodeLists writes ReqDel and RespDel for the shim, which reads them once.
func EncodeLists(b []byte) []byte {
	for _, l := range [][]string{ReqDel, RespDel} {
		b = append(strconv.AppendInt(b, int64(len(l)), 10), 0)
		for _, s := range l {
			b = append(append(b, s...), 0)
		}
	}
	return b
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return ""
}
