// Types of the kycvs-verifier/kycvs.wasm subpath, as edge bundlers import it
// (wrangler, workerd's module rules): a compiled module, to pass to
// createVerifier as wasmModule. Other bundlers' loaders give other things
// (esbuild's file loader a URL string, Vite's ?url suffix a string too).

/** The compiled kycvs verifier. */
declare const wasmModule: WebAssembly.Module;
export default wasmModule;
