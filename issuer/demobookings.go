package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
	"github.com/kycvs/kycvs/issuer/store"
)

// The demo booking API (--demo only) is what a verifying entity's own
// server runs: it decides, the booking page only shows. It sits behind the
// gate package's net/http middleware, the same code as the edge worker:
//
//	POST /demo/api/{client}/bookings       start a booking: 201 {"id", "nonce", "expires_in"}
//	POST /demo/api/{client}/bookings/{id}  book it with "Authorization: KYCVS <token>":
//	                                       201 {"booking", "status"}, or the gate's problem+json
//
// The token must be for that client (aud), fully vaccinated (the demo's
// rule: 403 ERR_STATUS), carry the nonce handed out for that booking (401
// ERR_NONCE; the gate's Config.Nonce) and be new (409 ERR_REPLAY). A
// booking is made once (409 ERR_REPLAY for a second token of its nonce).
// Pages on a client's registered origins may call it cross-origin (a static
// host of the demo). Starting bookings is limited per client address
// (demoStartsPerMinute), and open bookings are never evicted: when
// demoMaxPending are open, new ones are refused (503) until some expire, so
// no one can wipe out someone else's booking by starting many. A body is
// checked before the gate sees the token, so a malformed request uses up
// nothing.
type demoBookings struct {
	s      *Server
	replay *gate.MemoryReplay

	mu      sync.Mutex
	gates   map[string]demoGate        // by client id, rebuilt when the keys change
	pending map[string]*pendingBooking // by booking id
	order   []string                   // booking ids, oldest first
}

type demoGate struct {
	etag string
	g    *gate.Gate
}

type pendingBooking struct {
	client, nonce string
	expires       time.Time
	booked        bool
}

// Limits of the demo booking API.
const (
	demoMaxPending      = 10_000 // open bookings; past that, new ones wait for some to expire
	demoStartsPerMinute = 30     // bookings started per client address a minute
	demoBookingTTL      = 15 * time.Minute
	demoMaxBookBody     = 4 << 10
	demoMinStatus       = kycvs.FullyVaccinated
	demoAllowHeaders    = "Authorization, Content-Type"
)

func newDemoBookings(s *Server) *demoBookings {
	return &demoBookings{s: s, replay: gate.NewMemoryReplay(gate.DefaultReplayEntries, s.cfg.Now),
		gates: map[string]demoGate{}, pending: map[string]*pendingBooking{}}
}

func (d *demoBookings) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /demo/api/{client}/bookings", d.cors(d.start))
	mux.HandleFunc("POST /demo/api/{client}/bookings/{id}", d.cors(d.book))
	mux.HandleFunc("OPTIONS /demo/api/{client}/bookings", d.cors(nil))
	mux.HandleFunc("OPTIONS /demo/api/{client}/bookings/{id}", d.cors(nil))
}

// cors lets the client's registered origins call the API (and answers
// their preflights); other origins get no CORS headers, so their pages
// cannot read the answers. Same-origin pages need none.
func (d *demoBookings) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" {
			if c, err := d.s.st.Client(r.Context(), r.PathValue("client")); err == nil && slices.Contains(c.Origins, origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Allow-Methods", "POST")
				w.Header().Set("Access-Control-Allow-Headers", demoAllowHeaders)
				w.Header().Set("Access-Control-Max-Age", "600")
			}
		}
		if next == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next(w, r)
	}
}

func (d *demoBookings) start(w http.ResponseWriter, r *http.Request) {
	client := r.PathValue("client")
	if _, err := d.s.st.Client(r.Context(), client); err != nil {
		writeError(w, &apiError{Status: 404, Code: kycvs.CodeClientUnknown, Message: "no verifying entity " + strconv.Quote(client)})
		return
	}
	now := d.s.cfg.Now()
	ip := r.RemoteAddr // the client's address (Handler: trusted proxies)
	if a, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ip = a.Addr().String()
	}
	if ip == "" {
		ip = "unknown"
	}
	if err := d.s.st.Take(r.Context(), now.Unix(), store.Limit{Key: "demo-booking:" + source(nil, ip), Max: demoStartsPerMinute, Window: 60}); err != nil {
		var rl *store.RateLimitError
		if errors.As(err, &rl) {
			writeError(w, d.s.rateLimited(rl))
			return
		}
		writeError(w, unavailable(err))
		return
	}
	id, nonce := kycvs.NewNonce(), kycvs.NewNonce()
	d.mu.Lock()
	for len(d.order) > 0 && !now.Before(d.pending[d.order[0]].expires) { // expired ones only
		delete(d.pending, d.order[0])
		d.order = d.order[1:]
	}
	if len(d.order) >= demoMaxPending {
		d.mu.Unlock()
		writeError(w, &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "too many open bookings: try again in a few minutes", RetryAfter: 60})
		return
	}
	d.pending[id] = &pendingBooking{client: client, nonce: nonce, expires: now.Add(demoBookingTTL)}
	d.order = append(d.order, id)
	d.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "nonce": nonce, "expires_in": int(demoBookingTTL / time.Second)})
}

// nonceOf is the gate's Config.Nonce: the nonce of the booking r names,
// until it expires, made or not (a token sent again then meets the replay
// check: 409); "" (refused with ERR_NONCE) for no such booking.
func (d *demoBookings) nonceOf(r *http.Request) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pending[r.PathValue("id")]
	if p == nil || p.client != r.PathValue("client") || !d.s.cfg.Now().Before(p.expires) {
		return ""
	}
	return p.nonce
}

// gate returns the client's gate, for the issuer's current keys. The
// replay store is shared by every gate, so a rotation forgets nothing.
func (d *demoBookings) gate(client string) (*gate.Gate, error) {
	jwks, etag := d.s.keys.JWKS()
	d.mu.Lock()
	defer d.mu.Unlock()
	if g, ok := d.gates[client]; ok && g.etag == etag {
		return g.g, nil
	}
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil {
		return nil, err
	}
	g, err := gate.New(gate.Config{Issuer: d.s.cfg.Issuer, Audience: client, Keys: ks, MinStatus: demoMinStatus,
		Leeway: d.s.cfg.Leeway, Clock: d.s.cfg.Now, Replay: d.replay, Nonce: d.nonceOf})
	if err != nil {
		return nil, err
	}
	if len(d.gates) >= 1000 { // one per registered client at most; start afresh past that
		clear(d.gates)
	}
	d.gates[client] = demoGate{etag, g}
	return g, nil
}

func (d *demoBookings) book(w http.ResponseWriter, r *http.Request) {
	client := r.PathValue("client")
	if _, err := d.s.st.Client(r.Context(), client); err != nil {
		writeError(w, &apiError{Status: 404, Code: kycvs.CodeClientUnknown, Message: "no verifying entity " + strconv.Quote(client)})
		return
	}
	// The body first: a request the API would refuse anyway must not reach
	// the gate, which records the token as used when it admits it.
	var req demoBookingRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, demoMaxBookBody+1))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err != nil || len(body) > demoMaxBookBody || (len(bytes.TrimSpace(body)) > 0 && dec.Decode(&req) != nil) {
		writeError(w, &apiError{Status: 400, Code: kycvs.CodeBadRequest, Message: "the body is not {\"passenger\", \"journey\"} (at most 4 KiB)"})
		return
	}
	g, err := d.gate(client)
	if err != nil {
		writeError(w, unavailable(err))
		return
	}
	g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.admitted(w, r, req) })).ServeHTTP(w, r)
}

type demoBookingRequest struct {
	Passenger string `json:"passenger"`
	Journey   string `json:"journey"`
}

// admitted runs for a request the gate let through: a valid, fully
// vaccinated, new token with this booking's nonce.
func (d *demoBookings) admitted(w http.ResponseWriter, r *http.Request, req demoBookingRequest) {
	id := r.PathValue("id")
	d.mu.Lock()
	p := d.pending[id]
	first := p != nil && !p.booked
	if first {
		p.booked = true
	}
	d.mu.Unlock()
	switch {
	case p == nil: // expired between the gate's check and now
		gate.WriteRefusal(w, &gate.Refusal{Status: http.StatusUnauthorized, Code: kycvs.CodeNonce, Detail: "this booking has expired"})
		return
	case !first: // another token for this booking's transaction: it is used up
		gate.WriteRefusal(w, &gate.Refusal{Status: http.StatusConflict, Code: kycvs.CodeReplay, Detail: "this booking is already made: its transaction works once"})
		return
	}
	status, _ := strconv.Atoi(r.Header.Get(gate.StatusHeader))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{
		"booking": map[string]any{"id": id, "passenger": req.Passenger, "journey": req.Journey},
		"status":  status,
	})
}
