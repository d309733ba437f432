//go:build !js

package kycvs

import "net/http"

func init() { defaultHTTPClient = &http.Client{} }
