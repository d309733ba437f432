//go:build !js

// Command worker is the kycvs edge worker: it gates an origin by vaccination
// status (see README.md). This native build serves the same handler with
// net/http, for debugging:
//
//	KYCVS_ISSUER=… KYCVS_AUDIENCE=… KYCVS_JWKS_URL=… KYCVS_ORIGIN=… go run ./wasm/worker -addr 127.0.0.1:8787
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:"+envOr("KYCVS_WORKER_PORT", "8787"), "listen address")
	flag.Parse()
	h := NewHandler(nativePlatform())
	if _, err := LoadConfig(os.Getenv); err != nil {
		log.Printf("warning: %v (every request will get 500 ERR_CONFIG)", err)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("kycvs worker (native) listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}

func nativePlatform() Platform {
	return Platform{
		Getenv: os.Getenv,
		Do: (&http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}).Do,
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
