package issuer

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/b64"
	"github.com/kycvs/kycvs/issuer/store"
)

// apiError is a failure of the flow, rendered as problem+json.
type apiError struct {
	Status     int
	Code       kycvs.Code
	Message    string
	TriesLeft  *int
	RetryAfter int64
}

func (e *apiError) Error() string { return string(e.Code) + ": " + e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: 400, Code: kycvs.CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

func unavailable(err error) *apiError {
	return &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "the issuer cannot serve this request now; try again later"}
}

var errTxnUnknown = &apiError{Status: 404, Code: kycvs.CodeTxnUnknown, Message: "unknown or already used transaction"}

// APIs a transaction may start from.
const (
	APINative = "v1"
	APICoWIN  = "cowin"
)

// otpDigest is what the store keeps of an OTP: HMAC(otp key, txn ‖ 0x00 ‖
// SHA-256(otp)). The CoWIN-compatible API sends SHA-256(otp) itself.
func (s *Server) otpDigest(txn string, otpSHA []byte) []byte {
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte(txn))
	m.Write([]byte{0})
	m.Write(otpSHA)
	return m.Sum(nil)
}

func newOTP() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// Started is the answer to an OTP request.
type Started struct {
	Txn       string
	ExpiresIn int
}

// StartOTP is the OTP request of both APIs: it validates the input, takes
// the rate limits, creates the transaction and sends the OTP. It never
// reads the registry, so the answer cannot depend on whether the number is
// registered.
//
// ip is the person's address when the request comes from their browser
// (the embed page), and is then limited to RateIP a minute; API-key callers
// pass "": their calls come from the entity's servers, and the per-client
// limit bounds them (a per-IP limit there would throttle a whole entity).
// Per mobile: one OTP per ResendCooldown, MaxOTPPerDay per 24 h.
func (s *Server) StartOTP(ctx context.Context, c *store.Client, mobile, name, nonce, api, ip string) (*Started, error) {
	m, ok := NormalizeMobile(mobile)
	if !ok {
		return nil, badRequest("mobile: want a 10-digit Indian mobile number")
	}
	if kycvs.NormalizeName(name) == "" || len(name) > 200 {
		return nil, badRequest("name: required, at most 200 bytes")
	}
	if nonce == "" {
		nonce = kycvs.NewNonce()
	} else if !kycvs.ValidNonce(nonce) {
		return nil, badRequest("nonce: want 8-128 characters of [A-Za-z0-9_-]")
	}
	now := s.cfg.Now()
	t := now.Unix()
	otp := newOTP()
	sum := sha256.Sum256([]byte(otp))
	txn := store.Txn{
		ID: kycvs.NewTokenID(), ClientID: c.ID, Mobile: m, Name: name, Nonce: nonce, API: api,
		Created: t, Expires: t + int64(s.cfg.OTPTTL/time.Second), MaxTries: s.cfg.MaxTries,
	}
	txn.OTPDigest = s.otpDigest(txn.ID, sum[:])
	limits := []store.Limit{{Key: "mobile-day:" + m, Max: s.cfg.MaxOTPPerDay, Window: 86400}}
	if s.cfg.ResendCooldown >= time.Second {
		limits = append(limits, store.Limit{Key: "mobile-cooldown:" + m, Max: 1, Window: int64(s.cfg.ResendCooldown / time.Second)})
	}
	if s.cfg.RateClient > 0 {
		limits = append(limits, store.Limit{Key: "client:" + c.ID, Max: s.cfg.RateClient, Window: 60})
	}
	if s.cfg.RateIP > 0 && ip != "" {
		limits = append(limits, store.Limit{Key: "ip:" + ip, Max: s.cfg.RateIP, Window: 60})
	}
	if err := s.st.CreateTxn(ctx, txn, t, limits...); err != nil {
		var rl *store.RateLimitError
		if errors.As(err, &rl) {
			kind, _, _ := strings.Cut(rl.Key, ":")
			s.m.rateLimited.WithLabelValues(kind).Inc()
			return nil, &apiError{Status: 429, Code: kycvs.CodeRateLimited, Message: "too many requests (" + kind + ")", RetryAfter: rl.RetryAfter}
		}
		s.log.Error("create txn", "err", err)
		return nil, unavailable(err)
	}
	text := fmt.Sprintf("%s is your kycvs code to share your COVID-19 vaccination status with %s. It expires in %d minutes. Do not share this code.",
		otp, c.Name, int(s.cfg.OTPTTL/time.Minute))
	if err := s.sender.Send(ctx, "+91"+m, text); err != nil {
		s.m.otpSent.WithLabelValues("failed").Inc()
		s.log.Error("otp delivery failed", "client", c.ID, "err", err)
		return nil, &apiError{Status: 503, Code: kycvs.CodeUnavailable, Message: "the OTP could not be delivered; try again later"}
	}
	s.m.otpSent.WithLabelValues("sent").Inc()
	return &Started{Txn: txn.ID, ExpiresIn: int(txn.Expires - t)}, nil
}

// match returns the beneficiary on the list whose name matches name after
// normalisation (the first by ID if several do), or nil.
func match(bs []store.Beneficiary, name string) *store.Beneficiary {
	n := kycvs.NormalizeName(name)
	var found *store.Beneficiary
	for i := range bs {
		if kycvs.NormalizeName(bs[i].Name) == n && found == nil {
			found = &bs[i]
		}
	}
	return found
}

// Confirm is the OTP confirmation of both APIs: on the right OTP it signs
// the token, and consumes the transaction and logs the disclosure in one
// durable commit before returning it. otpSHA is SHA-256 of the OTP.
func (s *Server) Confirm(ctx context.Context, c *store.Client, txnID string, otpSHA []byte, consent bool) (*store.Txn, string, error) {
	if !consent {
		s.m.confirmations.WithLabelValues("consent_required").Inc()
		return nil, "", &apiError{Status: 400, Code: kycvs.CodeConsentRequired, Message: `the person's consent is required: send "consent": true`}
	}
	t0, err := s.st.Txn(ctx, txnID)
	if err != nil || (c != nil && t0.ClientID != c.ID) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("read txn", "err", err)
			return nil, "", unavailable(err)
		}
		s.m.confirmations.WithLabelValues("txn_unknown").Inc()
		return nil, "", errTxnUnknown
	}
	// The same work whether or not the number is registered.
	bs, err := s.st.Beneficiaries(ctx, t0.Mobile)
	if err != nil {
		s.log.Error("read beneficiaries", "err", err)
		return nil, "", unavailable(err)
	}
	status := kycvs.NotVaccinated
	benID := "unregistered\x00" + t0.Mobile + "\x00" + kycvs.NormalizeName(t0.Name)
	if b := match(bs, t0.Name); b != nil {
		status, benID = StatusOf(b.Doses), b.ID
	}
	now := s.cfg.Now()
	signer, err := s.keys.Signer(now)
	if err != nil {
		s.log.Error("no signing key", "err", err)
		return nil, "", unavailable(err)
	}
	var session string
	issue := func(t *store.Txn) (*store.Issued, error) {
		cl := kycvs.Claims{
			Issuer: s.cfg.Issuer, Subject: kycvs.PairwiseSubject(s.secret, benID, t.ClientID), Audience: t.ClientID,
			IssuedAt: now.Unix(), Expires: now.Unix() + int64(s.cfg.TokenTTL/time.Second),
			ID: kycvs.NewTokenID(), Nonce: t.Nonce, Status: status, NameHash: kycvs.NameHash(t.Nonce, t.Name),
		}
		tok, err := signer.Sign(&cl)
		if err != nil {
			return nil, err
		}
		is := &store.Issued{Token: tok, TokenExpires: cl.Expires, Consent: store.Consent{
			Time: now.Unix(), ClientID: t.ClientID, Subject: cl.Subject, Status: uint8(status), JTI: cl.ID, TxnID: t.ID,
		}}
		if t.API == APICoWIN {
			secret := kycvs.NewTokenID()
			sum := sha256.Sum256([]byte(secret))
			is.SessionDigest = sum[:]
			session = t.ID + "." + secret
		}
		return is, nil
	}
	t, err := s.st.Redeem(ctx, txnID, s.otpDigest(txnID, otpSHA), now.Unix(), issue)
	if err != nil {
		var w *store.WrongOTPError
		switch {
		case errors.As(err, &w):
			s.m.confirmations.WithLabelValues("otp_invalid").Inc()
			left := w.Left
			return nil, "", &apiError{Status: 401, Code: kycvs.CodeOTPInvalid, Message: fmt.Sprintf("wrong OTP, %d tries left", left), TriesLeft: &left}
		case errors.Is(err, store.ErrExpired):
			s.m.confirmations.WithLabelValues("otp_expired").Inc()
			return nil, "", &apiError{Status: 410, Code: kycvs.CodeOTPExpired, Message: "the OTP has expired; request a new one"}
		case errors.Is(err, store.ErrNotFound):
			s.m.confirmations.WithLabelValues("txn_unknown").Inc()
			return nil, "", errTxnUnknown
		}
		s.m.confirmations.WithLabelValues("error").Inc()
		s.log.Error("redeem", "err", err)
		return nil, "", unavailable(err)
	}
	s.m.confirmations.WithLabelValues("ok").Inc()
	s.m.tokens.WithLabelValues(fmt.Sprint(t.Status)).Inc()
	s.sendReceipt(t, now)
	return t, session, nil
}

// sendReceipt tells the person, through the same sender, that their status
// was shared, so that a disclosure they did not make is noticed. It runs in
// the background; failures are logged and counted.
func (s *Server) sendReceipt(t *store.Txn, at time.Time) {
	name := t.ClientID
	if c, err := s.st.Client(context.Background(), t.ClientID); err == nil {
		name = c.Name
	}
	ist := at.In(time.FixedZone("IST", 5*3600+1800)).Format("02 Jan 2006 15:04 MST")
	text := fmt.Sprintf("kycvs: your COVID-19 vaccination status was shared with %s at %s. If this was not you, contact the issuer.", name, ist)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.sender.Send(ctx, "+91"+t.Mobile, text); err != nil {
			s.m.receipts.WithLabelValues("failed").Inc()
			s.log.Warn("receipt delivery failed", "client", t.ClientID, "err", err)
			return
		}
		s.m.receipts.WithLabelValues("sent").Inc()
	}()
}

// CoWINStatus answers the CoWIN-compatible status call for a session token
// returned by confirmOTP.
func (s *Server) CoWINStatus(ctx context.Context, session string) (*store.Txn, error) {
	unauth := &apiError{Status: 401, Code: kycvs.CodeUnauthorized, Message: "missing, unknown or expired session token"}
	id, secret, ok := strings.Cut(session, ".")
	if !ok || id == "" || secret == "" {
		return nil, unauth
	}
	t, err := s.st.Txn(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauth
		}
		return nil, unavailable(err)
	}
	sum := sha256.Sum256([]byte(secret))
	if !t.Consumed || len(t.SessionDigest) == 0 || subtle.ConstantTimeCompare(sum[:], t.SessionDigest) != 1 || s.cfg.Now().Unix() >= t.TokenExpires {
		return nil, unauth
	}
	return t, nil
}

// Authenticate returns the client whose API key this is.
func (s *Server) Authenticate(ctx context.Context, apiKey string) (*store.Client, error) {
	unauth := &apiError{Status: 401, Code: kycvs.CodeUnauthorized, Message: "missing or unknown API key"}
	if apiKey == "" || len(apiKey) > 256 {
		return nil, unauth
	}
	sum := sha256.Sum256([]byte(apiKey))
	c, err := s.st.ClientByKeyHash(ctx, sum[:])
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauth
		}
		return nil, unavailable(err)
	}
	return c, nil
}

// NewAPIKey returns a new API key and the hash the store keeps of it.
func NewAPIKey() (key string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	key = "kycvs_" + b64.Encode(b)
	sum := sha256.Sum256([]byte(key))
	return key, sum[:]
}

// AddClient registers a verifying entity and returns its API key (shown
// once; only its hash is stored).
func AddClient(ctx context.Context, st store.Store, id, name string, origins []string, now time.Time) (string, error) {
	if !validClientID(id) {
		return "", fmt.Errorf("client id %q: want 1-64 characters of [a-z0-9._-]", id)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", fmt.Errorf("client name: required, at most 200 bytes")
	}
	var norm []string
	for _, o := range origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return "", err
		}
		norm = append(norm, n)
	}
	key, hash := NewAPIKey()
	err := st.PutClient(ctx, store.Client{ID: id, Name: name, Origins: norm, KeyHash: hash, Created: now.Unix()})
	if err != nil {
		return "", err
	}
	return key, nil
}

func validClientID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NormalizeOrigin returns an origin as browsers send it: scheme://host[:port]
// in lower case, without a default port, path, query or fragment.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q: want scheme://host[:port]", o)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}
