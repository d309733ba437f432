//go:build js && wasm && !kycvs_stock_shim

// Command worker is the kycvs edge worker: it gates an origin by vaccination
// status (see README.md). This is its workerd entry, built with
// GOOS=js GOARCH=wasm and loaded by js/worker.mjs, which keeps one Go
// instance per isolate.
package main

import (
	"log"
	"net/http"
	"syscall/js"

	"github.com/kycvs/kycvs"
	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
)

func init() {
	// syumai/workers streams a response body from Go through a pipe and a
	// ReadableStream (several JS<->Go round trips); a problem body is small
	// and complete, so give it to the Response constructor as one
	// Uint8Array. (Origin bodies already pass through as the origin's own
	// stream: io.Copy hands it over via WriteRawJSBody.)
	writeBody = func(w http.ResponseWriter, b []byte) bool {
		rw, ok := w.(interface{ WriteRawJSBody(js.Value) })
		if !ok {
			return false
		}
		a := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(a, b)
		rw.WriteRawJSBody(a)
		return true
	}
}

func main() {
	h := NewHandler(Platform{
		Getenv:     cloudflare.Getenv,
		Do:         jsDo,
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
