package logurl

import (
	"net/url"
	"testing"
)

func TestString(t *testing.T) {
	for raw, want := range map[string]string{
		"https://issuer.example/jwks.json":       "https://issuer.example/jwks.json",
		"https://ops:s3cret@origin.example/app":  "https://ops:xxxxx@origin.example/app",
		"https://issuer.example/jwks?sig=s3cret": "https://issuer.example/jwks?…",
		"https://issuer.example/jwks?":           "https://issuer.example/jwks?…",
		"https://origin.example/#s3cret":         "https://origin.example/#%E2%80%A6", // url.URL escapes the fragment
		"https:ops:s3cret@origin.example":        "https:…",
		"http://127.0.0.1:1/a%2Fb?x=1#y":         "http://127.0.0.1:1/a%2Fb?…#%E2%80%A6",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(u); got != want {
			t.Errorf("String(%q) = %q, want %q", raw, got, want)
		}
		if u.String() != raw {
			t.Errorf("String(%q) changed it to %q", raw, u)
		}
	}
}
