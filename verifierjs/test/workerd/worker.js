// A Cloudflare-style worker (run by workerd in workerd.test.js) that imports
// kycvs-verifier with its compiled module, as the README's worker example
// does, and runs the vectors it is sent.
import { createVerifier, KycvsError } from "./index.js";
import wasmModule from "./kycvs.wasm";
import { runAll } from "./vectors.js";

// At module scope workerd forbids what the Go runtime does at start-up:
// this must fail cleanly (ERR_CONFIG), and the handler's call must then work.
const early = createVerifier({ jwks: "{}", issuer: "i", audience: "a", wasmModule }).then(
	() => "loaded",
	(err) => err.code,
);

export default {
	async fetch(request) {
		const vectors = await request.json();
		// The first verifier passes the module; every later one shares it.
		await createVerifier({ ...vectors.find((v) => v.expect.status !== undefined), wasmModule });
		const { passed, failures } = await runAll(createVerifier, KycvsError, vectors);
		return Response.json({ early: await early, total: vectors.length, passed, failures, globals: ["Go", "fs", "process", "path"].filter((g) => g in globalThis) });
	},
};
