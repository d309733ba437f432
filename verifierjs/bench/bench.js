// ./build.sh bench (bench_js): verifierjs against panva/jose and Node's own
// crypto.verify, side by side in one Node process on the same token, plus the
// wasm's size and its cold start against an empty Go wasm program's (wasm/empty,
// built here), interleaved in fresh processes. Prints a table with the goals of
// issues 7 and 15 as ratios measured in this run.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { loadavg, availableParallelism, tmpdir } from "node:os";
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { compactVerify, importJWK } from "jose";
import { createVerifier } from "../index.js";
import { checkClaims } from "../test/jose-ref.js";

const vectorsDir = new URL("../../testdata/vectors/", import.meta.url);
const files = readdirSync(vectorsDir).filter((f) => f.endsWith(".json")).sort();
const vectors = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, vectorsDir), "utf8"))]);
// The same token for everyone: a good one, with a name binding if there is one.
const [file, v] = vectors.find(([, v]) => v.expect.nmh) ?? vectors.find(([, v]) => v.expect.status !== undefined);
const jwks = JSON.parse(v.jwks);
const jwk = jwks.keys.find((k) => k.kid === v.expect.kid);
const opts = { now: v.now, nonce: v.nonce };

const rounds = Number(process.env.BENCH_ROUNDS || 7);
const minMs = Number(process.env.BENCH_ROUND_MS || 300);

// Times n calls of fn in µs/op.
async function timeN(fn, isAsync, n) {
	const t = performance.now();
	if (isAsync) for (let i = 0; i < n; i++) await fn();
	else for (let i = 0; i < n; i++) fn();
	return ((performance.now() - t) * 1000) / n;
}

// Runs the contenders in interleaved rounds (so that a busy machine slows
// them alike) of about minMs each, and returns each one's median µs/op and
// the median of the per-round ratios to the first.
async function measure(contenders) {
	const ns = [];
	for (const c of contenders) {
		let n = 8;
		while ((await timeN(c.fn, c.isAsync, n)) * n < (minMs * 1000) / 4) n *= 2;
		ns.push(n * 4);
	}
	const per = contenders.map(() => []);
	const ratios = contenders.map(() => []);
	for (let r = 0; r < rounds; r++) {
		const us = [];
		for (let i = 0; i < contenders.length; i++) us.push(await timeN(contenders[i].fn, contenders[i].isAsync, ns[i]));
		us.forEach((u, i) => {
			per[i].push(u);
			ratios[i].push(u / us[0]);
		});
	}
	const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
	return contenders.map((c, i) => ({ us: median(per[i]), ratio: median(ratios[i]) }));
}

// verifierjs: the whole check in wasm.
const verifier = await createVerifier({ jwks, issuer: v.issuer, audience: v.audience });
const want = verifier.verify(v.token, opts);
// panva/jose: key imported once, payload decoded with @msgpack/msgpack, claims checked.
const joseKey = await importJWK(jwk, "EdDSA");
const joseOnce = async () => {
	const { payload, protectedHeader } = await compactVerify(v.token, joseKey, { algorithms: ["EdDSA"] });
	return checkClaims(protectedHeader, payload, { issuer: v.issuer, audience: v.audience, ...opts });
};
const viaJose = await joseOnce();
if (JSON.stringify(viaJose) !== JSON.stringify(want)) throw new Error(`jose and verifierjs differ: ${JSON.stringify(viaJose)} ${JSON.stringify(want)}`);
// Node's crypto.verify of the signature alone (OpenSSL, native).
const keyObject = createPublicKey({ key: jwk, format: "jwk" });
const dot = v.token.lastIndexOf(".");
const signingInput = Buffer.from(v.token.slice(0, dot));
const signature = Buffer.from(v.token.slice(dot + 1), "base64url");
if (!cryptoVerify(null, signingInput, keyObject, signature)) throw new Error("crypto.verify rejects the token");

const [vj, jo, cr] = await measure([
	{ fn: () => verifier.verify(v.token, opts) },
	{ fn: joseOnce, isAsync: true },
	{ fn: () => cryptoVerify(null, signingInput, keyObject, signature) },
]);
const usVerifierjs = vj.us, usJose = jo.us, usCrypto = cr.us;

// Size of the module.
const wasm = readFileSync(new URL("../kycvs.wasm", import.meta.url));
const gz = gzipSync(wasm, { level: 9 }).length;
const br = brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: wasm.length } }).length;

// Cold start, in fresh processes, interleaved with the floor: an empty Go
// program loaded by the same wasm_exec.js. Medians of 7.
const emptyWasm = join(mkdtempSync(join(tmpdir(), "kycvs-bench-")), "empty.wasm");
execFileSync("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", emptyWasm, "./wasm/empty"], {
	cwd: new URL("../..", import.meta.url).pathname,
	env: { ...process.env, GOOS: "js", GOARCH: "wasm" },
});
const run = (script, arg) => JSON.parse(execFileSync(process.execPath, [new URL(script, import.meta.url).pathname, arg], { encoding: "utf8" }));
const cold = [], floor = [];
for (let i = 0; i < 7; i++) {
	cold.push(run("cold.js", new URL(file, vectorsDir).pathname));
	floor.push(run("cold-empty.js", emptyWasm));
}
// What the cold start's CPU tracks (V8 compiles a wasm function when it
// first runs): the bytes of function bodies compiled before the first
// result, counted from V8's trace in one more traced run of each. Unlike
// time, the count does not depend on the machine's load.
const compiled = (script, arg) => {
	const out = execFileSync(process.execPath, ["--trace-wasm-compilation-times", new URL(script, import.meta.url).pathname, arg], { encoding: "utf8" });
	let n = 0;
	for (const m of out.matchAll(/using Liftoff.*bodysize (\d+)/g)) n += Number(m[1]);
	return n; // 0: this Node's V8 prints no such trace
};
const compiledCold = compiled("cold.js", new URL(file, vectorsDir).pathname), compiledFloor = compiled("cold-empty.js", emptyWasm);
rmSync(dirname(emptyWasm), { recursive: true });
const med = (a, k) => a.map((x) => x[k]).sort((x, y) => x - y)[a.length >> 1];
const c = { total: med(cold, "total"), load: med(cold, "load"), first: med(cold, "first") };
const coldCPU = med(cold, "cpu");
const floorTotal = med(floor, "total"), floorCPU = med(floor, "cpu");
const coldRatio = coldCPU / floorCPU;

const MB = (n) => `${(n / 1e6).toFixed(2)} MB`;
const rows = [
	["verifierjs verify (wasm)", `${usVerifierjs.toFixed(1)} µs/op`, ""],
	["panva/jose " + JSON.parse(readFileSync(new URL("../node_modules/jose/package.json", import.meta.url))).version + " + @msgpack/msgpack", `${usJose.toFixed(1)} µs/op`, ""],
	["  jose / verifierjs", `${jo.ratio.toFixed(2)}x`, `goal ≥ 3x: ${jo.ratio >= 3 ? "met" : "NOT MET"}`],
	["node crypto.verify alone", `${usCrypto.toFixed(1)} µs/op`, ""],
	["  verifierjs / crypto.verify", `${(1 / cr.ratio).toFixed(2)}x`, ""],
	["kycvs.wasm raw", MB(wasm.length), ""],
	["kycvs.wasm gzip -9", MB(gz), `goal ≤ 1.0 MB: ${gz <= 1e6 ? "met" : "NOT MET"}`],
	["kycvs.wasm brotli 11", MB(br), ""],
	["cold start to first result", `${c.total.toFixed(1)} ms`, ""],
	["  load+compile+start+key set", `${c.load.toFixed(1)} ms`, ""],
	["  first verify", `${c.first.toFixed(2)} ms`, ""],
	["  CPU time, all threads", `${coldCPU.toFixed(1)} ms`, "(less sensitive to a busy machine)"],
	["empty Go wasm program, load to end of main", `${floorTotal.toFixed(1)} ms`, ""],
	["  CPU time, all threads", `${floorCPU.toFixed(1)} ms`, ""],
	["  cold start / empty program, CPU", `${coldRatio.toFixed(2)}x`, `goal ≤ 1.3x: ${coldRatio <= 1.3 ? "met" : "NOT MET"}`],
	["  cold start / empty program, wall", `${(c.total / floorTotal).toFixed(2)}x`, ""],
	["wasm code compiled before the first result", compiledCold ? `${(compiledCold / 1000).toFixed(1)} KB` : "n/a", compiledCold ? `empty program: ${(compiledFloor / 1000).toFixed(1)} KB, ${(compiledCold / compiledFloor).toFixed(2)}x` : "(no V8 trace)"],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`verifierjs bench: Node ${process.version}, ${process.platform}/${process.arch}, token ${file} (${v.token.length} bytes), median of ${rounds} interleaved rounds, load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
for (const [a, b, t] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${t}`);
