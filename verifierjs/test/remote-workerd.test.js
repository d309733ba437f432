// createRemoteVerifier inside workerd, the Cloudflare Workers runtime: made
// at module scope, it fetches the JWKS from a loopback server (this process)
// when the first requests arrive, many at once, picks up a rotation, and
// refreshes a stale set. workerd cancels what a request leaves running once
// it has answered: a background refresh survives only when given to
// waitUntil (from cloudflare:workers); without it, the verifier notices the
// lost refresh and has the next request wait for one instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

const pkg = new URL("../", import.meta.url).pathname;
const NONCE = "nonce-1234567890";

async function freePort() {
	const s = createNetServer();
	await new Promise((r) => s.listen(0, "127.0.0.1", r));
	const { port } = s.address();
	await new Promise((r) => s.close(r));
	return port;
}

// The worker: one verifier at module scope; each request verifies a token
// after moving the verifier's cache clock forward by `advance` seconds.
const worker = (jwksUrl, withWaitUntil) => `import { createRemoteVerifier } from "./index.js";
import wasmModule from "./kycvs.wasm";
${withWaitUntil ? 'import { waitUntil } from "cloudflare:workers";' : ""}
let offset = 0;
const clock = () => Date.now() + offset;
const verifier = createRemoteVerifier({ jwksUrl: ${JSON.stringify(jwksUrl)}, issuer: "${ISS}", audience: "${AUD}", wasmModule, clock${withWaitUntil ? ", waitUntil" : ""} });
export default {
	async fetch(request) {
		const { token, nonce, now, advance } = await request.json();
		offset += (advance ?? 0) * 1000;
		try {
			return Response.json(await verifier.verify(token, { nonce, now }));
		} catch (err) {
			return Response.json({ code: err.code, message: err.message }, { status: 401 });
		}
	},
};
`;

// Before 2024-11-11 workerd refuses fetch's cache option, which remote.js
// then leaves out.
for (const [compatibilityDate, withWaitUntil] of [["2024-01-01", false], ["2025-09-01", false], ["2025-09-01", true]]) {
	const name = `createRemoteVerifier in workerd (compatibility date ${compatibilityDate}, ${withWaitUntil ? "with" : "without"} waitUntil)`;
	test(name, { timeout: 120_000 }, async (t) => {
		const keyA = newKey();
		const keyB = newKey();
		let keys = [keyA.publicJWK];
		let requests = 0;
		const jwks = createServer((req, res) => {
			requests++;
			// Slow enough that concurrent first requests all wait for this one.
			setTimeout(() => res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "max-age=300" }).end(JSON.stringify({ keys })), 200);
		});
		await new Promise((r) => jwks.listen(0, "127.0.0.1", r));
		t.after(() => jwks.close());

		const workerd = createRequire(import.meta.url).resolve("workerd/bin/workerd");
		const dir = mkdtempSync(join(tmpdir(), "kycvs-remote-workerd-"));
		t.after(() => rmSync(dir, { recursive: true, force: true }));
		for (const f of ["index.js", "remote.js", "wasm_exec.js", "kycvs.wasm"]) copyFileSync(join(pkg, f), join(dir, f));
		writeFileSync(join(dir, "worker.js"), worker(`http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`, withWaitUntil));
		const port = await freePort();
		const esm = (n) => `(name = "${n}", esModule = embed "${n}")`;
		writeFileSync(
			join(dir, "config.capnp"),
			`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker), (name = "net", network = (allow = ["public", "private", "local"]))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${["worker.js", "index.js", "remote.js", "wasm_exec.js"].map(esm).join(", ")}, (name = "kycvs.wasm", wasm = embed "kycvs.wasm")],
  compatibilityDate = "${compatibilityDate}",
  globalOutbound = "net",
);
`,
		);
		let stderr = "";
		const child = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "pipe"] });
		t.after(() => child.kill());
		child.stderr.on("data", (d) => (stderr += d));
		const post = (body) => fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify(body) });
		for (let i = 0; ; i++) {
			try {
				await post({}); // workerd is up (this fetches nothing: verify rejects it)
				break;
			} catch {
				if (i > 200 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
				await new Promise((r) => setTimeout(r, 100));
			}
		}
		const verify = async (token, advance) => (await post({ token, nonce: NONCE, now: NOW, advance })).json();
		const kidOf = async (token, advance) => {
			const r = await verify(token, advance);
			assert.ok(r.kid, `${JSON.stringify(r)}\n${stderr}`);
			return r.kid;
		};
		assert.equal(requests, 0);

		const tokenA = makeToken(keyA, { payload: claims() });
		const first = await Promise.all(Array.from({ length: 20 }, () => kidOf(tokenA)));
		assert.ok(first.every((k) => k === keyA.kid));
		assert.equal(requests, 1, "the concurrent first requests shared one fetch");

		// The issuer rotates; tokens of the new key arrive, many at once.
		keys = [keyB.publicJWK, keyA.publicJWK];
		const tokenB = makeToken(keyB, { payload: claims() });
		const rotated = await Promise.all(Array.from({ length: 20 }, () => kidOf(tokenB)));
		assert.ok(rotated.every((k) => k === keyB.kid));
		assert.equal(requests, 2, "one refetch for the new kid");

		// 301 s later the set is stale; the issuer has published a third key
		// meanwhile. A request is answered from the stale set at once.
		const keyC = newKey();
		keys = [keyC.publicJWK, keyB.publicJWK, keyA.publicJWK];
		assert.equal(await kidOf(tokenA, 301), keyA.kid);
		if (withWaitUntil) {
			// The refresh it started outlives it.
			for (let i = 0; requests < 3; i++) {
				if (i > 200) throw new Error("the background refresh never reached the issuer");
				await new Promise((r) => setTimeout(r, 50));
			}
		} else {
			// The refresh it started is cancelled with it. 7 s later (past the
			// 5 s timeout) the next request notices, and fetches while it waits.
			const before = requests;
			assert.equal(await kidOf(tokenA, 7), keyA.kid);
			assert.equal(requests, before + 1, "the request that found the refresh lost made one and waited for it");
		}
		const seen = requests;
		const tokenC = makeToken(keyC, { payload: claims() });
		assert.equal(await kidOf(tokenC), keyC.kid, "the refreshed set has the third key");
		assert.equal(requests, seen, "no fetch of its own");

		// And so on: 301 s later, a fourth key; the refresh is not lost again.
		const keyD = newKey();
		keys = [keyD.publicJWK, ...keys];
		assert.equal(await kidOf(tokenA, 301), keyA.kid);
		if (withWaitUntil) {
			for (let i = 0; requests < seen + 1; i++) {
				if (i > 200) throw new Error("the background refresh never reached the issuer");
				await new Promise((r) => setTimeout(r, 50));
			}
		}
		assert.equal(requests, seen + 1, "one refresh");
		assert.equal(await kidOf(makeToken(keyD, { payload: claims() })), keyD.kid);
		assert.equal(requests, seen + 1, "no fetch of its own");
	});
}
