// The ways of loading the module: from the package folder (default), a
// compiled WebAssembly.Module (workers), its bytes, and a URL fetched with
// instantiateStreaming or, when the server sends another type, without.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { newKey, makeToken } from "./tokens.js";
import { serve } from "./server.js";

const key = newKey();
const token = makeToken(key);
const fixture = new URL("fixtures/load.js", import.meta.url).pathname;
// Async, so that the loopback server of this process can answer the child.
const run = (...args) =>
	new Promise((resolve, reject) =>
		execFile(process.execPath, [fixture, ...args], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
	);

for (const how of ["default", "module", "bytes"]) {
	test(`load: ${how}`, async () => {
		const out = await run(how, token, JSON.stringify(key.jwks));
		assert.equal(out.result?.kid, key.kid, JSON.stringify(out));
		assert.deepEqual(out.globals, []);
		assert.equal(out.undici, false, "loading verifierjs from a file loaded Node's fetch implementation (cold start)");
	});
}

for (const wasmType of ["application/wasm", "application/octet-stream"]) {
	test(`load: fetch from a URL served as ${wasmType}`, async () => {
		const server = await serve({ wasmType });
		try {
			const out = await run("url", token, JSON.stringify(key.jwks), `${server.url}/pkg/kycvs.wasm`);
			assert.equal(out.result?.kid, key.kid, JSON.stringify(out));
		} finally {
			await server.close();
		}
	});
}

test("load: a URL that answers 404 is ERR_CONFIG", async () => {
	const server = await serve();
	const out = await run("url", token, JSON.stringify(key.jwks), `${server.url}/pkg/missing.wasm`);
	await server.close();
	assert.equal(out.code, "ERR_CONFIG");
	assert.match(out.message, /404/);
});
