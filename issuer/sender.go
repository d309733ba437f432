package issuer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Sender delivers a text message (an OTP or a disclosure receipt) to a
// mobile number given in E.164 form (+91XXXXXXXXXX).
type Sender interface {
	Send(ctx context.Context, to, text string) error
}

// LogSender writes messages to the log. It is for development only: OTPs
// end up in the log.
type LogSender struct{ Log *slog.Logger }

// Send implements Sender.
func (s LogSender) Send(ctx context.Context, to, text string) error {
	s.Log.Warn("sms (log sender, development only)", "to", to, "text", text)
	return nil
}

// WebhookSender POSTs {"to","text"} as JSON to URL; a 2xx answer is a
// delivery. Failures (network errors, 5xx, 429) are retried with exponential
// back-off, at most Retries times, each try bounded by Timeout.
type WebhookSender struct {
	URL     string
	Client  *http.Client
	Timeout time.Duration // per try; default 5s
	Retries int           // extra tries after the first; default 2
	Backoff time.Duration // first back-off; default 200ms, doubled each time
}

type webhookBody struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Send implements Sender.
func (s *WebhookSender) Send(ctx context.Context, to, text string) error {
	body, _ := json.Marshal(webhookBody{To: to, Text: text})
	timeout, retries, backoff := s.Timeout, s.Retries, s.Backoff
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if retries < 0 {
		retries = 0
	} else if retries == 0 {
		retries = 2
	}
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	var last error
	for try := 0; try <= retries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("webhook: %w (last error: %v)", ctx.Err(), last)
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		retry, err := s.once(ctx, client, timeout, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

func (s *WebhookSender) once(ctx context.Context, client *http.Client, timeout time.Duration, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook %s: bad URL", Redact(s.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error names the URL, credentials and all: keep its cause
		// and say the URL without them.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, Redact(ue.URL), ue.Err)
		}
		return true, fmt.Errorf("webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == 429 || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook: %s", resp.Status)
	default:
		return false, fmt.Errorf("webhook: %s", resp.Status)
	}
}

// Redact returns a URL fit for a log: without user info, query and
// fragment, where gateways put their credentials.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// InboxMessage is one message kept by an Inbox.
type InboxMessage struct {
	To   string    `json:"to"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// Inbox is a Sender that keeps the last messages in memory (for --demo,
// served at /demo/inbox), and passes them on to Next when set.
type Inbox struct {
	Next Sender
	Max  int

	mu   sync.Mutex
	msgs []InboxMessage
}

// Send implements Sender.
func (in *Inbox) Send(ctx context.Context, to, text string) error {
	in.mu.Lock()
	max := in.Max
	if max <= 0 {
		max = 50
	}
	in.msgs = append(in.msgs, InboxMessage{To: to, Text: text, Time: time.Now().UTC()})
	if len(in.msgs) > max {
		in.msgs = append([]InboxMessage(nil), in.msgs[len(in.msgs)-max:]...)
	}
	in.mu.Unlock()
	if in.Next != nil {
		return in.Next.Send(ctx, to, text)
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (in *Inbox) Messages() []InboxMessage {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]InboxMessage, len(in.msgs))
	for i, m := range in.msgs {
		out[len(out)-1-i] = m
	}
	return out
}
