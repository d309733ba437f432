// Preloaded (NODE_OPTIONS=--import) when the worker's Go benchmarks run under
// Node (GOOS=js, go_js_wasm_exec): syumai/workers reads globalThis.context at
// init, which workerd's shim provides.
globalThis.context = { env: {}, ctx: {}, binding: {} };
