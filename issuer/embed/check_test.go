package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkServer is an embed handler whose log is kept, with one client.
func checkServer(t *testing.T) (*httptest.Server, *syncBuffer) {
	t.Helper()
	var logs syncBuffer
	mux := http.NewServeMux()
	Register(mux, Deps{
		Client: func(ctx context.Context, id string) (*store.Client, error) {
			switch id {
			case "rail":
				return &store.Client{ID: "rail", Name: "Rail Co", Origins: []string{"https://rail.example"}}, nil
			case "broken":
				return nil, fmt.Errorf("disk on fire")
			}
			return nil, fmt.Errorf("client %s: %w", id, store.ErrNotFound)
		},
		Secret: []byte("secret"), TokenTTL: 5 * time.Minute,
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &logs
}

func TestCheck(t *testing.T) {
	srv, _ := checkServer(t)
	for _, tc := range []struct {
		query  string
		status int
		code   string
	}{
		{"client_id=rail&origin=https://rail.example", 200, ""},
		{"client_id=rail&origin=https://evil.example", 403, "ERR_ORIGIN"},
		{"client_id=rail&origin=https://rail.example:8443", 403, "ERR_ORIGIN"},
		{"client_id=nobody&origin=https://rail.example", 404, "ERR_CLIENT_UNKNOWN"},
		{"client_id=broken&origin=https://rail.example", 503, "ERR_UNAVAILABLE"},
		{"client_id=rail", 400, "ERR_BAD_REQUEST"},
		{"origin=https://rail.example", 400, "ERR_BAD_REQUEST"},
		{"client_id=" + strings.Repeat("a", 65) + "&origin=https://rail.example", 400, "ERR_BAD_REQUEST"},
		{"client_id=rail&origin=https://" + strings.Repeat("a", 300) + ".example", 400, "ERR_BAD_REQUEST"},
	} {
		res, body := get(t, srv.URL+"/embed/check?"+tc.query, "Origin", "https://anywhere.example")
		if res.StatusCode != tc.status || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: %d (CORS %q), want %d", tc.query, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tc.status)
			continue
		}
		var got struct{ Code, ClientID, ClientName string }
		json.Unmarshal([]byte(body), &got)
		if tc.code != "" && got.Code != tc.code {
			t.Errorf("%s: code %q, want %q (%s)", tc.query, got.Code, tc.code, body)
		}
		if tc.status == 200 && !strings.Contains(body, `"client_name":"Rail Co"`) {
			t.Errorf("%s: body %s", tc.query, body)
		}
	}
}

// A refused origin is logged once, whether the check or the page refuses
// it; another origin gets its own line; the memory of logged pairs is
// bounded.
func TestRefusedOriginLoggedOnce(t *testing.T) {
	srv, logs := checkServer(t)
	lines := func(origin string) int {
		n := 0
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "origin not registered") && strings.Contains(l, `"origin":"`+origin+`"`) {
				n++
			}
		}
		return n
	}
	for i := 0; i < 3; i++ {
		get(t, srv.URL+"/embed/check?client_id=rail&origin=https://evil.example")
		get(t, srv.URL+"/embed?client_id=rail&nonce=nonce-1234&origin=https://evil.example")
	}
	if n := lines("https://evil.example"); n != 1 {
		t.Fatalf("refused origin logged %d times, want once:\n%s", n, logs.String())
	}
	get(t, srv.URL+"/embed?client_id=rail&nonce=nonce-1234&origin=http://localhost:8080")
	if n := lines("http://localhost:8080"); n != 1 {
		t.Fatalf("a second refused origin logged %d times, want once", n)
	}
	get(t, srv.URL+"/embed/check?client_id=rail&origin=https://rail.example")
	if strings.Count(logs.String(), "origin not registered") != 2 {
		t.Fatalf("a registered origin was logged as refused:\n%s", logs.String())
	}
	for i := 0; i < maxRefusedLogged+10; i++ {
		get(t, fmt.Sprintf("%s/embed/check?client_id=rail&origin=https://o%d.example", srv.URL, i))
	}
	if n := strings.Count(logs.String(), "origin not registered"); n != maxRefusedLogged {
		t.Fatalf("%d refusals logged, want the bound %d", n, maxRefusedLogged)
	}
}
