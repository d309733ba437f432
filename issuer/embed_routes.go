package issuer

import (
	"context"
	"net/http"
	"time"

	"github.com/kycvs/kycvs/issuer/embed"
	"github.com/kycvs/kycvs/issuer/store"
)

// registerEmbed adds the embeddable page (package embed) to mux, on top of
// the same flow as the native API.
func (s *Server) registerEmbed(mux *http.ServeMux) {
	resend := s.cfg.ResendCooldown
	if resend < 0 {
		resend = 0
	}
	embed.Register(mux, embed.Deps{
		Client: s.st.Client,
		StartOTP: func(ctx context.Context, c *store.Client, mobile, name, nonce, ip, lang string) (string, int, error) {
			st, err := s.StartOTP(ctx, c, mobile, name, nonce, APIEmbed, ip, lang)
			if err != nil {
				return "", 0, err
			}
			return st.Txn, st.ExpiresIn, nil
		},
		Verify: func(ctx context.Context, c *store.Client, txn string, otpSHA []byte, ip string) error {
			return s.Verify(ctx, c, APIEmbed, ip, txn, otpSHA)
		},
		Confirm: func(ctx context.Context, c *store.Client, txn string, otpSHA []byte, ip string) (string, error) {
			t, _, err := s.Confirm(ctx, c, APIEmbed, ip, txn, otpSHA, true)
			if err != nil {
				return "", err
			}
			return t.Token, nil
		},
		Problem:     writeError,
		Secret:      s.secret,
		ResendAfter: resend,
		TokenTTL:    s.cfg.TokenTTL,
		Now:         func() time.Time { return s.cfg.Now() },
		Log:         s.log,
	})
}
