package gate

import (
	"container/heap"
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// ReplayStore remembers the ids (jti) of the tokens a gate admitted, so that
// each token works once. Implementations shared by several processes (a
// database, a Durable Object) make a token work once across all of them.
type ReplayStore interface {
	// Admit records jti until the time until and reports whether it was
	// new: false means a token with this jti was admitted before and has
	// not expired since. An error means the store cannot tell; the gate
	// then refuses the request (503 ERR_UNAVAILABLE), it never admits
	// blind.
	Admit(ctx context.Context, jti string, until time.Time) (bool, error)
}

// DefaultReplayEntries is the capacity of the MemoryReplay a gate makes
// for itself: at 5-minute tokens, about 330 admissions a second.
const DefaultReplayEntries = 100_000

// ErrReplayFull is MemoryReplay's answer when it holds its maximum of
// unexpired tokens: it refuses new ones (the gate answers 503) rather than
// forget one that could then be replayed.
var ErrReplayFull = errors.New("the replay store is full of unexpired tokens")

// MemoryReplay is a ReplayStore in this process's memory, bounded: it holds
// at most max unexpired tokens, each in a few dozen bytes whatever its jti's
// length, and forgets a token once it has expired. It is safe for
// concurrent use.
type MemoryReplay struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	seed maphash.Seed
	seen map[uint64]int64 // jti's hash -> until, Unix seconds
	q    expiries
}

// NewMemoryReplay returns a MemoryReplay of at most capacity tokens (at least
// 1), with the clock now (nil: time.Now).
func NewMemoryReplay(capacity int, now func() time.Time) *MemoryReplay {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{max: max(capacity, 1), now: now, seed: maphash.MakeSeed(), seen: map[uint64]int64{}}
}

// Admit implements ReplayStore. A jti is kept as a 64-bit keyed hash (the
// key is this process's secret and the jti the issuer's random value, so
// no one can make two tokens collide on purpose).
func (m *MemoryReplay) Admit(_ context.Context, jti string, until time.Time) (bool, error) {
	now := m.now().Unix()
	k := maphash.String(m.seed, jti)
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.q) > 0 && m.q[0].until < now {
		e := heap.Pop(&m.q).(expiry)
		if m.seen[e.key] == e.until {
			delete(m.seen, e.key)
		}
	}
	if u, ok := m.seen[k]; ok && u >= now {
		return false, nil
	}
	if len(m.seen) >= m.max {
		return false, ErrReplayFull
	}
	m.seen[k] = until.Unix()
	heap.Push(&m.q, expiry{until.Unix(), k})
	return true, nil
}

// Len returns the number of tokens held (expired ones not yet forgotten
// included).
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

type expiry struct {
	until int64
	key   uint64
}

// expiries is a min-heap of expiry by until.
type expiries []expiry

func (h expiries) Len() int           { return len(h) }
func (h expiries) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiries) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiries) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiries) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
