// Differential: the same random cases (mutated tokens, nonces, clocks,
// leeways and key sets) go through the native Go verifier and through
// verifierjs (the same core compiled to wasm, behind the JavaScript
// boundary), and every answer must be identical: code for code, claim for
// claim. Whatever the boundary does (UTF-8 encoding, the size cut, the
// clock's range, the nonce's limits, the options' defaults) must not change
// a verdict. KYCVS_DIFF_CASES sets the number of cases (CI: the default),
// KYCVS_DIFF_SEED replays a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVerifier, KycvsError } from "../index.js";
import { loadVectors } from "./tokens.js";

const N = Number(process.env.KYCVS_DIFF_CASES || 4000);
const SEED = Number(process.env.KYCVS_DIFF_SEED || Date.now() % 2 ** 31);
const root = new URL("../..", import.meta.url).pathname;

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

const MAX_TIME = 2 ** 53 - 1;

// One random case built from a vector: each part is kept, bent or replaced.
function randomCase(vectors, r) {
	const v = vectors[r(vectors.length)];
	const other = vectors[r(vectors.length)];
	const c = { jwks: v.jwks, issuer: v.issuer, audience: v.audience, nonce: v.nonce, now: v.now, token: v.token };
	if (v.leeway !== undefined) c.leeway = v.leeway;
	if (v.no_nonce) c.no_nonce = true;
	let token = v.token;
	for (let k = r(3); k > 0; k--) token = mutate(token, r);
	c.token = token;
	switch (r(16)) { // the nonce
		case 0: c.nonce = ""; break;
		case 1: c.nonce = other.nonce; break;
		case 2: c.nonce = v.nonce + "x".repeat(r(200)); break;
		case 3: c.nonce = "n".repeat(129 + r(5000)); break;
		case 4: c.nonce = v.nonce.slice(0, r(v.nonce.length + 1)) + pieces[r(pieces.length)]; break;
	}
	if (r(6) === 0) c.no_nonce = !c.no_nonce;
	switch (r(8)) { // the clock
		case 0: c.now = [0, -1, MAX_TIME, MAX_TIME + 1, 2 ** 62, -(2 ** 62), 8.64e12, 8.64e12 + 1][r(8)]; break;
		case 1: c.now = v.now + (r(2) ? 1 : -1) * r(4000); break;
		case 2: c.now = r(2 ** 31) * (r(2) ? 1 : -1) * (r(2) ? 2 ** 20 : 1); break;
		case 3: c.now = [-0, 0.25, -0.25, MAX_TIME - 0.5, v.now + 0.999, v.now - 0.001][r(6)]; break;
	}
	switch (r(12)) { // the leeway
		case 0: c.leeway = r(3700); break;
		case 1: c.leeway = [-1, 0, 3600, 3601][r(4)]; break;
		case 2: delete c.leeway; break;
	}
	switch (r(12)) { // the key set and settings
		case 0: c.jwks = other.jwks; break;
		case 1: c.jwks = mutate(v.jwks, r); break;
		case 2: c.issuer = other.issuer; break;
		case 3: c.audience = r(2) ? "" : other.audience; break;
	}
	return c;
}

async function viaJS(c, cache) {
	const key = JSON.stringify([c.jwks, c.issuer, c.audience, c.leeway, !!c.no_nonce]);
	try {
		let p = cache.get(key);
		if (!p) {
			p = createVerifier({ jwks: c.jwks, issuer: c.issuer, audience: c.audience, leeway: c.leeway, checkNonce: !c.no_nonce });
			p.catch(() => {});
			cache.set(key, p);
		}
		const verifier = await p;
		return { ...verifier.verify(c.token, { nonce: c.nonce, now: c.now }) };
	} catch (err) {
		assert.ok(err instanceof KycvsError, String(err && err.stack));
		return { code: err.code };
	}
}

test(`differential: ${N} random cases, native Go vs verifierjs (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "kycvs-diff-"));
	try {
		const bin = join(dir, "verifylines");
		try {
			execFileSync("go", ["build", "-o", bin, "./internal/verifylines"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
		} catch (err) {
			if (process.env.CI === "true") throw err;
			t.skip(`cannot build internal/verifylines (${err.message})`);
			return;
		}
		// Every vector is a starting point; most are valid tokens, bent here.
		const all = loadVectors();
		const vectors = all.filter((v) => v.expect.status !== undefined).concat(all.filter((_, i) => i % 3 === 0));
		const r = rng(SEED);
		const cases = Array.from({ length: N }, () => randomCase(vectors, r));
		const cache = new Map();
		const js = [];
		for (const c of cases) js.push(await viaJS(c, cache));
		const out = spawnSync(bin, { input: cases.map((c) => JSON.stringify(c)).join("\n") + "\n", encoding: "utf8", maxBuffer: 1 << 28 });
		assert.equal(out.status, 0, out.stderr);
		const go = out.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
		assert.equal(go.length, N);
		const codes = new Map();
		for (let i = 0; i < N; i++) {
			assert.deepEqual(js[i], go[i], `seed ${SEED}, case ${i}: ${JSON.stringify(cases[i]).slice(0, 600)}`);
			const k = js[i].code ?? "ok";
			codes.set(k, (codes.get(k) ?? 0) + 1);
		}
		t.diagnostic([...codes].sort().map(([c, n]) => `${c} ${n}`).join(", "));
		// The cases must reach every kind of answer, or they test little.
		for (const k of ["ok", "ERR_MALFORMED", "ERR_SIGNATURE", "ERR_NONCE", "ERR_CONFIG", "ERR_JWKS", "ERR_EXPIRED"]) {
			assert.ok(codes.get(k) > 0, `no case answered ${k}`);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
