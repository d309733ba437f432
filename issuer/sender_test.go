package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWebhookSender(t *testing.T) {
	var calls atomic.Int32
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		var b struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.To != "+919876543210" || b.Text != "hello" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %+v %v", b, err)
		}
		switch s := status.Load(); {
		case s == 0 && n < 3:
			w.WriteHeader(503) // two failures, then success
		case s == 0:
		case s == 1:
			time.Sleep(300 * time.Millisecond) // slower than the timeout
		default:
			w.WriteHeader(int(s))
		}
	}))
	defer srv.Close()
	ws := &WebhookSender{URL: srv.URL, Timeout: 100 * time.Millisecond, Backoff: time.Millisecond}
	ctx := context.Background()
	if err := ws.Send(ctx, "+919876543210", "hello"); err != nil || calls.Load() != 3 {
		t.Fatalf("retries: %v after %d calls", err, calls.Load())
	}
	calls.Store(0)
	status.Store(400)
	if err := ws.Send(ctx, "+919876543210", "hello"); err == nil || calls.Load() != 1 {
		t.Fatalf("4xx: %v after %d calls (no retry expected)", err, calls.Load())
	}
	calls.Store(0)
	status.Store(1)
	// Each call is cut by the sender's timeout (not waited out): the error
	// says so, after exactly 3 calls. (Structure, not a clock.)
	err := ws.Send(ctx, "+919876543210", "hello")
	var ne interface{ Timeout() bool }
	if err == nil || calls.Load() != 3 || !(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("timeouts: %v after %d calls", err, calls.Load())
	}
}

func TestInbox(t *testing.T) {
	in := &Inbox{Max: 2}
	for _, s := range []string{"a", "b", "c"} {
		in.Send(context.Background(), "+91", s)
	}
	m := in.Messages()
	if len(m) != 2 || m[0].Text != "c" || m[1].Text != "b" {
		t.Fatalf("%+v", m)
	}
}

// TestWebhookErrorRedacted: a failing webhook's error, which the issuer
// logs, names the URL without its user info or query string.
func TestWebhookErrorRedacted(t *testing.T) {
	s := &WebhookSender{URL: "http://user:pa55@127.0.0.1:1/send?key=S3CRET#frag", Retries: -1}
	err := s.Send(context.Background(), "+919876543210", "x")
	if err == nil || strings.Contains(err.Error(), "S3CRET") || strings.Contains(err.Error(), "pa55") || !strings.Contains(err.Error(), "127.0.0.1:1/send") {
		t.Fatalf("%v", err)
	}
	if got := Redact("https://u:p@gw.example/a/b?x=1"); got != "https://gw.example/a/b" {
		t.Fatal(got)
	}
}
