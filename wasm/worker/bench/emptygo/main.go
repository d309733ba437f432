//go:build js && wasm

// Command emptygo is the floor of the edge-worker benchmark: the least Go
// program that answers a request through the worker's shim (js/worker.mjs).
// It registers a handler that answers 204 at once and signals ready; its
// first request in a fresh isolate is what any Go wasm worker pays (module
// compilation, the Go runtime's start) before doing any work of its own.
// It is never deployed.
package main

import "syscall/js"

//go:wasmimport workers ready
func ready()

func main() {
	res := js.Global().Get("Response")
	init := js.Global().Get("Object").New()
	init.Set("status", 204)
	js.Global().Get("context").Get("binding").Set("handleRequest", js.FuncOf(func(js.Value, []js.Value) any {
		return res.New(nil, init)
	}))
	ready()
	select {}
}
