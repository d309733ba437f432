// One cold start, in a fresh process: from reading kycvs.wasm (the package
// loads it itself) to the first verified token. Prints milliseconds as JSON.
import { readFileSync } from "node:fs";

const v = JSON.parse(readFileSync(process.argv[2], "utf8"));
const c0 = process.cpuUsage();
const t0 = performance.now();
const { createVerifier } = await import("../index.js");
const verifier = await createVerifier({ jwks: v.jwks, issuer: v.issuer, audience: v.audience });
const t1 = performance.now();
const r = verifier.verify(v.token, { now: v.now, nonce: v.nonce });
const t2 = performance.now();
if (r.jti !== v.expect.jti) throw new Error("wrong result");
const cpu = process.cpuUsage(c0); // every thread: V8 compiles in the background
console.log(JSON.stringify({ total: t2 - t0, load: t1 - t0, first: t2 - t1, cpu: (cpu.user + cpu.system) / 1000 }));
