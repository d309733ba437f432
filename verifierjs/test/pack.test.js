// The package as npm ships it: `npm pack`, install the tarball into an empty
// project, import it by name and verify a token; the tarball holds exactly
// the allow-listed files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pkgDir = new URL("../", import.meta.url).pathname;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

test("npm pack → install → import by name", { timeout: 120_000 }, () => {
	const dir = mkdtempSync(join(tmpdir(), "kycvs-pack-"));
	try {
		const [info] = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", dir], { cwd: pkgDir, encoding: "utf8" }));
		assert.deepEqual(info.files.map((f) => f.path).sort(), ["README.md", "index.d.ts", "index.js", "kycvs.wasm", "package.json", "wasm_exec.js"]);
		const app = join(dir, "app");
		execFileSync("mkdir", ["-p", app]);
		writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
		execFileSync(npm, ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", join(dir, info.filename)], { cwd: app });
		const vector = readFileSync(new URL("../../testdata/vectors/ok-with-nmh.json", import.meta.url), "utf8");
		writeFileSync(join(app, "vector.json"), vector);
		writeFileSync(
			join(app, "main.js"),
			`import { createVerifier } from "kycvs-verifier";
			import { readFileSync } from "node:fs";
			const v = JSON.parse(readFileSync("vector.json", "utf8"));
			const verifier = await createVerifier({ jwks: v.jwks, issuer: v.issuer, audience: v.audience });
			console.log(JSON.stringify(verifier.verify(v.token, { now: v.now, nonce: v.nonce })));`,
		);
		const out = JSON.parse(execFileSync(process.execPath, ["main.js"], { cwd: app, encoding: "utf8" }));
		assert.deepEqual(out, JSON.parse(vector).expect);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
