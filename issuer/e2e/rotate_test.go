package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// cachingJWKS fetches the JWKS the way a client would: it keeps it for
// the Cache-Control max-age, then fetches it again.
type cachingJWKS struct {
	url     string
	mu      sync.Mutex
	ks      *kycvs.KeySet
	expires time.Time
	fetches int
}

var maxAgeRE = regexp.MustCompile(`max-age=(\d+)`)

func (c *cachingJWKS) get() (*kycvs.KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ks != nil && time.Now().Before(c.expires) {
		return c.ks, nil
	}
	fetched := time.Now()
	resp, err := http.Get(c.url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	m := maxAgeRE.FindStringSubmatch(resp.Header.Get("Cache-Control"))
	if m == nil {
		return nil, fmt.Errorf("no max-age in %q", resp.Header.Get("Cache-Control"))
	}
	age, _ := strconv.Atoi(m[1])
	ks, err := kycvs.ParseKeySet(body)
	if err != nil {
		return nil, err
	}
	// Measured from before the request, as a careful client does.
	c.ks, c.expires, c.fetches = ks, fetched.Add(time.Duration(age)*time.Second), c.fetches+1
	return ks, nil
}

// TestRotationUnderLoad issues tokens continuously while keys rotate three
// times; each token is verified at once against a JWKS cached per its
// max-age. None may fail.
func TestRotationUnderLoad(t *testing.T) {
	in := newInbox(t)
	s := startServer(t, "", in, "--jwks-max-age", "2s", "--otp-per-day", "100000", "--rate-client", "-1")
	key := s.addClient(t, "rail")
	cache := &cachingJWKS{url: s.url + "/.well-known/jwks.json"}

	var (
		stop     atomic.Bool
		issued   atomic.Int64
		failures atomic.Int64
		kidsMu   sync.Mutex
		kids     = map[string]int{}
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				mobile := fmt.Sprintf("7%d%08d", w, i)
				nonce := fmt.Sprintf("rotation-%d-%d", w, i)
				tok, _ := s.flow(t, key, mobile, "Some One", nonce, 0)
				ks, err := cache.get()
				if err == nil {
					var v *kycvs.Verifier
					v, err = kycvs.NewVerifier(ks, issuerID, "rail")
					if err == nil {
						var got *kycvs.Token
						got, err = v.Verify(tok, nonce)
						if err == nil {
							kidsMu.Lock()
							kids[got.KeyID]++
							kidsMu.Unlock()
						}
					}
				}
				issued.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("token %d/%d: %v", w, i, err)
				}
			}
		}()
	}
	for r := 0; r < 3; r++ {
		time.Sleep(500 * time.Millisecond)
		out, errs, code := kycvsCmd(t, "keys", "rotate", "--data", s.data)
		if code != 0 {
			t.Fatalf("keys rotate: %d %s", code, errs)
		}
		t.Logf("rotation %d: %s", r+1, strings.TrimSpace(out))
		// Rotating again while a key is staged is refused.
		if r == 0 {
			if _, errs, code := kycvsCmd(t, "keys", "rotate", "--data", s.data); code != 1 || !strings.Contains(errs, "staged") {
				t.Errorf("second rotation while staged: %d %q", code, errs)
			}
		}
		time.Sleep(4500 * time.Millisecond) // the staged key becomes active (2 s + 2 s refresh margin)
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d tokens, %d failures, %d JWKS fetches, tokens per kid: %v", issued.Load(), failures.Load(), cache.fetches, kids)
	if len(kids) != 4 {
		t.Errorf("tokens were signed by %d keys, want 4", len(kids))
	}
	// Every retired key is still published (tokens may still be live).
	ks, _ := kycvs.ParseKeySet(s.jwks(t))
	if len(ks.KeyIDs()) != 4 {
		t.Errorf("JWKS has %d keys, want 4", len(ks.KeyIDs()))
	}
}
