// The vector suite inside workerd, the Cloudflare Workers runtime (npm
// "workerd"): the worker imports kycvs.wasm as a WebAssembly.Module and passes
// it as wasmModule, since workerd forbids compiling wasm from bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadVectors } from "./tokens.js";

const pkg = new URL("../", import.meta.url).pathname;

async function freePort() {
	const s = createServer();
	await new Promise((r) => s.listen(0, "127.0.0.1", r));
	const { port } = s.address();
	await new Promise((r) => s.close(r));
	return port;
}

test("every vector in workerd", { timeout: 120_000 }, async (t) => {
	const workerd = createRequire(import.meta.url).resolve("workerd/bin/workerd");
	const dir = mkdtempSync(join(tmpdir(), "kycvs-workerd-"));
	let child;
	try {
		for (const f of ["index.js", "remote.js", "wasm_exec.js", "kycvs.wasm"]) copyFileSync(join(pkg, f), join(dir, f));
		copyFileSync(join(pkg, "test/vectors.js"), join(dir, "vectors.js"));
		copyFileSync(join(pkg, "test/workerd/worker.js"), join(dir, "worker.js"));
		const port = await freePort();
		const esm = (n) => `(name = "${n}", esModule = embed "${n}")`;
		writeFileSync(
			join(dir, "config.capnp"),
			`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${["worker.js", "index.js", "remote.js", "wasm_exec.js", "vectors.js"].map(esm).join(", ")}, (name = "kycvs.wasm", wasm = embed "kycvs.wasm")],
  compatibilityDate = "2025-09-01",
);
`,
		);
		let stderr = "";
		child = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "pipe"] });
		child.stderr.on("data", (d) => (stderr += d));
		const vectors = loadVectors();
		let res;
		for (let i = 0; ; i++) {
			try {
				res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify(vectors) });
				break;
			} catch (err) {
				if (i > 200 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
				await new Promise((r) => setTimeout(r, 100));
			}
		}
		const body = await res.text();
		assert.equal(res.status, 200, `${body}\n${stderr}`);
		const out = JSON.parse(body);
		t.diagnostic(`workerd: ${out.passed}/${out.total} vectors`);
		assert.deepEqual(out.failures, []);
		assert.deepEqual(out.globals, []);
		assert.equal(out.early, "ERR_CONFIG", "a verifier made at module scope");
		assert.equal(out.passed, vectors.length);
	} finally {
		child?.kill();
		rmSync(dir, { recursive: true, force: true });
	}
});
