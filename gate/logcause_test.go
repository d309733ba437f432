package gate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

// TestLogCause: a refusal code's cause is written at most once per
// CauseLogInterval, on LogCause's own clock, however its text varies (a
// stranger can alternate two causes), with the count of those not written;
// another code has its own interval.
func TestLogCause(t *testing.T) {
	var logs []string
	now := time.Unix(1_700_000_000, 0)
	g := &Gate{cfg: Config{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }},
		logged: map[kycvs.Code]*causeLog{}, logNow: func() time.Time { return now }}
	stale := func(i int) *Refusal {
		return &Refusal{Code: kycvs.CodeJWKSStale, Cause: fmt.Errorf("fetch %d failed", i%2)}
	}
	for i := range 100 {
		g.LogCause(stale(i))
		now = now.Add(time.Second / 10)
	}
	if len(logs) != 1 || logs[0] != "kycvs gate: ERR_JWKS_STALE: fetch 0 failed" {
		t.Fatalf("100 refusals in 10 s, alternating causes: %q", logs)
	}
	g.LogCause(&Refusal{Code: kycvs.CodeUnavailable, Cause: errors.New("store down")})
	if len(logs) != 2 || !strings.HasSuffix(logs[1], "ERR_UNAVAILABLE: store down") {
		t.Fatalf("another code: %q", logs)
	}
	now = now.Add(CauseLogInterval)
	g.LogCause(stale(1))
	if len(logs) != 3 || logs[2] != "kycvs gate: ERR_JWKS_STALE: fetch 1 failed (and 99 more refusals with ERR_JWKS_STALE since its last line)" {
		t.Fatalf("after the interval: %q", logs)
	}
	g.LogCause(&Refusal{Code: kycvs.CodeJWKSStale}) // no cause: nothing to write
	g.LogCause(nil)
	if len(logs) != 3 {
		t.Fatalf("without a cause: %q", logs)
	}
}
