//go:build js && wasm && !kycvs_stock_shim

// Command worker is the kycvs edge worker: it gates an origin by vaccination
// status (see README.md). This is its workerd entry, built with
// GOOS=js GOARCH=wasm and loaded by js/worker.mjs, which keeps one Go
// instance per isolate.
package main

import (
	"log"
	"net/http"

	"github.com/kycvs/kycvs"
	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/fetch"
)

func main() {
	fc := fetch.NewClient()
	h := NewHandler(Platform{
		Getenv: cloudflare.Getenv,
		Do: func(r *http.Request) (*http.Response, error) {
			return fc.Do(&fetch.Request{Request: r}, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
		},
		Background: cloudflare.WaitUntil,
	})
	workers.ServeNonBlock(recoverer(h))
	workers.Ready()
	// Never return: the instance stays alive for the next requests. (The
	// stock workers.Serve returns after the first response, which is what
	// makes the stock shim instantiate Go once per request.)
	select {}
}

// recoverer turns a panic into a 500 instead of ending the instance (net/http
// recovers handler panics natively; syumai/workers does not).
func recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if err := recover(); err != nil {
				log.Printf("kycvs worker: panic: %v", err)
				problem(w, http.StatusInternalServerError, kycvs.CodeUnavailable, "internal error", nil)
			}
		}()
		h.ServeHTTP(w, r)
	})
}
