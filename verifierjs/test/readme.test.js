// The README's code blocks, run. A loopback server plays the issuer
// (https://issuer.example in the text becomes its URL); the free names the
// snippets use (jwks, issuer, audience, token, nonce, session) are globals
// holding a real key set and a token signed for the snippet's audience.
// ```js blocks run as ES modules in Node, ```js esbuild blocks are bundled
// by esbuild first, the ```js worker block runs in workerd and answers a
// request. A block passes when it runs to its end without output (the first
// one prints a failure's code). The ```html page runs in Chromium against a
// real `kycvs serve`: a person goes through the embedded page and the page
// shows the verified status (under CI=true a missing Chromium or bin/kycvs
// is a failure).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { createRequire } from "node:module";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { execFileSync } from "node:child_process";
import { extname } from "node:path";
import { chromium } from "playwright-core";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newKey, makeToken, claims } from "./tokens.js";

const pkgDir = new URL("../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
const blocks = [...readme.matchAll(/^```(\w+)(?: (\w+))?\n([\s\S]*?)^```$/gm)].map((m, i) => ({
	n: i + 1,
	lang: m[1],
	tag: m[2] || "node",
	code: m[3],
	line: readme.slice(0, m.index).split("\n").length,
}));
const PLACEHOLDER = "https://issuer.example";
const NONCE = "readme-nonce-0123456789";
const key = newKey();

let dir, issuerServer, base;
before(async () => {
	issuerServer = createServer((req, res) => {
		if (req.url !== "/.well-known/jwks.json") return res.writeHead(404).end();
		res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" }).end(JSON.stringify(key.jwks));
	});
	await new Promise((resolve) => issuerServer.listen(0, "127.0.0.1", resolve));
	base = `http://127.0.0.1:${issuerServer.address().port}`;
	dir = mkdtempSync(join(tmpdir(), "kycvs-readme-"));
	const installed = join(dir, "node_modules/kycvs-verifier");
	mkdirSync(installed, { recursive: true });
	for (const f of [...pkg.files, "package.json"]) cpSync(join(pkgDir, f), join(installed, f));
	writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme", private: true, type: "module" }));
});
after(() => {
	issuerServer.close();
	rmSync(dir, { recursive: true, force: true });
});

// setup is what a block may take as given, for its audience.
function setup(code, issuer) {
	const audience = /audience: "([^"]+)"/.exec(code)?.[1] ?? "railway-booking";
	const now = Math.floor(Date.now() / 1000);
	const token = makeToken(key, { payload: claims({ iss: issuer, aud: audience, iat: now - 10, exp: now + 290, nonce: NONCE }) });
	return { jwks: key.jwks, issuer, audience, token, nonce: NONCE, session: { nonce: NONCE } };
}

function writeBlock(b, name, issuer) {
	const code = b.code.replaceAll(PLACEHOLDER, issuer);
	const given = setup(code, issuer);
	writeFileSync(join(dir, `given-${name}`), `Object.assign(globalThis, ${JSON.stringify(given)});\n`);
	writeFileSync(join(dir, name), `import "./given-${name}";\n${code}`);
	return given;
}

// run runs node (asynchronously: this process serves the JWKS).
async function run(args, what) {
	const child = spawn(process.execPath, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
	let out = "";
	child.stdout.on("data", (d) => (out += d));
	child.stderr.on("data", (d) => (out += d));
	const [status] = await new Promise((resolve) => child.on("close", (...a) => resolve(a)));
	assert.equal(status, 0, `${what} exited ${status}:\n${out}`);
	assert.equal(out, "", `${what} printed`);
}

async function freePort() {
	const s = createNetServer();
	await new Promise((r) => s.listen(0, "127.0.0.1", r));
	const { port } = s.address();
	await new Promise((r) => s.close(r));
	return port;
}

test("the README has the blocks this test knows", () => {
	assert.deepEqual(
		blocks.map((b) => `${b.lang} ${b.tag}`).sort(),
		["html node", "js esbuild", "js node", "js node", "js node", "js node", "js worker", "js worker"],
	);
});

for (const b of blocks.filter((b) => b.lang === "js" && b.tag === "node")) {
	test(`README block ${b.n} (line ${b.line}) runs in Node`, { timeout: 60_000 }, async () => {
		writeBlock(b, `block-${b.n}.mjs`, base);
		await run([`block-${b.n}.mjs`], `block ${b.n}`);
	});
}

for (const b of blocks.filter((b) => b.tag === "esbuild")) {
	test(`README block ${b.n} (line ${b.line}), bundled by esbuild as the README says, runs in Node`, { timeout: 60_000 }, async () => {
		const esbuild = await import("esbuild");
		writeBlock(b, `app-${b.n}.js`, base);
		// esbuild app.js --bundle --format=esm --loader:.wasm=file --outdir=dist
		await esbuild.build({ entryPoints: [join(dir, `app-${b.n}.js`)], bundle: true, format: "esm", loader: { ".wasm": "file" }, outdir: join(dir, `dist-${b.n}`), logLevel: "silent" });
		await run([join(`dist-${b.n}`, `app-${b.n}.js`)], `the bundle of block ${b.n}`);
	});
}

for (const b of blocks.filter((b) => b.tag === "worker")) {
	test(`README block ${b.n} (line ${b.line}) answers a request in workerd`, { timeout: 120_000 }, async (t) => {
		const workerd = createRequire(import.meta.url).resolve("workerd/bin/workerd");
		const w = join(dir, `worker-${b.n}`);
		mkdirSync(w);
		const code = b.code.replaceAll(PLACEHOLDER, base);
		const given = setup(code, base);
		writeFileSync(join(w, "worker.js"), code);
		writeFileSync(join(w, "jwks.json"), JSON.stringify(given.jwks));
		// Bundled as wrangler does (esbuild; the .wasm import stays a module
		// of its own, which workerd gives as a WebAssembly.Module).
		const esbuild = await import("esbuild");
		await esbuild.build({
			entryPoints: [join(w, "worker.js")],
			bundle: true,
			format: "esm",
			conditions: ["workerd", "worker", "browser"],
			external: ["kycvs-verifier/kycvs.wasm", "cloudflare:workers"],
			outfile: join(w, "bundle.js"),
			logLevel: "silent",
			absWorkingDir: dir,
		});
		cpSync(join(pkgDir, "kycvs.wasm"), join(w, "kycvs.wasm"));
		const port = await freePort();
		const esm = (name, file) => `(name = "${name}", esModule = embed "${file}")`;
		writeFileSync(
			join(w, "config.capnp"),
			`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker), (name = "net", network = (allow = ["public", "private", "local"]))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${esm("worker.js", "bundle.js")}, (name = "kycvs-verifier/kycvs.wasm", wasm = embed "kycvs.wasm")],
  compatibilityDate = "2025-09-01",
  globalOutbound = "net",
);
`,
		);
		let stderr = "";
		const child = spawn(workerd, ["serve", join(w, "config.capnp")], { stdio: ["ignore", "inherit", "pipe"] });
		t.after(() => child.kill());
		child.stderr.on("data", (d) => (stderr += d));
		const get = async (headers) => {
			for (let i = 0; ; i++) {
				try {
					const res = await fetch(`http://127.0.0.1:${port}/`, { headers });
					return { status: res.status, body: await res.text() };
				} catch (err) {
					if (i > 200 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
					await new Promise((r) => setTimeout(r, 100));
				}
			}
		};
		assert.deepEqual(await get({ authorization: `KYCVS ${given.token}` }), { status: 200, body: "status 2" }, stderr);
		assert.deepEqual(await get({ authorization: "KYCVS not-a-token" }), { status: 401, body: "ERR_MALFORMED" }, stderr);
	});
}

const kycvs = new URL("../../bin/kycvs", import.meta.url).pathname;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const ci = process.env.CI === "true";
const missing = ci ? false : !existsSync(kycvs) ? "no bin/kycvs" : !existsSync(executablePath) ? `no ${executablePath}` : false;

for (const b of blocks.filter((b) => b.lang === "html")) {
	test(`README block ${b.n} (line ${b.line}): the page, with kycvs serve, in Chromium`, { skip: missing, timeout: 120_000 }, async (t) => {
		const data = join(dir, `issuer-${b.n}`);
		mkdirSync(data);
		writeFileSync(join(data, "people.csv"), "beneficiary_id,mobile,name,vaccine,dose,date\n12345678901234,9876543210,Asha Devi,COVISHIELD,1,2021-05-03\n12345678901234,9876543210,Asha Devi,COVISHIELD,2,2021-08-01\n");
		execFileSync(kycvs, ["import", "--data", data, join(data, "people.csv")]);
		// The SMS webhook.
		let otp;
		const gotOTP = new Promise((resolve) => (otp = resolve));
		const inbox = createServer((req, res) => {
			let body = "";
			req.on("data", (c) => (body += c));
			req.on("end", () => {
				otp(/^(\d{6}) is your kycvs code/.exec(JSON.parse(body).text)?.[1]);
				res.end();
			});
		});
		await new Promise((resolve) => inbox.listen(0, "127.0.0.1", resolve));
		t.after(() => inbox.close());
		// The verifying entity's site: the README's page, and the package.
		const installed = join(dir, "node_modules/kycvs-verifier");
		const types = { ".js": "text/javascript", ".wasm": "application/wasm" };
		let page = "";
		const site = createServer((req, res) => {
			const path = new URL(req.url, "http://x").pathname;
			if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(page);
			const file = join(installed, path.replace(/^\/node_modules\/kycvs-verifier\//, ""));
			if (!path.startsWith("/node_modules/kycvs-verifier/") || path.includes("..") || !existsSync(file)) return res.writeHead(404).end();
			res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" }).end(readFileSync(file));
		});
		await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
		t.after(() => site.close());
		const origin = `http://127.0.0.1:${site.address().port}`;
		execFileSync(kycvs, ["client", "add", "--data", data, "--id", "railway-booking", "--name", "Railway Booking", "--origin", origin, "--json"]);
		// The issuer, at the URL the page names as its issuer.
		const port = await freePort();
		const issuer = `http://127.0.0.1:${port}`;
		const serve = spawn(kycvs, ["serve", "--addr", `127.0.0.1:${port}`, "--data", data, "--issuer", issuer, "--sms", "webhook", "--sms-webhook", `http://127.0.0.1:${inbox.address().port}/`], { stdio: ["ignore", "ignore", "pipe"] });
		t.after(() => serve.kill("SIGKILL"));
		await new Promise((resolve, reject) => {
			let log = "";
			createInterface({ input: serve.stderr }).on("line", (line) => {
				log += line + "\n";
				if (line.includes('"msg":"listening"')) resolve();
			});
			serve.on("exit", (code) => reject(new Error(`kycvs serve exited ${code}:\n${log}`)));
		});
		page = `<!doctype html><link rel="icon" href="data:,">\n${b.code.replaceAll(PLACEHOLDER, issuer)}`;

		const browser = await chromium.launch({ executablePath, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
		t.after(() => browser.close());
		const tab = await browser.newPage();
		const errors = [];
		tab.on("pageerror", (err) => errors.push(err.message));
		await tab.goto(`${origin}/`);
		const frame = tab.frameLocator("iframe");
		await frame.locator("#name").fill("Asha Devi");
		await frame.locator("#mobile").fill("9876543210");
		await frame.locator("#mobile").press("Enter");
		await frame.locator("#otp").fill(await gotOTP);
		await frame.locator("#otp").press("Enter");
		await frame.locator("#share").click();
		await tab.waitForFunction(() => document.body.innerText.includes("vaccinated"), null, { timeout: 30_000 });
		assert.match(await tab.evaluate(() => document.body.innerText), /fully vaccinated/);
		assert.deepEqual(errors, []);
	});
}
