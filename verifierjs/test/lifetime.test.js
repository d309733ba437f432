// Lifetimes at the wasm boundary, as an integrator meets them: a verify
// function outlives the object it came on, and can never answer for another
// verifier (test/gc-check.js). Node runs it with real garbage collection
// (--expose-gc); test/browser.test.js runs the same check in Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

const fixture = new URL("fixtures/gc.js", import.meta.url).pathname;

test("a destructured verify survives GC and 1,000 other verifiers, and answers only for its own", { timeout: 120_000 }, async () => {
	const out = await new Promise((resolve, reject) =>
		execFile(process.execPath, ["--expose-gc", fixture], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
			err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
		),
	);
	assert.deepEqual(out.problems, []);
});
