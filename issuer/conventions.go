package issuer

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"strings"

	"github.com/kycvs/kycvs/internal/b64"
)

// The HTTP conventions clients and caches expect of the public metadata
// endpoints: conditional requests, CORS preflights, readiness that drops
// before the listener drains.

// notModified reports whether r's If-None-Match (all its field lines)
// matches etag.
func notModified(r *http.Request, etag string) bool {
	inm := r.Header.Values("If-None-Match")
	return len(inm) > 0 && etagMatch(strings.Join(inm, ","), etag)
}

// etagMatch reports whether an If-None-Match field value matches etag: "*"
// matches any current representation, otherwise one of the listed entity
// tags must equal it by weak comparison (RFC 9110 §13.1.2).
func etagMatch(inm, etag string) bool {
	if strings.TrimSpace(inm) == "*" {
		return true
	}
	opaque := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(inm, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == opaque {
			return true
		}
	}
	return false
}

// withETag answers h's 200 responses with an ETag of their body, and
// conditional requests that match it with 304 Not Modified.
func withETag(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
		h(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.code != http.StatusOK {
			w.WriteHeader(rec.code)
			w.Write(rec.body.Bytes())
			return
		}
		sum := sha256.Sum256(rec.body.Bytes())
		etag := `"` + b64.Encode(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Access-Control-Expose-Headers", "ETag")
		if notModified(r, etag) {
			w.Header().Del("Content-Type")
			w.Header().Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.Write(rec.body.Bytes())
	}
}

type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// corsPreflight answers an OPTIONS request to a public, credential-free
// metadata endpoint: any origin may GET it, conditionally.
func corsPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "If-None-Match, Cache-Control")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Allow", "GET, HEAD, OPTIONS")
	h.Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}

// BeginShutdown marks the server not ready, so that /readyz answers 503
// while the listener still serves: load balancers stop sending new
// requests before the process stops accepting them. Shutdown then waits
// for the work still under way.
func (s *Server) BeginShutdown() { s.ready.Store(false) }
