package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycvs/kycvs"
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
	// (KYCVS_JWKS_URL, fetched and cached) is set.
	JWKS    []byte
	JWKSURL string
	// JWKSRefresh (KYCVS_JWKS_REFRESH, default 5m) is the age after which a
	// fetched key set is refreshed in the background; JWKSMaxStale
	// (KYCVS_JWKS_MAX_STALE, default 1h) is the hard limit: past it without
	// a successful refresh, requests fail closed with ERR_JWKS_STALE.
	JWKSRefresh  time.Duration
	JWKSMaxStale time.Duration

	Leeway    time.Duration // KYCVS_LEEWAY, default 60s
	KeepToken bool          // KYCVS_KEEP_TOKEN=1: forward the token to the origin
}

// Defaults of the optional settings.
const (
	DefaultMinStatus    = kycvs.FullyVaccinated
	DefaultJWKSRefresh  = 5 * time.Minute
	DefaultJWKSMaxStale = time.Hour
	DefaultLeeway       = 60 * time.Second
)

// LoadConfig reads the configuration through getenv. Every problem is a
// *kycvs.Error with CodeConfig that names the variable.
func LoadConfig(getenv func(string) string) (*Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	bad := func(k, format string, a ...any) error {
		return &kycvs.Error{Code: kycvs.CodeConfig, Message: k + ": " + fmt.Sprintf(format, a...)}
	}
	c := &Config{
		Issuer:       get("KYCVS_ISSUER"),
		Audience:     get("KYCVS_AUDIENCE"),
		MinStatus:    DefaultMinStatus,
		JWKSURL:      get("KYCVS_JWKS_URL"),
		JWKSRefresh:  DefaultJWKSRefresh,
		JWKSMaxStale: DefaultJWKSMaxStale,
		Leeway:       DefaultLeeway,
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
		return nil, bad("KYCVS_ORIGIN", "%q is not an http(s) URL without query, fragment or user info", o)
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
			return nil, bad("KYCVS_JWKS_URL", "%q is not an http(s) URL", c.JWKSURL)
		}
	}
	if c.JWKSRefresh, err = duration(get("KYCVS_JWKS_REFRESH"), DefaultJWKSRefresh); err != nil {
		return nil, bad("KYCVS_JWKS_REFRESH", "%v", err)
	}
	if c.JWKSMaxStale, err = duration(get("KYCVS_JWKS_MAX_STALE"), DefaultJWKSMaxStale); err != nil {
		return nil, bad("KYCVS_JWKS_MAX_STALE", "%v", err)
	}
	if c.JWKSRefresh <= 0 || c.JWKSMaxStale <= 0 {
		return nil, bad("KYCVS_JWKS_REFRESH", "the refresh interval and the staleness limit must be positive")
	}
	if c.JWKSRefresh > c.JWKSMaxStale {
		return nil, bad("KYCVS_JWKS_REFRESH", "%v is longer than KYCVS_JWKS_MAX_STALE %v", c.JWKSRefresh, c.JWKSMaxStale)
	}
	if c.Leeway, err = duration(get("KYCVS_LEEWAY"), DefaultLeeway); err != nil {
		return nil, bad("KYCVS_LEEWAY", "%v", err)
	}
	switch k := get("KYCVS_KEEP_TOKEN"); k {
	case "", "0", "false":
	case "1", "true":
		c.KeepToken = true
	default:
		return nil, bad("KYCVS_KEEP_TOKEN", "%q is not 1/true or 0/false", k)
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
