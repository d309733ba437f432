package embed

import (
	"errors"
	"net/http"
	"sync"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
)

// maxRefusedLogged bounds the refused (client, origin) pairs the issuer
// remembers having logged: past it, new pairs are no longer logged, so that
// a flood of made-up origins cannot grow memory or the log.
const maxRefusedLogged = 1024

// refusals remembers the refused (client, origin) pairs already logged.
type refusals struct {
	mu   sync.Mutex
	seen map[[2]string]bool
}

// logRefused logs a refused (client, origin) pair the first time only.
func (h *handler) logRefused(client, origin string) {
	r := &h.refused
	r.mu.Lock()
	key := [2]string{client, origin}
	first := !r.seen[key] && len(r.seen) < maxRefusedLogged
	if first {
		if r.seen == nil {
			r.seen = make(map[[2]string]bool)
		}
		r.seen[key] = true
	}
	r.mu.Unlock()
	if first {
		h.d.Log.Warn("embed: origin not registered for this client; the page refuses it (logged once per origin)",
			"client", client, "origin", origin, "fix", "kycvs client add --origin "+origin+" (a new client), or open the site from a registered origin")
	}
}

// handleCheck answers GET /embed/check?client_id=…&origin=… for
// kycvs-embed.js, before it opens the page: 200 {"client_id","client_name"}
// when the page will open for that origin, else problem+json with
// ERR_CLIENT_UNKNOWN (404), ERR_ORIGIN (403), ERR_BAD_REQUEST (400) or
// ERR_UNAVAILABLE (503). It tells no more than the page's own CSP
// (frame-ancestors lists the registered origins), so any origin may read it.
func (h *handler) handleCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	q := r.URL.Query()
	clientID, origin := q.Get("client_id"), q.Get("origin")
	if clientID == "" || origin == "" || len(clientID) > 64 || len(origin) > 300 {
		problem(w, 400, kycvs.CodeBadRequest, "client_id and origin are required")
		return
	}
	c, err := h.d.Client(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		problem(w, 404, kycvs.CodeClientUnknown, "no verifying entity is registered with this client id")
		return
	} else if err != nil {
		h.d.Log.Error("embed: read client", "err", err)
		problem(w, 503, kycvs.CodeUnavailable, "the issuer cannot serve this request now; try again later")
		return
	}
	if !contains(c.Origins, origin) {
		h.logRefused(c.ID, origin)
		problem(w, 403, kycvs.CodeOriginRefused, "this origin is not registered for this client")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]any{"client_id": c.ID, "client_name": c.Name})
}
