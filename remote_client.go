//go:build !js

package kycvs

import (
	"errors"
	"net/http"
)

// The default client follows redirects, but never from https to plain http:
// that would hand the key set to anyone on the path.
func init() {
	defaultHTTPClient = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
			return errors.New("refusing a redirect from https to " + req.URL.Scheme)
		}
		return nil
	}}
}
