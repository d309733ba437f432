package issuer

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
	"github.com/kycvs/kycvs/issuer/store"
)

// ErrStaged is returned by Rotate when a staged key is not active yet.
var ErrStaged = errors.New("a staged key is not active yet; rotate again after it is")

// KeyRefresh is how often a running issuer reloads its keys from the store;
// a staged key waits this long on top of the JWKS cache lifetime, so that
// every replica publishes it before any signs with it.
const KeyRefresh = 2 * time.Second

// KeySchedule holds the durations that decide when keys are published,
// used and removed.
type KeySchedule struct {
	CacheLifetime time.Duration // the JWKS Cache-Control max-age
	TokenLifetime time.Duration // exp - iat of issued tokens
	Leeway        time.Duration // verifiers' clock leeway
}

// EnsureKey creates the first signing key if the store holds none.
func EnsureKey(ctx context.Context, st store.Store, now time.Time) error {
	ks, err := st.SigningKeys(ctx)
	if err != nil || len(ks) > 0 {
		return err
	}
	s, err := kycvs.GenerateSigner()
	if err != nil {
		return err
	}
	jwk, err := s.MarshalPrivateJWK()
	if err != nil {
		return err
	}
	_, err = st.AddSigningKey(ctx, store.SigningKey{KID: s.KeyID(), PrivateJWK: jwk, Created: now.Unix(), ActiveFrom: now.Unix()})
	return err
}

// signing returns the index of the key that signs at now, or -1.
func signing(ks []store.SigningKey, now int64) int {
	best := -1
	for i, k := range ks {
		if k.ActiveFrom <= now && (k.RetireAt == 0 || now < k.RetireAt) {
			if best < 0 || k.ActiveFrom > ks[best].ActiveFrom {
				best = i
			}
		}
	}
	return best
}

// Rotate stages a new key: published now, signing from now + CacheLifetime
// + KeyRefresh (so every verifier that caches the JWKS has seen it before its first
// token); the key signing now retires at that moment and stays published
// until every token it signed has expired, plus leeway, plus one cache
// lifetime. It returns the new key's kid and when it starts signing.
func Rotate(ctx context.Context, st store.Store, now time.Time, sch KeySchedule) (string, time.Time, error) {
	s, err := kycvs.GenerateSigner()
	if err != nil {
		return "", time.Time{}, err
	}
	jwk, err := s.MarshalPrivateJWK()
	if err != nil {
		return "", time.Time{}, err
	}
	t := now.Unix()
	// Round up: the key must not sign before now + CacheLifetime +
	// KeyRefresh (the time other replicas take to publish it).
	wait := sch.CacheLifetime + KeyRefresh
	activeFrom := t + int64(wait/time.Second)
	if wait%time.Second != 0 || now.Nanosecond() != 0 {
		activeFrom++
	}
	err = st.RotateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) {
		for _, k := range ks {
			if k.ActiveFrom > t {
				return nil, fmt.Errorf("%w (%s from %s)", ErrStaged, k.KID, time.Unix(k.ActiveFrom, 0).UTC().Format(time.RFC3339))
			}
		}
		out := []store.SigningKey{{KID: s.KeyID(), PrivateJWK: jwk, Created: t, ActiveFrom: activeFrom}}
		if i := signing(ks, t); i >= 0 {
			old := ks[i]
			old.RetireAt = activeFrom
			old.RemoveAt = activeFrom + int64((sch.TokenLifetime+sch.Leeway+sch.CacheLifetime+time.Second-1)/time.Second)
			out = append(out, old)
		}
		return out, nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return s.KeyID(), time.Unix(activeFrom, 0), nil
}

// KeyRing is the issuer's in-memory view of its keys: the signer to use now
// and the JWKS to publish. Refresh reloads it from the store (other
// processes may rotate).
type KeyRing struct {
	st store.Store

	mu      sync.RWMutex
	keys    []store.SigningKey
	signers map[string]*kycvs.Signer
	jwks    []byte
	etag    string
	kids    string // published kids, to notice changes
}

// NewKeyRing loads the keys from st.
func NewKeyRing(ctx context.Context, st store.Store, now time.Time) (*KeyRing, error) {
	kr := &KeyRing{st: st, signers: map[string]*kycvs.Signer{}}
	return kr, kr.Refresh(ctx, now)
}

// Refresh reloads keys from the store, deletes keys past RemoveAt, and
// rebuilds the JWKS.
func (kr *KeyRing) Refresh(ctx context.Context, now time.Time) error {
	ks, err := kr.st.SigningKeys(ctx)
	if err != nil {
		return err
	}
	t := now.Unix()
	var live []store.SigningKey
	for _, k := range ks {
		if k.RemoveAt != 0 && t >= k.RemoveAt {
			if err := kr.st.DeleteSigningKey(ctx, k.KID); err != nil {
				return err
			}
			continue
		}
		live = append(live, k)
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	signers := map[string]*kycvs.Signer{}
	var pubs []ed25519.PublicKey
	kids := ""
	for _, k := range live {
		s := kr.signers[k.KID]
		if s == nil {
			s, err = kycvs.ParseSigner(k.PrivateJWK)
			if err != nil {
				return fmt.Errorf("key %s: %w", k.KID, err)
			}
			if s.KeyID() != k.KID {
				return fmt.Errorf("key %s: its thumbprint is %s", k.KID, s.KeyID())
			}
		}
		signers[k.KID] = s
		pubs = append(pubs, s.PublicKey())
		kids += k.KID + ","
	}
	kr.keys, kr.signers = live, signers
	if kids != kr.kids || kr.jwks == nil {
		jwks, err := kycvs.PublicJWKS(pubs...)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(jwks)
		kr.jwks, kr.etag, kr.kids = jwks, `"`+b64.Encode(sum[:16])+`"`, kids
	}
	return nil
}

// Signer returns the signer for tokens issued at now.
func (kr *KeyRing) Signer(now time.Time) (*kycvs.Signer, error) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	i := signing(kr.keys, now.Unix())
	if i < 0 {
		return nil, errors.New("no signing key is active")
	}
	return kr.signers[kr.keys[i].KID], nil
}

// JWKS returns the published key set and its ETag.
func (kr *KeyRing) JWKS() ([]byte, string) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.jwks, kr.etag
}
