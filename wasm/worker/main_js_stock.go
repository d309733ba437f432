//go:build js && wasm && kycvs_stock_shim

// This entry exists for the benchmark only (go build -tags
// kycvs_stock_shim): the same handler behind syumai/workers' stock shim,
// which instantiates Go for every request, to measure what keeping one
// instance saves. It is never deployed.
package main

import (
	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
)

func main() {
	workers.Serve(NewHandler(Platform{
		Getenv:     cloudflare.Getenv,
		Do:         jsDo,
		Background: cloudflare.WaitUntil,
		Isolated:   true,
	}))
}
