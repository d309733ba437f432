// Tokens made by `kycvs sign` (bin/kycvs, built by ./build.sh) verified three
// ways that must agree: verifierjs, panva/jose (jose-ref.js) and the Go
// command `kycvs verify`. Under CI=true a missing bin/kycvs fails the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVerifier, KycvsError } from "../index.js";
import { joseVerifier } from "./jose-ref.js";

const kycvs = new URL("../../bin/kycvs", import.meta.url).pathname;
const found = existsSync(kycvs);
const ci = process.env.CI === "true";
const ISS = "https://issuer.kycvs.example";
const AUD = "railway-booking";
const NONCE = "n0nce-Interop_42";
const NOW = 1_750_000_000;
const flip = (s, i) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);

test("bin/kycvs is built", { skip: !found && !ci && "no bin/kycvs: run ./build.sh first" }, () => {
	assert.ok(found, "bin/kycvs is missing: ./build.sh builds it before test_js");
});

test("kycvs sign → verifierjs, panva/jose and kycvs verify agree", { skip: !found && "no bin/kycvs" }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "kycvs-interop-"));
	try {
		const keyFile = join(dir, "key.jwk");
		const jwksText = execFileSync(kycvs, ["keys", "generate", "--out", keyFile], { encoding: "utf8" });
		const jwksFile = join(dir, "jwks.json");
		writeFileSync(jwksFile, jwksText);
		const sign = (...args) =>
			execFileSync(kycvs, ["sign", "--key", keyFile, "--issuer", ISS, "--nonce", NONCE, ...args], { encoding: "utf8" }).trim();
		const goVerify = (token, ...args) => {
			const r = spawnSync(kycvs, ["verify", "--jwks", jwksFile, "--issuer", ISS, "--audience", AUD, ...args], { input: token + "\n", encoding: "utf8" });
			assert.ok(r.status === 0 || r.status === 1, `kycvs verify exit ${r.status}: ${r.stderr}`);
			return JSON.parse(r.stdout);
		};

		const verifier = await createVerifier({ jwks: jwksText, issuer: ISS, audience: AUD });
		const viaJose = joseVerifier({ jwks: jwksText, issuer: ISS, audience: AUD });
		const cases = [
			{ args: ["--status", "2", "--now", String(NOW)], now: NOW + 5 },
			{ args: ["--status", "1", "--now", String(NOW), "--ttl", "1h"], now: NOW + 3000 },
			{ args: ["--status", "0", "--now", String(NOW), "--name", "  Asha   DEVI "], now: NOW },
			{ args: ["--status", "2", "--name", "आशा देवी"], now: undefined }, // the real clock
		];
		for (const c of cases) {
			const token = sign("--audience", AUD, ...c.args);
			const opts = { nonce: NONCE, now: c.now };
			const js = verifier.verify(token, opts);
			const jose = await viaJose(token, opts);
			const go = goVerify(token, "--nonce", NONCE, ...(c.now ? ["--now", String(c.now)] : []));
			assert.deepEqual(js, go, `verifierjs vs kycvs verify for ${c.args.join(" ")}`);
			assert.deepEqual(js, jose, `verifierjs vs jose for ${c.args.join(" ")}`);
			assert.equal(js.status, Number(c.args[1]));
			assert.equal("nmh" in js, c.args.includes("--name"));
		}

		// Failures agree on the code with kycvs verify, and jose rejects them too.
		const other = sign("--audience", "event-gate", "--status", "2", "--now", String(NOW));
		const expired = sign("--audience", AUD, "--status", "2", "--now", String(NOW), "--ttl", "1m");
		const failures = [
			{ token: other, now: NOW, code: "ERR_AUDIENCE" },
			{ token: expired, now: NOW + 60 + 61, code: "ERR_EXPIRED" },
			{ token: expired, now: NOW, nonce: "another-nonce-1", code: "ERR_NONCE" },
			{ token: flip(expired, expired.length - 10), now: NOW, code: "ERR_SIGNATURE" },
		];
		for (const f of failures) {
			f.nonce ??= NONCE;
			let code = "accepted";
			try {
				verifier.verify(f.token, { now: f.now, nonce: f.nonce });
			} catch (err) {
				assert.ok(err instanceof KycvsError);
				code = err.code;
			}
			assert.equal(code, f.code);
			assert.equal(goVerify(f.token, "--now", String(f.now), "--nonce", f.nonce).code, f.code);
			await assert.rejects(viaJose(f.token, { now: f.now, nonce: f.nonce }));
		}
		t.diagnostic(`${cases.length} signed tokens and ${failures.length} failures agree across verifierjs, jose and kycvs verify`);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
