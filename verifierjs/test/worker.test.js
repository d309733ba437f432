// Workers: the page (here, the main thread) compiles kycvs.wasm once and
// posts the WebAssembly.Module; the worker passes it as wasmModule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { once } from "node:events";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

test("a worker verifies with a posted WebAssembly.Module", async () => {
	const key = newKey();
	const wasmModule = await WebAssembly.compile(readFileSync(new URL("../kycvs.wasm", import.meta.url)));
	const worker = new Worker(new URL("fixtures/worker.js", import.meta.url));
	try {
		const ask = async (m) => {
			worker.postMessage(m);
			return (await once(worker, "message"))[0];
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
