//go:build !js

package kycvs

import "net/http"

// The default client follows no redirect: the JWKS URL is the issuer's
// own, and a redirect (to plain http, to another host) would let someone
// else choose the keys. A 3xx answer is a failed fetch. (The JavaScript
// createRemoteVerifier does the same.)
func init() {
	defaultHTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
