package gate_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// TestTokenWorksOnce: by default a token is admitted once; again, it is 409
// ERR_REPLAY and never reaches the app. AllowReplay opts out by name.
func TestTokenWorksOnce(t *testing.T) {
	s, srv, seen := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated})
	tok := sign(t, s, 2)
	h := map[string]string{"Authorization": "KYCVS " + tok}
	if res, _ := get(t, srv, "POST", "/book", h); res.StatusCode != 200 {
		t.Fatalf("first use: %d", res.StatusCode)
	}
	for _, again := range []map[string]string{h, {"Cookie": "kycvs=" + tok}} {
		res, p := get(t, srv, "POST", "/book", again)
		if res.StatusCode != 409 || p["code"] != string(kycvs.CodeReplay) {
			t.Fatalf("second use: %d %v", res.StatusCode, p)
		}
	}
	if len(*seen) != 1 {
		t.Fatalf("the app saw %d requests, want 1", len(*seen))
	}
	// A refused token (status too low) is not remembered: it is not admitted.
	low := sign(t, s, 1)
	for range 2 {
		if res, p := get(t, srv, "POST", "/book", map[string]string{"Authorization": "KYCVS " + low}); res.StatusCode != 403 {
			t.Fatalf("low status: %d %v", res.StatusCode, p)
		}
	}

	s2, srv2, seen2 := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated, AllowReplay: true})
	tok2 := sign(t, s2, 2)
	for range 3 {
		if res, _ := get(t, srv2, "POST", "/book", map[string]string{"Authorization": "KYCVS " + tok2}); res.StatusCode != 200 {
			t.Fatalf("AllowReplay: %d", res.StatusCode)
		}
	}
	if len(*seen2) != 3 {
		t.Fatalf("AllowReplay: the app saw %d requests", len(*seen2))
	}
}

// TestNonceHook: where the gate is told the transaction's nonce, another
// nonce is 401 ERR_NONCE, checked before the replay store, so the genuine
// request still works once; no transaction at all is refused the same way.
// The verified nonce reaches the app in NonceHeader, a client's copy never.
func TestNonceHook(t *testing.T) {
	nonces := map[string]string{"/book/1": "nonce-abcdef", "/book/2": "nonce-other"}
	s, srv, seen := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated,
		Nonce: func(r *http.Request) string { return nonces[r.URL.Path] }})
	tok := sign(t, s, 2) // nonce-abcdef
	h := map[string]string{"Authorization": "KYCVS " + tok, gate.NonceHeader: "forged"}
	for _, c := range []struct {
		path   string
		status int
		code   kycvs.Code
	}{
		{"/book/2", 401, kycvs.CodeNonce},
		{"/book/3", 401, kycvs.CodeNonce},
		{"/book/1", 200, ""},
		{"/book/1", 409, kycvs.CodeReplay},
		{"/book/2", 401, kycvs.CodeNonce},
	} {
		res, p := get(t, srv, "POST", c.path, h)
		if res.StatusCode != c.status || (c.code != "" && p["code"] != string(c.code)) {
			t.Fatalf("%s: %d %v, want %d %s", c.path, res.StatusCode, p, c.status, c.code)
		}
	}
	if len(*seen) != 1 || (*seen)[0].Header.Values(gate.NonceHeader)[0] != "nonce-abcdef" || len((*seen)[0].Header.Values(gate.NonceHeader)) != 1 {
		t.Fatalf("the app saw %d requests, nonce header %v", len(*seen), (*seen)[0].Header.Values(gate.NonceHeader))
	}
}

// TestMemoryReplayBounds: at most its capacity of unexpired tokens, then
// ErrReplayFull (the gate answers 503, it never forgets a live token); an
// expired token is forgotten and makes room.
func TestMemoryReplayBounds(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := gate.NewMemoryReplay(3, func() time.Time { return now })
	ctx := context.Background()
	for i, jti := range []string{"a", "b", "c"} {
		if ok, err := m.Admit(ctx, jti, now.Add(time.Duration(i+1)*time.Minute)); !ok || err != nil {
			t.Fatalf("%s: %v %v", jti, ok, err)
		}
	}
	if ok, err := m.Admit(ctx, "a", now.Add(time.Hour)); ok || err != nil {
		t.Fatalf("a again: %v %v", ok, err)
	}
	if _, err := m.Admit(ctx, "d", now.Add(time.Hour)); !errors.Is(err, gate.ErrReplayFull) {
		t.Fatalf("a fourth live token: %v", err)
	}
	now = now.Add(61 * time.Second) // a has expired
	if ok, err := m.Admit(ctx, "d", now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("d after a expired: %v %v", ok, err)
	}
	if m.Len() != 3 {
		t.Fatalf("holds %d, want 3", m.Len())
	}
	if ok, _ := m.Admit(ctx, "b", now.Add(time.Hour)); ok {
		t.Fatal("b is still live")
	}
	// A very long jti costs no more than a short one.
	now = now.Add(2 * time.Hour)
	if ok, err := m.Admit(ctx, string(make([]byte, 4096)), now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("long jti: %v %v", ok, err)
	}
	if m.Len() != 1 {
		t.Fatalf("after everything expired: holds %d, want 1", m.Len())
	}
}

// TestReplayStoreFullFailsClosed: a store that cannot tell refuses with
// 503 ERR_UNAVAILABLE; the request never reaches the app.
func TestReplayStoreFullFailsClosed(t *testing.T) {
	s, srv, seen := setup(t, gate.Config{MinStatus: kycvs.FullyVaccinated, Replay: gate.NewMemoryReplay(1, nil)})
	if res, _ := get(t, srv, "GET", "/", map[string]string{"Authorization": "KYCVS " + sign(t, s, 2)}); res.StatusCode != 200 {
		t.Fatalf("first: %d", res.StatusCode)
	}
	res, p := get(t, srv, "GET", "/", map[string]string{"Authorization": "KYCVS " + sign(t, s, 2)})
	if res.StatusCode != 503 || p["code"] != string(kycvs.CodeUnavailable) || len(*seen) != 1 {
		t.Fatalf("full store: %d %v, app saw %d", res.StatusCode, p, len(*seen))
	}
}
