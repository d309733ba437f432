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
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

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

// APIs a transaction may start from. A transaction is confirmed only
// through the API that started it.
const (
	APINative = "v1"
	APICoWIN  = "cowin"
	APIEmbed  = "embed"
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

// source names who is asking: an API client, or one address on the embed
// page (ip non-empty; an IPv6 address counts by its /64, which one machine
// usually has whole).
func source(c *store.Client, ip string) string {
	if ip == "" {
		return "client:" + c.ID
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// sourceLimit is the allowance of the source itself: RateClient a minute
// for an API client, RateIP a minute for an address on the embed page. OTP
// requests and confirmations of unknown, dead or expired transactions
// draw on it. ok is false when the operator turned it off.
func (s *Server) sourceLimit(c *store.Client, ip string) (store.Limit, bool) {
	if ip == "" {
		return store.Limit{Key: source(c, ip), Max: s.cfg.RateClient, Window: 60}, s.cfg.RateClient > 0
	}
	return store.Limit{Key: source(c, ip), Max: s.cfg.RateIP, Window: 60}, s.cfg.RateIP > 0
}

// personLimits are the allowances of one mobile number, all leaky buckets
// over a day, so that none can be outrun by its own refill:
//   - MaxOTPPerDay over all sources (no crowd of sources can bomb the person);
//   - MaxOTPPerDay/2 over all addresses of the embed page together (src an
//     address), so that anonymous sources, however many (an IPv6 block has
//     millions of /64s), leave half the number's day to the verifying
//     entities' API calls;
//   - MaxOTPPerSource for one source (5 by default, one back every 4.8 h:
//     one source's steady rate is a quarter of the number's, so it can
//     never keep the number's day used up);
//   - one per ResendCooldown for one source.
func (s *Server) personLimits(mobile, src string) []store.Limit {
	l := []store.Limit{
		{Key: "mobile:" + mobile, Max: s.cfg.MaxOTPPerDay, Window: 86400},
		{Key: "mobile-source:" + mobile + ":" + src, Max: s.cfg.MaxOTPPerSource, Window: 86400},
	}
	if strings.HasPrefix(src, "ip:") {
		l = append(l, store.Limit{Key: "mobile-embed:" + mobile, Max: max(1, s.cfg.MaxOTPPerDay/2), Window: 86400})
	}
	if s.cfg.ResendCooldown >= time.Second {
		l = append(l, store.Limit{Key: "cooldown:" + mobile + ":" + src, Max: 1, Window: int64(s.cfg.ResendCooldown / time.Second)})
	}
	return l
}

func (s *Server) rateLimited(rl *store.RateLimitError) *apiError {
	kind, _, _ := strings.Cut(rl.Key, ":")
	s.m.rateLimited.WithLabelValues(kind).Inc()
	return &apiError{Status: 429, Code: kycvs.CodeRateLimited, Message: "too many requests (" + kind + ")", RetryAfter: rl.RetryAfter}
}

// Languages of the SMS texts: those of the embed page. /v1 takes one in its
// body; the CoWIN-compatible API sends English.
const (
	langEnglish = "en"
	langHindi   = "hi"
)

// otpText is the OTP's SMS in lang. The code comes first in every language,
// for SMS autofill.
func otpText(lang, otp, entity string, ttl time.Duration) string {
	if lang == langHindi {
		return fmt.Sprintf("%s आपका kycvs कोड है, जिससे आपकी COVID-19 टीकाकरण स्थिति %s के साथ साझा होगी। यह %s में समाप्त हो जाएगा। यह कोड किसी को न बताएँ।",
			otp, entity, lifetime(lang, ttl))
	}
	return fmt.Sprintf("%s is your kycvs code to share your COVID-19 vaccination status with %s. It expires in %s. Do not share this code.",
		otp, entity, lifetime(lang, ttl))
}

// lifetime says d in lang, in whole minutes, or in seconds when that is not
// exact.
func lifetime(lang string, d time.Duration) string {
	if lang == langHindi {
		if d%time.Minute == 0 {
			return fmt.Sprintf("%d मिनट", d/time.Minute)
		}
		return fmt.Sprintf("%d सेकंड", max(d/time.Second, 1))
	}
	switch {
	case d%time.Minute == 0 && d == time.Minute:
		return "1 minute"
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d < 2*time.Second:
		return "1 second"
	default:
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
}

// hindiMonths are the months' names in Hindi, January first.
var hindiMonths = [12]string{"जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"}

// receiptText is the disclosure receipt's SMS in lang: entity was given the
// status at at, said in Indian Standard Time.
func receiptText(lang, entity string, at time.Time) string {
	at = at.In(time.FixedZone("IST", 5*3600+1800))
	if lang == langHindi {
		when := fmt.Sprintf("%d %s %d, %s IST", at.Day(), hindiMonths[at.Month()-1], at.Year(), at.Format("15:04"))
		return fmt.Sprintf("kycvs: आपकी COVID-19 टीकाकरण स्थिति %s को %s के साथ साझा की गई। अगर यह आपने नहीं किया, तो जारीकर्ता से संपर्क करें।", when, entity)
	}
	return fmt.Sprintf("kycvs: your COVID-19 vaccination status was shared with %s at %s. If this was not you, contact the issuer.",
		entity, at.Format("02 Jan 2006 15:04 MST"))
}

// StartOTP is the OTP request of every API: it validates the input, takes
// the rate limits, creates the transaction and sends the OTP. It never
// reads the registry, so the answer cannot depend on whether the number is
// registered.
//
// ip is the person's address when the request comes from their browser
// (the embed page); API-key callers pass "". The caller's source (the
// client, or the address) draws on its own allowance, and on its own share
// of the number's ([Server.personLimits]); an OTP the sender could not
// deliver is given back to the number. lang is the language of the
// transaction's SMS texts, "en" or "hi".
func (s *Server) StartOTP(ctx context.Context, c *store.Client, mobile, name, nonce, api, ip, lang string) (*Started, error) {
	if lang != langEnglish && lang != langHindi {
		return nil, badRequest(`lang: want "en" or "hi"`)
	}
	m, ok := NormalizeMobile(mobile)
	if !ok {
		return nil, badRequest("mobile: want a 10-digit Indian mobile number")
	}
	if kycvs.NormalizeName(name) == "" || len(name) > 200 || !utf8.ValidString(name) || hasControl(name) {
		return nil, badRequest("name: required, at most 200 bytes of UTF-8, no control characters")
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
		ID: kycvs.NewTokenID(), ClientID: c.ID, Mobile: m, Name: name, Nonce: nonce, API: api, Lang: lang,
		Created: t, Expires: t + int64(s.cfg.OTPTTL/time.Second), MaxTries: s.cfg.MaxTries,
	}
	txn.OTPDigest = s.otpDigest(txn.ID, sum[:])
	person := s.personLimits(m, source(c, ip))
	limits := person
	if l, on := s.sourceLimit(c, ip); on {
		limits = append([]store.Limit{l}, person...)
	}
	if err := s.st.CreateTxn(ctx, txn, t, limits...); err != nil {
		var rl *store.RateLimitError
		if errors.As(err, &rl) {
			return nil, s.rateLimited(rl)
		}
		s.log.Error("create txn", "err", err)
		return nil, unavailable(err)
	}
	if err := s.sender.Send(ctx, "+91"+m, otpText(lang, otp, c.Name, s.cfg.OTPTTL)); err != nil {
		s.m.otpSent.WithLabelValues("failed").Inc()
		s.log.Error("otp delivery failed", "client", c.ID, "err", err)
		// Undelivered: it costs the person nothing.
		if rerr := s.st.Refund(context.WithoutCancel(ctx), t, person...); rerr != nil {
			s.log.Error("refund of an undelivered otp", "err", rerr)
		}
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

// proven is a transaction read before its OTP is checked.
type proven struct {
	t      *store.Txn
	digest []byte
	now    time.Time
}

// open reads the transaction and checks, before anything else is read,
// that it may be confirmed by this caller through this API: it exists,
// belongs to c, started on api, is neither used nor dead, and has not
// expired. A transaction that fails any of these is a miss: it draws on the
// caller's source allowance, and once that is used up the answer is 429.
// The work is the same whatever the number.
func (s *Server) open(ctx context.Context, c *store.Client, api, ip, txnID string, otpSHA []byte) (*proven, error) {
	now := s.cfg.Now()
	t, err := s.st.Txn(ctx, txnID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("read txn", "err", err)
		return nil, unavailable(err)
	}
	var miss *apiError
	switch {
	case err != nil || t.ClientID != c.ID || t.API != api || t.Consumed || t.Tries >= t.MaxTries:
		s.m.confirmations.WithLabelValues("txn_unknown").Inc()
		miss = errTxnUnknown
	case now.Unix() >= t.Expires:
		s.m.confirmations.WithLabelValues("otp_expired").Inc()
		miss = errOTPExpired
	}
	if miss != nil {
		if l, on := s.sourceLimit(c, ip); on {
			var rl *store.RateLimitError
			if err := s.st.Take(ctx, now.Unix(), l); errors.As(err, &rl) {
				return nil, s.rateLimited(rl)
			} else if err != nil {
				return nil, unavailable(err)
			}
		}
		return nil, miss
	}
	return &proven{t: t, digest: s.otpDigest(txnID, otpSHA), now: now}, nil
}

var errOTPExpired = &apiError{Status: 410, Code: kycvs.CodeOTPExpired, Message: "the OTP has expired; request a new one"}

// right reports whether the OTP matches, in constant time.
func (p *proven) right() bool { return subtle.ConstantTimeCompare(p.digest, p.t.OTPDigest) == 1 }

// redeemError maps Redeem's failures.
func (s *Server) redeemError(err error) error {
	var w *store.WrongOTPError
	switch {
	case errors.As(err, &w):
		s.m.confirmations.WithLabelValues("otp_invalid").Inc()
		left := w.Left
		return &apiError{Status: 401, Code: kycvs.CodeOTPInvalid, Message: fmt.Sprintf("wrong OTP, %d tries left", left), TriesLeft: &left}
	case errors.Is(err, store.ErrExpired):
		s.m.confirmations.WithLabelValues("otp_expired").Inc()
		return errOTPExpired
	case errors.Is(err, store.ErrNotFound):
		s.m.confirmations.WithLabelValues("txn_unknown").Inc()
		return errTxnUnknown
	}
	s.m.confirmations.WithLabelValues("error").Inc()
	s.log.Error("redeem", "err", err)
	return unavailable(err)
}

// errChecked is what Verify's issue callback returns: the OTP was right,
// and the transaction stays as it is.
var errChecked = errors.New("otp checked")

// Verify checks a transaction's OTP without using it up: the embed page's
// step before consent. A wrong OTP counts as a try (the answer says how
// many are left); a right one changes nothing, and the transaction still
// expires with its OTP. Nothing is read from the registry.
func (s *Server) Verify(ctx context.Context, c *store.Client, api, ip, txnID string, otpSHA []byte) error {
	p, err := s.open(ctx, c, api, ip, txnID, otpSHA)
	if err != nil {
		return err
	}
	_, err = s.st.Redeem(ctx, txnID, p.digest, p.now.Unix(), func(*store.Txn) (*store.Issued, error) { return nil, errChecked })
	if errors.Is(err, errChecked) {
		s.m.confirmations.WithLabelValues("verified").Inc()
		return nil
	}
	return s.redeemError(err)
}

// Confirm is the OTP confirmation of every API: on the right OTP it signs
// the token, and consumes the transaction and logs the disclosure in one
// durable commit before returning it. otpSHA is SHA-256 of the OTP; api is
// the API the call came through, ip the address for the embed page ("" for
// API-key callers).
//
// Until the OTP is proven the work does not depend on the number: the
// transaction is checked ([Server.open]) and the OTP compared before the
// registry is read, and a wrong OTP never reads it.
func (s *Server) Confirm(ctx context.Context, c *store.Client, api, ip, txnID string, otpSHA []byte, consent bool) (*store.Txn, string, error) {
	if !consent {
		s.m.confirmations.WithLabelValues("consent_required").Inc()
		return nil, "", &apiError{Status: 400, Code: kycvs.CodeConsentRequired, Message: `the person's consent is required: send "consent": true`}
	}
	p, err := s.open(ctx, c, api, ip, txnID, otpSHA)
	if err != nil {
		return nil, "", err
	}
	status := kycvs.NotVaccinated
	var benID string
	var signer *kycvs.Signer
	if p.right() {
		// The OTP is proven: only now is the registry read.
		s.m.registryReads.Inc()
		bs, err := s.st.Beneficiaries(ctx, p.t.Mobile)
		if err != nil {
			s.log.Error("read beneficiaries", "err", err)
			return nil, "", unavailable(err)
		}
		benID = "unregistered\x00" + p.t.Mobile + "\x00" + kycvs.NormalizeName(p.t.Name)
		if b := match(bs, p.t.Name); b != nil {
			status, benID = StatusOf(b.Doses), b.ID
		}
		if signer, err = s.keys.Signer(p.now); err != nil {
			s.log.Error("no signing key", "err", err)
			return nil, "", unavailable(err)
		}
	}
	now := p.now
	var session string
	issue := func(t *store.Txn) (*store.Issued, error) {
		if signer == nil { // the store found the OTP right after all: never
			return nil, errors.New("issuer: the OTP was wrong when read")
		}
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
	t, err := s.st.Redeem(ctx, txnID, p.digest, now.Unix(), issue)
	if err != nil {
		return nil, "", s.redeemError(err)
	}
	s.m.confirmations.WithLabelValues("ok").Inc()
	s.m.tokens.WithLabelValues(fmt.Sprint(t.Status)).Inc()
	s.sendReceipt(t, now)
	return t, session, nil
}

// sendReceipt tells the person, through the same sender, that their status
// was shared, so that a disclosure they did not make is noticed, in the
// transaction's language. It runs in the background; failures are logged
// and counted.
func (s *Server) sendReceipt(t *store.Txn, at time.Time) {
	name := t.ClientID
	if c, err := s.st.Client(context.Background(), t.ClientID); err == nil {
		name = c.Name
	}
	text := receiptText(t.Lang, name, at)
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

// hasControl reports whether s holds a control character (C0, DEL, C1):
// no name has one, and a log or an SMS must not carry it.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || 0x7f <= r && r < 0xa0 {
			return true
		}
	}
	return false
}
