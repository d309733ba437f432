//go:build js && wasm && !kycvs_stock_shim

// Command worker is the kycvs edge worker: it gates an origin by vaccination
// status (see README.md). This is its workerd entry, built with
// GOOS=js GOARCH=wasm and loaded by js/worker.mjs, which keeps one Go
// instance per isolate.
package main

import (
	"log"
	"net/http"
	"strconv"
	"syscall/js"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
)

// wholeBody hands a problem body, small and complete, to the Response
// constructor as one Uint8Array: syumai/workers would stream it from Go
// through a pipe and a ReadableStream (several JS<->Go round trips). Origin
// bodies already pass through as the origin's own stream: io.Copy hands it
// over via WriteRawJSBody.
type wholeBody struct {
	http.ResponseWriter
	raw   interface{ WriteRawJSBody(js.Value) }
	wrote bool
}

func (w *wholeBody) Write(b []byte) (int, error) {
	h := w.Header()
	if !w.wrote && h.Get("Content-Type") == "application/problem+json" && h.Get("Content-Length") == strconv.Itoa(len(b)) {
		w.wrote = true
		a := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(a, b)
		w.raw.WriteRawJSBody(a)
		return len(b), nil
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// WriteRawJSBody keeps the origin's stream path open through the wrapper.
func (w *wholeBody) WriteRawJSBody(v js.Value) {
	w.wrote = true
	w.raw.WriteRawJSBody(v)
}

// handler serves both paths: the fast one (kycvs_worker_decide) and
// syumai/workers' (handleRequest).
var handler = NewHandler(Platform{
	Getenv:     cloudflare.Getenv,
	Do:         jsDo,
	Background: cloudflare.WaitUntil,
	Isolated:   true,
})

func main() {
	workers.ServeNonBlock(recoverer(handler))
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
		if raw, ok := w.(interface{ WriteRawJSBody(js.Value) }); ok {
			w = &wholeBody{ResponseWriter: w, raw: raw}
		}
		defer func() {
			if err := recover(); err != nil {
				log.Printf("kycvs worker: panic: %v", err)
				gate.WriteProblem(w, http.StatusInternalServerError, kycvs.CodeUnavailable, "internal error", nil)
			}
		}()
		h.ServeHTTP(w, r)
	})
}
