//go:build !js

package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{
		"KYCVS_ISSUER": "https://iss", "KYCVS_AUDIENCE": "aud",
		"KYCVS_JWKS_URL": "https://iss/.well-known/jwks.json", "KYCVS_ORIGIN": "https://origin.example/prefix/",
	}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := LoadConfig(with())
	if err != nil {
		t.Fatal(err)
	}
	if c.MinStatus != kycvs.FullyVaccinated || c.JWKSMinRefresh != time.Minute || c.JWKSMaxAge != 24*time.Hour ||
		c.Leeway != time.Minute || c.KeepToken || c.Origin.String() != "https://origin.example/prefix" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = LoadConfig(with("KYCVS_MIN_STATUS", "0", "KYCVS_JWKS_MIN_REFRESH", "90", "KYCVS_JWKS_MAX_AGE", "2h",
		"KYCVS_LEEWAY", "5s", "KYCVS_KEEP_TOKEN", "1", "KYCVS_BYPASS", "/healthz, /static/", "KYCVS_DEBUG_INSTANCE", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MinStatus != 0 || c.JWKSMinRefresh != 90*time.Second || c.JWKSMaxAge != 2*time.Hour || c.Leeway != 5*time.Second || !c.KeepToken ||
		!slices.Equal(c.Bypass, []string{"/healthz", "/static/"}) || !c.DebugInstance {
		t.Errorf("set: %+v", c)
	}
	for _, bad := range [][]string{
		{"KYCVS_ISSUER", ""}, {"KYCVS_AUDIENCE", " "}, {"KYCVS_ORIGIN", ""}, {"KYCVS_ORIGIN", "ftp://x"},
		{"KYCVS_ORIGIN", "https://x/?q=1"}, {"KYCVS_ORIGIN", "/relative"}, {"KYCVS_MIN_STATUS", "3"},
		{"KYCVS_MIN_STATUS", "-1"}, {"KYCVS_MIN_STATUS", "two"}, {"KYCVS_JWKS_URL", ""},
		{"KYCVS_JWKS", `{"keys":[]}`}, {"KYCVS_JWKS_URL", "file:///etc/passwd"},
		{"KYCVS_JWKS_MIN_REFRESH", "0"}, {"KYCVS_JWKS_MIN_REFRESH", "25h"}, {"KYCVS_JWKS_MAX_AGE", "soon"},
		{"KYCVS_JWKS_MAX_AGE", "30s"}, {"KYCVS_JWKS_REFRESH", "5m"}, {"KYCVS_JWKS_MAX_STALE", "1h"},
		{"KYCVS_DEBUG_INSTANCE", "yes"},
		{"KYCVS_LEEWAY", "-5s"}, {"KYCVS_LEEWAY", "0"}, {"KYCVS_LEEWAY", "0s"}, {"KYCVS_LEEWAY", "500ms"},
		{"KYCVS_KEEP_TOKEN", "yes"}, {"KYCVS_REPLAY", "never"},
	} {
		_, err := LoadConfig(with(bad...))
		if kycvs.CodeOf(err) != kycvs.CodeConfig || !strings.Contains(err.Error(), "KYCVS_") {
			t.Errorf("%s=%q: got %v, want ERR_CONFIG naming the variable", bad[0], bad[1], err)
		}
	}
	// The error, which goes to the log, shows a URL without its secrets.
	for _, bad := range [][]string{
		{"KYCVS_ORIGIN", "https://ops:s3cret@origin.example/"}, {"KYCVS_ORIGIN", "https://origin.example/?key=s3cret"},
		{"KYCVS_ORIGIN", "https:ops:s3cret@origin.example"}, {"KYCVS_ORIGIN", "https://origin.example/#s3cret"},
		{"KYCVS_JWKS_URL", "ftp://ops:s3cret@issuer.example/"},
	} {
		_, err := LoadConfig(with(bad...))
		if kycvs.CodeOf(err) != kycvs.CodeConfig || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s=%q: got %v", bad[0], bad[1], err)
		}
	}
}
