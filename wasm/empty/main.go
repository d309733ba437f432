//go:build js && wasm

// Command empty is the floor of the cold-start benchmarks (./build.sh
// bench): the least Go program, compiled with GOOS=js GOARCH=wasm. Loading,
// compiling and running it to the end of main is what any Go wasm module
// pays before doing any work of its own; verifierjs's cold start is stated
// as a ratio to it, measured in the same run. It is never shipped.
package main

func main() {}
