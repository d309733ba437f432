// The package as npm ships it: `npm pack`, install the tarball into an empty
// project outside the repository, import it by name. The tarball holds
// exactly the allow-listed files; the consumer verifies a vector with
// createVerifier, and verifies a running `kycvs serve`'s tokens with
// createRemoteVerifier through a `kycvs keys rotate`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pkgDir = new URL("../", import.meta.url).pathname;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const kycvs = new URL("../../bin/kycvs", import.meta.url).pathname;
const haveKycvs = existsSync(kycvs);
const ci = process.env.CI === "true";

let dir, app, info;

before(() => {
	dir = mkdtempSync(join(tmpdir(), "kycvs-pack-"));
	[info] = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", dir], { cwd: pkgDir, encoding: "utf8" }));
	app = join(dir, "app");
	mkdirSync(app);
	writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
	execFileSync(npm, ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", join(dir, info.filename)], { cwd: app });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("npm pack → install → import by name", { timeout: 120_000 }, () => {
	assert.deepEqual(info.files.map((f) => f.path).sort(), [
		"LICENSE",
		"README.md",
		"index.d.ts",
		"index.js",
		"kycvs.wasm",
		"kycvs.wasm.d.ts",
		"package.json",
		"remote.js",
		"wasm_exec.js",
	]);
	// The licence shipped is the repository's.
	assert.equal(readFileSync(join(app, "node_modules/kycvs-verifier/LICENSE"), "utf8"), readFileSync(new URL("../../LICENSE", import.meta.url), "utf8"));
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
});

test("bin/kycvs is built", { skip: !haveKycvs && !ci && "no bin/kycvs: run ./build.sh first" }, () => {
	assert.ok(haveKycvs, "bin/kycvs is missing: ./build.sh builds it before test_js");
});

// The consumer: reads {id, token, nonce} lines and answers each with
// {id, kid} or {id, code}, verifying them concurrently with the remote
// verifier's defaults, but for a clock that a line can move forward
// ({advance: seconds}).
const consumer = `import { createRemoteVerifier } from "kycvs-verifier";
import { createInterface } from "node:readline";
const [jwksUrl, issuer, audience] = process.argv.slice(2);
let offset = 0;
const verifier = createRemoteVerifier({ jwksUrl, issuer, audience, clock: () => Date.now() + offset });
for await (const line of createInterface({ input: process.stdin })) {
	const { id, token, nonce, advance } = JSON.parse(line);
	offset += (advance ?? 0) * 1000;
	verifier.verify(token, { nonce }).then(
		(r) => console.log(JSON.stringify({ id, kid: r.kid, status: r.status })),
		(err) => console.log(JSON.stringify({ id, code: err.code, message: err.message })),
	);
}
`;

const ISSUER = "https://kycvs.test";

test("createRemoteVerifier against kycvs serve through a key rotation", { skip: !haveKycvs && "no bin/kycvs", timeout: 120_000 }, async (t) => {
	const data = join(dir, "data");
	// The SMS webhook: the OTPs the issuer sends, by number.
	const otps = new Map();
	const waiting = new Map();
	const inbox = createServer((req, res) => {
		let body = "";
		req.on("data", (c) => (body += c));
		req.on("end", () => {
			const { to, text } = JSON.parse(body);
			const otp = /^(\d{6}) is your kycvs code/.exec(text)?.[1];
			otps.set(to, otp);
			waiting.get(to)?.(otp);
			res.end();
		});
	});
	await new Promise((resolve) => inbox.listen(0, "127.0.0.1", resolve));
	t.after(() => inbox.close());
	const otpFor = (mobile) => otps.get("+91" + mobile) ?? new Promise((resolve) => waiting.set("+91" + mobile, resolve));

	// kycvs serve, with a 2 s JWKS max-age, so that a rotation takes effect
	// (the new key signs) about 4 s after `kycvs keys rotate`.
	const serve = spawn(kycvs, [
		"serve", "--addr", "127.0.0.1:0", "--data", data, "--issuer", ISSUER,
		"--sms", "webhook", "--sms-webhook", `http://127.0.0.1:${inbox.address().port}/`,
		"--otp-cooldown", "0", "--rate-ip", "-1", "--rate-client", "-1", "--otp-per-day", "100000", "--otp-per-source", "100000", "--jwks-max-age", "2s",
		"--metrics-addr", "127.0.0.1:0", // the private listener: the public one never serves /metrics
	], { stdio: ["ignore", "ignore", "pipe"] });
	t.after(() => serve.kill("SIGKILL"));
	let serveLog = "";
	let metricsBase;
	const base = await new Promise((resolve, reject) => {
		createInterface({ input: serve.stderr }).on("line", (line) => {
			serveLog += line + "\n";
			try {
				const l = JSON.parse(line);
				if (l.msg === "metrics listening") metricsBase = `http://${l.addr}`;
				if (l.msg === "listening") resolve(`http://${l.addr}`);
			} catch {}
		});
		serve.on("exit", (code) => reject(new Error(`kycvs serve exited ${code}:\n${serveLog}`)));
	});
	assert.ok(metricsBase, "kycvs serve logged no metrics listener");
	const { api_key: apiKey } = JSON.parse(
		execFileSync(kycvs, ["client", "add", "--data", data, "--id", "rail", "--name", "Railway", "--origin", "https://rail.example", "--json"], { encoding: "utf8" }),
	);

	async function post(path, body, key) {
		const r = await fetch(base + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
		const json = await r.json();
		if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
		return json;
	}
	async function token(n) {
		const mobile = `7${String(n).padStart(9, "0")}`;
		const nonce = `rotation-${n}-nonce`;
		const { txn } = await post("/v1/otp", { mobile, name: "Some One", nonce }, apiKey);
		const { token } = await post("/v1/otp/confirm", { txn, otp: await otpFor(mobile), consent: true }, apiKey);
		return { token, nonce };
	}
	// The JWKS requests the issuer answered, by status code, from its metrics.
	async function jwksRequests() {
		const metrics = await (await fetch(metricsBase + "/metrics")).text();
		const byCode = {};
		for (const m of metrics.matchAll(/^kycvs_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)) {
			if (!m[1].includes('route="GET /.well-known/jwks.json"')) continue;
			const code = /code="(\d+)"/.exec(m[1])[1];
			byCode[code] = (byCode[code] ?? 0) + Number(m[2]);
		}
		return byCode;
	}
	assert.deepEqual(await jwksRequests(), {});

	// The consumer, outside the repository, verifying concurrently.
	writeFileSync(join(app, "remote.js"), consumer);
	const child = spawn(process.execPath, ["remote.js", `${base}/.well-known/jwks.json`, ISSUER, "rail"], { cwd: app, stdio: ["pipe", "pipe", "inherit"] });
	t.after(() => child.kill());
	const pending = new Map();
	createInterface({ input: child.stdout }).on("line", (line) => {
		const r = JSON.parse(line);
		pending.get(r.id)(r);
		pending.delete(r.id);
	});
	const verify = (id, t) =>
		new Promise((resolve) => {
			pending.set(id, resolve);
			child.stdin.write(JSON.stringify({ id, ...t }) + "\n");
		});

	const kids = new Map();
	const failures = [];
	let next = 0;
	let rotatedAt = -1;
	let newKid = null;
	let newKidVerified = 0;
	async function worker() {
		while (newKidVerified < 40) {
			const id = next++;
			if (id > 5000) throw new Error("the new key never signed");
			const r = await verify(id, await token(id));
			if (r.code) failures.push(r);
			else {
				kids.set(r.kid, (kids.get(r.kid) ?? 0) + 1);
				if (rotatedAt >= 0 && kids.size === 2) {
					newKid ??= r.kid;
					if (r.kid === newKid) newKidVerified++;
				}
			}
			if (id === 20) {
				const out = execFileSync(kycvs, ["keys", "rotate", "--data", data], { encoding: "utf8" });
				t.diagnostic(out.trim());
				rotatedAt = id;
			}
		}
	}
	await Promise.all([worker(), worker(), worker(), worker()]);
	const fetches = await jwksRequests();
	t.diagnostic(`${next} tokens verified by the packed consumer, ${failures.length} failures, JWKS requests by status ${JSON.stringify(fetches)}, tokens per kid: ${JSON.stringify([...kids.values()])}`);
	assert.deepEqual(failures, []);
	assert.equal(kids.size, 2, "tokens were signed by the old key and the new one");
	// Two fetches of the set: at the first verify, and when the first token
	// signed by the new key arrived (its kid was unknown). The 2 s max-age
	// counts as the 60 s minimum: a run slower than that would add 304
	// revalidations, and nothing else.
	assert.equal(fetches["200"], 2);
	assert.deepEqual(Object.keys(fetches).filter((c) => c !== "200" && c !== "304"), []);

	// A minute later the set is stale: the next verify answers from it and
	// revalidates with the issuer's ETag, which answers 304.
	const before = fetches["304"] ?? 0;
	const id = next++;
	const r = await verify(id, { ...(await token(id)), advance: 61 });
	assert.ok(r.kid, JSON.stringify(r));
	for (let i = 0; ((await jwksRequests())["304"] ?? 0) === before; i++) {
		if (i > 200) throw new Error(`no revalidation: ${JSON.stringify(await jwksRequests())}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	assert.deepEqual(await jwksRequests(), { 200: 2, 304: before + 1 });
});
