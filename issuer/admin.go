package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

// AdminSocket is the name of the admin socket in the data directory. The
// embedded store allows one process at a time, so while `kycvs serve` runs,
// `kycvs import`, `client add` and `keys rotate` send their work to it over
// this socket (mode 0600: only the data directory's owner can use it).
const AdminSocket = "admin.sock"

// AdminHandler serves the admin operations on the server's store.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /import", func(w http.ResponseWriter, r *http.Request) {
		res, err := Import(r.Context(), s.st, r.Body, r.URL.Query().Get("format"))
		if err != nil {
			adminError(w, err)
			return
		}
		s.log.Info("registry imported", "beneficiaries", res.Beneficiaries, "doses", res.Doses)
		writeJSON(w, 200, res)
	})
	mux.HandleFunc("POST /clients", func(w http.ResponseWriter, r *http.Request) {
		var req AddClientRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			adminError(w, err)
			return
		}
		key, err := AddClient(r.Context(), s.st, req.ID, req.Name, req.Origins, s.cfg.Now())
		if err != nil {
			adminError(w, err)
			return
		}
		s.log.Info("client added", "client", req.ID)
		writeJSON(w, 200, AddClientResponse{ID: req.ID, APIKey: key})
	})
	mux.HandleFunc("POST /keys/rotate", func(w http.ResponseWriter, r *http.Request) {
		kid, from, err := Rotate(r.Context(), s.st, s.cfg.Now(), s.cfg.Schedule())
		if err == nil {
			err = s.keys.Refresh(r.Context(), s.cfg.Now())
		}
		if err != nil {
			adminError(w, err)
			return
		}
		s.log.Info("key staged", "kid", kid, "active_from", from)
		writeJSON(w, 200, RotateResponse{KID: kid, ActiveFrom: from.UTC()})
	})
	mux.HandleFunc("POST /log-level", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Level string }
		if s.cfg.LogLevel == nil {
			adminError(w, errors.New("this server's log level is fixed"))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			adminError(w, err)
			return
		}
		if err := s.cfg.LogLevel.UnmarshalText([]byte(req.Level)); err != nil {
			adminError(w, err)
			return
		}
		s.log.Warn("log level changed", "level", s.cfg.LogLevel.Level().String())
		writeJSON(w, 200, map[string]string{"level": s.cfg.LogLevel.Level().String()})
	})
	return mux
}

// SetLogLevel changes a running server's log level (debug, info, warn,
// error).
func (a *Admin) SetLogLevel(level string) error {
	b, _ := json.Marshal(map[string]string{"level": level})
	var res map[string]string
	return a.do("/log-level", "application/json", strings.NewReader(string(b)), &res)
}

func adminError(w http.ResponseWriter, err error) {
	writeJSON(w, 422, map[string]string{"error": err.Error()})
}

// AddClientRequest is the admin socket's client registration.
type AddClientRequest struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Origins []string `json:"origins"`
}

// AddClientResponse carries the new API key, shown once.
type AddClientResponse struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// RotateResponse says which key was staged and when it starts signing.
type RotateResponse struct {
	KID        string    `json:"kid"`
	ActiveFrom time.Time `json:"active_from"`
}

// ListenAdmin listens on the admin socket in dir, replacing a stale one.
func ListenAdmin(dir string) (net.Listener, error) {
	p := filepath.Join(dir, AdminSocket)
	os.Remove(p)
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(p, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// ErrNoServer means no server answers on the admin socket.
var ErrNoServer = errors.New("no running server on the admin socket")

// Admin is a client of a running server's admin socket.
type Admin struct{ c *http.Client }

// DialAdmin returns an admin client if a server answers on dir's socket,
// or ErrNoServer.
func DialAdmin(dir string) (*Admin, error) {
	p := filepath.Join(dir, AdminSocket)
	conn, err := net.DialTimeout("unix", p, time.Second)
	if err != nil {
		return nil, ErrNoServer
	}
	conn.Close()
	return &Admin{c: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", p)
		},
	}}}, nil
}

func (a *Admin) do(path, contentType string, body io.Reader, out any) error {
	resp, err := a.c.Post("http://admin"+path, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("admin: %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, out)
}

// Import sends an import file to the server.
func (a *Admin) Import(r io.Reader, format string) (*ImportResult, error) {
	var res ImportResult
	return &res, a.do("/import?format="+format, "application/octet-stream", r, &res)
}

// AddClient registers a client through the server.
func (a *Admin) AddClient(req AddClientRequest) (*AddClientResponse, error) {
	b, _ := json.Marshal(req)
	var res AddClientResponse
	return &res, a.do("/clients", "application/json", strings.NewReader(string(b)), &res)
}

// Rotate stages a new key through the server.
func (a *Admin) Rotate() (*RotateResponse, error) {
	var res RotateResponse
	return &res, a.do("/keys/rotate", "application/json", strings.NewReader("{}"), &res)
}

// OpenPostgres opens the PostgreSQL store. It is set by the PostgreSQL
// engine's package when it is linked into the binary; nil means this binary
// has none.
var OpenPostgres func(ctx context.Context, url string) (store.Store, error)

// ErrNoPostgres is returned when --postgres is given to a binary without
// the PostgreSQL store.
var ErrNoPostgres = errors.New("--postgres: this kycvs binary has no PostgreSQL store yet (issue 8); use the embedded store (--data)")
