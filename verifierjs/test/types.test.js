// index.d.ts type-checks against a usage file (test/types-check.ts), with
// tsc --strict resolving "kycvs-verifier" through the package's exports map
// (a self-reference: the usage file lives inside the package).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pkgDir = new URL("../", import.meta.url).pathname;

test("index.d.ts: tsc --strict on a usage file", { timeout: 120_000 }, () => {
	const dir = mkdtempSync(join(tmpdir(), "kycvs-types-"));
	try {
		writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
		writeFileSync(
			join(dir, "tsconfig.json"),
			JSON.stringify({
				compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [] },
				files: [join(pkgDir, "test/types-check.ts")],
			}),
		);
		const tsc = join(pkgDir, "node_modules/typescript/bin/tsc");
		let out = "";
		try {
			out = execFileSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8", cwd: dir });
		} catch (err) {
			out = err.stdout || String(err);
		}
		assert.equal(out.trim(), "");
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
