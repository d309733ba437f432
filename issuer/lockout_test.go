package issuer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

// TestNoSourceLocksOthersOut runs the attack of the review on the real
// flow with a fake clock: one embed-page address, and then a thousand
// addresses (an IPv6 block has millions of /64s), ask for an OTP to one
// number every minute for a day. The verifying entity's API call, asked
// every half hour, must get exactly the OTPs it gets with no attacker at
// all (its own allowance is the only limit it meets), and another address
// must still get through. Counted, not timed.
func TestNoSourceLocksOthersOut(t *testing.T) {
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(1_900_000_000)
	st := openStore(t)
	srv, err := New(ctx, Config{Issuer: "https://issuer.test", Store: st, Sender: &Inbox{}, ResendCooldown: -1,
		Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Client{ID: "rail", Name: "Rail", KeyHash: make([]byte, 32)}
	st.PutClient(ctx, *c)
	const mobile = "9876543210"
	try := func(api, ip string) bool {
		_, err := srv.StartOTP(ctx, c, mobile, "X", "", api, ip, "en")
		return err == nil
	}
	day := func(addrs int) (attacker, entity int) {
		for m := range 24 * 60 {
			if addrs > 0 && try(APIEmbed, fmt.Sprintf("2001:db8:%x::1", m%addrs)) {
				attacker++
			}
			if m%30 == 15 && try(APINative, "") {
				entity++
			}
			clock.Add(60)
		}
		clock.Add(3 * 86400) // every allowance recovers fully before the next day
		return
	}
	_, alone := day(0)
	for _, addrs := range []int{1, 1000} {
		attacker, entity := day(addrs)
		t.Logf("%d attacking addresses: they got %d OTPs, the entity %d (alone: %d)", addrs, attacker, entity, alone)
		if entity != alone {
			t.Errorf("%d attacking addresses: the entity got %d OTPs, %d without them", addrs, entity, alone)
		}
	}
	// The person's own browser (another address) gets through while one
	// address keeps trying.
	for range 120 {
		try(APIEmbed, "203.0.113.7")
		clock.Add(60)
	}
	if !try(APIEmbed, "198.51.100.9") {
		t.Error("another address is locked out by one address")
	}
}
