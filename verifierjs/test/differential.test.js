// Differential: mutated tokens (flipped, inserted, deleted or non-ASCII
// characters, cut or repeated segments) get the same answer from verifierjs
// as from the Go command `kycvs verify`, so that nothing on the way into the
// wasm (UTF-8 encoding, the size cut, the clock, the nonce) changes a verdict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVerifier, KycvsError } from "../index.js";
import { loadVectors } from "./tokens.js";

const kycvs = new URL("../../bin/kycvs", import.meta.url).pathname;
const found = existsSync(kycvs);
const N = Number(process.env.KYCVS_DIFF_CASES || 120);

// A small deterministic generator (xorshift32), so that a failure replays.
function rng(seed) {
	let x = seed >>> 0 || 1;
	return (n) => {
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		return x % n;
	};
}

const pieces = ["A", "_", "-", ".", "=", " ", "\n", "é", "€", "😀", "\u0000", "+", "/", "eyJ"];

function mutate(token, r) {
	const i = r(token.length + 1);
	switch (r(7)) {
		case 0: // replace one character
			return token.slice(0, i) + pieces[r(pieces.length)] + token.slice(i + 1);
		case 1: // insert
			return token.slice(0, i) + pieces[r(pieces.length)] + token.slice(i);
		case 2: // delete a run
			return token.slice(0, i) + token.slice(i + 1 + r(8));
		case 3: // cut
			return token.slice(0, i);
		case 4: // a segment twice
			return token.split(".").flatMap((s, k) => (k === r(3) ? [s, s] : [s])).join(".");
		case 5: // grow past the size limit, with multi-byte characters near it
			return token + "é".repeat(1800 + r(400));
		default: // flip the case of one character
			return token.slice(0, i) + (token[i] ?? "").replace(/[a-z]/, (c) => c.toUpperCase()).replace(/^[A-Z]$/, (c) => c.toLowerCase()) + token.slice(i + 1);
	}
}

function run(args, input) {
	return new Promise((resolve, reject) => {
		const child = execFile(kycvs, args, { encoding: "utf8" }, (err, stdout, stderr) => {
			if (err && err.code !== 1) return reject(new Error(`kycvs verify: ${err.message} ${stderr}`));
			resolve(JSON.parse(stdout));
		});
		child.stdin.end(input);
	});
}

test(`differential: ${N} mutated tokens, verifierjs vs kycvs verify`, { skip: !found && "no bin/kycvs (./build.sh builds it)", timeout: 300_000 }, async (t) => {
	const vectors = loadVectors().filter((v) => v.expect.status !== undefined);
	const dir = mkdtempSync(join(tmpdir(), "kycvs-diff-"));
	try {
		const r = rng(20261128);
		const verifiers = new Map();
		const codes = new Map();
		for (let i = 0; i < N; i++) {
			const v = vectors[r(vectors.length)];
			const jwksFile = join(dir, `${v.name}.json`);
			if (!verifiers.has(v.name)) {
				writeFileSync(jwksFile, v.jwks);
				verifiers.set(v.name, await createVerifier({ jwks: v.jwks, issuer: v.issuer, audience: v.audience, leeway: v.leeway }));
			}
			let token = v.token;
			for (let k = 1 + r(2); k > 0; k--) token = mutate(token, r);
			// The command takes the token from stdin less one trailing newline.
			if (token.endsWith("\n")) token += "x";
			let js;
			try {
				js = verifiers.get(v.name).verify(token, { nonce: v.nonce || undefined, now: v.now });
			} catch (err) {
				assert.ok(err instanceof KycvsError, String(err));
				js = { code: err.code };
			}
			const args = ["verify", "--jwks", jwksFile, "--issuer", v.issuer, "--audience", v.audience, "--now", String(v.now)];
			if (v.nonce) args.push("--nonce", v.nonce);
			if (v.leeway !== undefined) args.push("--leeway", `${v.leeway}s`);
			const go = await run(args, token + "\n");
			delete go.message;
			assert.deepEqual(js, go, `case ${i}: ${JSON.stringify(token)}`);
			codes.set(js.code ?? "ok", (codes.get(js.code ?? "ok") ?? 0) + 1);
		}
		t.diagnostic([...codes].map(([c, n]) => `${c} ${n}`).join(", "));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
