//go:build js && wasm && kycvs_stoptest

package main

import "bytes"

// A build for TestWorkerdGoStops only: the Go runtime dies inside
// kycvs_worker_decide, as an uncaught panic or a fatal error (out of
// memory) ends it, when a request's URL holds "/__stop".
func init() {
	stopTest = func(in []byte) {
		if bytes.Contains(in, []byte("/__stop")) {
			panic("kycvs_stoptest: the Go runtime stops here")
		}
	}
}
