// createRemoteVerifier inside workerd, the Cloudflare Workers runtime: made
// at module scope, it fetches the JWKS from a loopback server (this process)
// when the first requests arrive, many at once, and picks up a rotation.
// workerd cancels a request that waits on I/O another request started, so
// this is where sharing one fetch between requests could break.
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

const worker = `import { createRemoteVerifier } from "./index.js";
import wasmModule from "./kycvs.wasm";
const verifier = createRemoteVerifier({ jwksUrl: globalThis.JWKS_URL ?? "JWKS_URL", issuer: "${ISS}", audience: "${AUD}", wasmModule });
export default {
	async fetch(request) {
		const { token, nonce, now } = await request.json();
		try {
			return Response.json(await verifier.verify(token, { nonce, now }));
		} catch (err) {
			return Response.json({ code: err.code, message: err.message }, { status: 401 });
		}
	},
};
`;

// Two compatibility dates: before 2024-11-11 workerd refuses fetch's cache
// option, which remote.js then leaves out.
for (const compatibilityDate of ["2024-01-01", "2025-09-01"]) {
	test(`createRemoteVerifier in workerd (compatibility date ${compatibilityDate}): concurrent first requests, a rotation`, { timeout: 120_000 }, async (t) => {
		const keyA = newKey();
		const keyB = newKey();
		let keys = [keyA.publicJWK];
		let requests = 0;
		const jwks = createServer((req, res) => {
			requests++;
			// Slow enough that the concurrent first requests all wait for this one.
			setTimeout(() => res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "max-age=300" }).end(JSON.stringify({ keys })), 200);
		});
		await new Promise((r) => jwks.listen(0, "127.0.0.1", r));
		t.after(() => jwks.close());

		const workerd = createRequire(import.meta.url).resolve("workerd/bin/workerd");
		const dir = mkdtempSync(join(tmpdir(), "kycvs-remote-workerd-"));
		t.after(() => rmSync(dir, { recursive: true, force: true }));
		for (const f of ["index.js", "remote.js", "wasm_exec.js", "kycvs.wasm"]) copyFileSync(join(pkg, f), join(dir, f));
		writeFileSync(join(dir, "worker.js"), worker.replace('"JWKS_URL"', JSON.stringify(`http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`)));
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
		const verify = async (token) => {
			for (let i = 0; ; i++) {
				try {
					const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify({ token, nonce: NONCE, now: NOW }) });
					return await res.json();
				} catch (err) {
					if (i > 200 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
					await new Promise((r) => setTimeout(r, 100));
				}
			}
		};
		// Wait for workerd to listen, without touching the verifier.
		for (let i = 0; ; i++) {
			try {
				await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
				break;
			} catch {
				if (i > 200 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
				await new Promise((r) => setTimeout(r, 100));
			}
		}
		assert.equal(requests, 0);
		const tokenA = makeToken(keyA, { payload: claims() });
		const first = await Promise.all(Array.from({ length: 20 }, () => verify(tokenA)));
		assert.deepEqual(first.filter((r) => r.kid !== keyA.kid), [], stderr);
		assert.equal(requests, 1, "the concurrent first requests shared one fetch");
		// The issuer rotates; tokens of the new key arrive, many at once.
		keys = [keyB.publicJWK, keyA.publicJWK];
		const tokenB = makeToken(keyB, { payload: claims() });
		const rotated = await Promise.all(Array.from({ length: 20 }, () => verify(tokenB)));
		assert.deepEqual(rotated.filter((r) => r.kid !== keyB.kid), [], stderr);
		assert.equal(requests, 2, "one refetch for the new kid");
	});
}
