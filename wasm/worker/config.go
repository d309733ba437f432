package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/internal/logurl"
)

// Config is the worker's configuration. It comes from the worker's
// environment (text bindings / wrangler [vars] in workerd, process
// environment natively); see README.md for the table.
type Config struct {
	Issuer    string       // KYCVS_ISSUER, required
	Audience  string       // KYCVS_AUDIENCE, required: the verifying entity's client id
	MinStatus kycvs.Status // KYCVS_MIN_STATUS, 0..2, default 2 (fully vaccinated)
	Origin    *url.URL     // KYCVS_ORIGIN, required: http(s) URL that gated requests go to

	// Exactly one of JWKS (KYCVS_JWKS, pinned JSON text) and JWKSURL
	// (KYCVS_JWKS_URL, fetched and cached by the policy of SPEC.md,
	// "Remote key sets") is set.
	JWKS    []byte
	JWKSURL string
	// JWKSMinRefresh (KYCVS_JWKS_MIN_REFRESH, default 1m) is the lower
	// bound of the issuer's Cache-Control max-age; JWKSMaxAge
	// (KYCVS_JWKS_MAX_AGE, default 24h) is the hard limit: past it without
	// a successful fetch, requests fail closed with ERR_JWKS_STALE.
	JWKSMinRefresh time.Duration
	JWKSMaxAge     time.Duration

	Leeway    time.Duration // KYCVS_LEEWAY, default 60s
	KeepToken bool          // KYCVS_KEEP_TOKEN=1: forward the token to the origin
	// Bypass (KYCVS_BYPASS, comma-separated) lists paths that reach the
	// origin without a token: "/healthz" exactly, "/static/" and below.
	Bypass []string
	// AllowReplay (KYCVS_REPLAY=off) admits a token as often as it is
	// sent. By default (KYCVS_REPLAY=isolate) each isolate remembers the
	// tokens it admitted and refuses them again (409 ERR_REPLAY): once per
	// isolate, not once across Cloudflare's isolates (README).
	AllowReplay bool
	// DebugInstance (KYCVS_DEBUG_INSTANCE=1) adds the Go instance's id to
	// every answer (InstanceHeader), so that tests can see that one
	// instance served them all.
	DebugInstance bool
}

// Defaults of the optional settings.
const (
	DefaultMinStatus      = kycvs.FullyVaccinated
	DefaultJWKSMinRefresh = kycvs.MinRefresh
	DefaultJWKSMaxAge     = kycvs.DefaultMaxAge
	DefaultLeeway         = kycvs.DefaultLeeway
)

// LoadConfig reads the configuration through getenv. Every problem is a
// *kycvs.Error with CodeConfig that names the variable.
func LoadConfig(getenv func(string) string) (*Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	bad := func(k, format string, a ...any) error {
		return &kycvs.Error{Code: kycvs.CodeConfig, Message: k + ": " + fmt.Sprintf(format, a...)}
	}
	c := &Config{
		Issuer:         get("KYCVS_ISSUER"),
		Audience:       get("KYCVS_AUDIENCE"),
		MinStatus:      DefaultMinStatus,
		JWKSURL:        get("KYCVS_JWKS_URL"),
		JWKSMinRefresh: DefaultJWKSMinRefresh,
		JWKSMaxAge:     DefaultJWKSMaxAge,
		Leeway:         DefaultLeeway,
	}
	for old, now := range map[string]string{"KYCVS_JWKS_REFRESH": "KYCVS_JWKS_MIN_REFRESH", "KYCVS_JWKS_MAX_STALE": "KYCVS_JWKS_MAX_AGE"} {
		if get(old) != "" {
			return nil, bad(old, "no longer read: the refresh follows the issuer's Cache-Control; see %s (README)", now)
		}
	}
	if c.Issuer == "" {
		return nil, bad("KYCVS_ISSUER", "required")
	}
	if c.Audience == "" {
		return nil, bad("KYCVS_AUDIENCE", "required")
	}
	if s := get("KYCVS_MIN_STATUS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || !kycvs.Status(n).Valid() {
			return nil, bad("KYCVS_MIN_STATUS", "%q is not 0, 1 or 2", s)
		}
		c.MinStatus = kycvs.Status(n)
	}
	o := get("KYCVS_ORIGIN")
	if o == "" {
		return nil, bad("KYCVS_ORIGIN", "required")
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, bad("KYCVS_ORIGIN", "%s is not an http(s) URL without query, fragment or user info", shownURL(o))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	c.Origin = u

	if j := get("KYCVS_JWKS"); j != "" {
		c.JWKS = []byte(j)
	}
	switch {
	case c.JWKS != nil && c.JWKSURL != "":
		return nil, bad("KYCVS_JWKS", "set either KYCVS_JWKS or KYCVS_JWKS_URL, not both")
	case c.JWKS == nil && c.JWKSURL == "":
		return nil, bad("KYCVS_JWKS", "set KYCVS_JWKS (pinned key set) or KYCVS_JWKS_URL")
	case c.JWKSURL != "":
		ju, err := url.Parse(c.JWKSURL)
		if err != nil || (ju.Scheme != "http" && ju.Scheme != "https") || ju.Host == "" {
			return nil, bad("KYCVS_JWKS_URL", "%s is not an http(s) URL", shownURL(c.JWKSURL))
		}
	}
	if c.JWKSMinRefresh, err = duration(get("KYCVS_JWKS_MIN_REFRESH"), DefaultJWKSMinRefresh); err != nil {
		return nil, bad("KYCVS_JWKS_MIN_REFRESH", "%v", err)
	}
	if c.JWKSMaxAge, err = duration(get("KYCVS_JWKS_MAX_AGE"), DefaultJWKSMaxAge); err != nil {
		return nil, bad("KYCVS_JWKS_MAX_AGE", "%v", err)
	}
	if c.JWKSMinRefresh <= 0 || c.JWKSMaxAge <= 0 {
		return nil, bad("KYCVS_JWKS_MIN_REFRESH", "the refresh bound and the maximum age must be positive")
	}
	if c.JWKSMinRefresh > min(c.JWKSMaxAge, kycvs.MaxRefresh) {
		return nil, bad("KYCVS_JWKS_MIN_REFRESH", "%v is longer than KYCVS_JWKS_MAX_AGE %v or 24h", c.JWKSMinRefresh, c.JWKSMaxAge)
	}
	if c.Leeway, err = duration(get("KYCVS_LEEWAY"), DefaultLeeway); err != nil {
		return nil, bad("KYCVS_LEEWAY", "%v", err)
	}
	if c.Leeway < time.Second {
		// The gate reads a zero leeway as its default (60s): refused
		// rather than read as the opposite of what it says.
		return nil, bad("KYCVS_LEEWAY", "must be at least 1s (unset: %v)", DefaultLeeway)
	}
	switch k := get("KYCVS_KEEP_TOKEN"); k {
	case "", "0", "false":
	case "1", "true":
		c.KeepToken = true
	default:
		return nil, bad("KYCVS_KEEP_TOKEN", "%q is not 1/true or 0/false", k)
	}
	if b := get("KYCVS_BYPASS"); b != "" {
		for _, p := range strings.Split(b, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.Bypass = append(c.Bypass, p)
			}
		}
	}
	switch r := get("KYCVS_REPLAY"); r {
	case "", "isolate":
	case "off":
		c.AllowReplay = true
	default:
		return nil, bad("KYCVS_REPLAY", "%q is not isolate or off", r)
	}
	switch d := get("KYCVS_DEBUG_INSTANCE"); d {
	case "", "0", "false":
	case "1", "true":
		c.DebugInstance = true
	default:
		return nil, bad("KYCVS_DEBUG_INSTANCE", "%q is not 1/true or 0/false", d)
	}
	return c, nil
}

// duration parses a Go duration ("90s", "5m") or a number of seconds.
func duration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (\"90s\", \"5m\") or a number of seconds", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// shownURL is raw as a configuration error shows it, quoted, as
// logurl.String writes it.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a value that is not a URL)"
	}
	return strconv.Quote(logurl.String(u))
}
