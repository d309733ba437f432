// A Go runtime that dies during a call (a fatal error, such as running out
// of memory) returns an unspecified value and leaves its answer buffer as
// it was: verifierjs must answer ERR_CONFIG, never read either, and a
// verifier made afterwards must get a working instance. The dying module is
// internal/wasmcrash, built here with the Go toolchain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

test("a Go runtime that dies during verify gives ERR_CONFIG, and the next verifier a new instance", { timeout: 300_000 }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "kycvs-crash-"));
	try {
		const wasm = join(dir, "crash.wasm");
		try {
			execFileSync("go", ["build", "-o", wasm, "./internal/wasmcrash"], { cwd: root, env: { ...process.env, GOOS: "js", GOARCH: "wasm" }, stdio: ["ignore", "ignore", "inherit"] });
		} catch (err) {
			if (process.env.CI === "true") throw err;
			t.skip(`cannot build internal/wasmcrash (${err.message})`);
			return;
		}
		const fixture = new URL("fixtures/crash.js", import.meta.url).pathname;
		const stdout = await new Promise((resolve, reject) =>
			execFile(process.execPath, [fixture, wasm, join(root, "verifierjs/kycvs.wasm"), join(root, "testdata/vectors/ok-status-1.json")], (err, out, stderr) =>
				err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
			),
		);
		const out = JSON.parse(stdout.trimEnd().split("\n").pop());
		assert.equal(out.during.code, "ERR_CONFIG", JSON.stringify(out.during));
		assert.match(out.during.message, /stopped during the call/);
		assert.equal(out.after.code, "ERR_CONFIG", JSON.stringify(out.after));
		assert.equal(out.next.result?.status, 1, JSON.stringify(out.next));
		assert.equal(out.old.code, "ERR_CONFIG", "a verifier of the dead instance stays dead");
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
