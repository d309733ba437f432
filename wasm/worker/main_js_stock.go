//go:build js && wasm && kycvs_stock_shim

// This entry exists for the benchmark only (go build -tags
// kycvs_stock_shim): the same handler behind syumai/workers' stock shim,
// which instantiates Go for every request, to measure what keeping one
// instance saves. It is never deployed.
package main

import (
	"net/http"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/fetch"
)

func main() {
	fc := fetch.NewClient()
	workers.Serve(NewHandler(Platform{
		Getenv: cloudflare.Getenv,
		Do: func(r *http.Request) (*http.Response, error) {
			return fc.Do(&fetch.Request{Request: r}, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
		},
		Background: cloudflare.WaitUntil,
	}))
}
