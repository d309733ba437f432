// Workers: the page (here, the main thread) compiles kycvs.wasm once and
// posts the WebAssembly.Module; the worker passes it as wasmModule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { once } from "node:events";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

test("a worker verifies with a posted WebAssembly.Module", { timeout: 120_000 }, async () => {
	const key = newKey();
	// The worker first, then the compilation: a worker that starts while the
	// main thread compiles wasm once hung in CI (node 20, loaded machine;
	// never reproduced alone), so each step waits for the one before.
	const worker = new Worker(new URL("fixtures/worker.js", import.meta.url));
	try {
		await once(worker, "online");
		const wasmModule = await WebAssembly.compile(readFileSync(new URL("../kycvs.wasm", import.meta.url)));
		// An answer, or the worker's end: a worker that dies fails the test
		// at once instead of leaving it waiting.
		const ask = async (m) => {
			worker.postMessage(m);
			const ended = once(worker, "exit").then(([code]) => {
				throw new Error(`the worker exited (${code}) before answering`);
			});
			return Promise.race([once(worker, "message").then(([answer]) => answer), ended]);
		};
		assert.deepEqual(await ask({ wasmModule, jwks: key.jwks, issuer: ISS, audience: AUD }), { ready: true });
		const nonce = claims().nonce;
		const r = await ask({ token: makeToken(key), nonce, now: NOW });
		assert.equal(r.result?.kid, key.kid, JSON.stringify(r));
		assert.deepEqual(await ask({ token: makeToken(key), nonce, now: NOW + 3600 }), { code: "ERR_EXPIRED" });
	} finally {
		await worker.terminate();
	}
});
