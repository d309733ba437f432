// The README's bundler recipes, done as an integrator would: a project with
// kycvs-verifier in node_modules (the files npm ships), bundled by esbuild
// (ESM and IIFE) and by Vite (build and dev server). Each build must carry
// kycvs.wasm byte for byte and verify a token: the ESM bundle in Node, the
// browser builds in headless Chromium from a loopback server (under
// CI=true a missing Chromium is a failure, as in browser.test.js).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";

const pkgDir = new URL("../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const wasm = readFileSync(join(pkgDir, "kycvs.wasm"));
const vector = JSON.parse(readFileSync(new URL("../../testdata/vectors/ok-with-nmh.json", import.meta.url), "utf8"));
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const haveChromium = existsSync(executablePath);
const noChromium = !haveChromium && (process.env.CI === "true" ? false : `no ${executablePath}`);

let dir;
before(() => {
	dir = mkdtempSync(join(tmpdir(), "kycvs-bundlers-"));
	const installed = join(dir, "node_modules/kycvs-verifier");
	mkdirSync(installed, { recursive: true });
	for (const f of [...pkg.files, "package.json"]) cpSync(join(pkgDir, f), join(installed, f));
	writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
	writeFileSync(join(dir, "vector.json"), JSON.stringify(vector));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// The app: verify the vector's token and print the claims.
const verifyVector = (settings) => `const verifier = await createVerifier({ jwks: v.jwks, issuer: v.issuer, audience: v.audience${settings} });
	console.log(JSON.stringify(verifier.verify(v.token, { nonce: v.nonce, now: v.now })));`;

// wasmFiles lists the .wasm files under d and checks each is kycvs.wasm.
function wasmFiles(d) {
	const found = readdirSync(d, { recursive: true }).filter((f) => f.endsWith(".wasm"));
	for (const f of found) assert.ok(readFileSync(join(d, f)).equals(wasm), `${f} is not kycvs.wasm`);
	return found;
}

// serveDir serves a folder on loopback (wasm as application/wasm).
async function serveDir(root) {
	const types = { ".js": "text/javascript", ".html": "text/html", ".wasm": "application/wasm", ".json": "application/json" };
	const server = createServer((req, res) => {
		const path = new URL(req.url, "http://x").pathname;
		const file = join(root, path.endsWith("/") ? path + "index.html" : path);
		if (path.includes("..") || !existsSync(file)) return res.writeHead(404).end();
		res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" }).end(readFileSync(file));
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

// inChromium opens url and returns what the page logs first.
async function inChromium(url) {
	const browser = await chromium.launch({ executablePath, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
	try {
		const page = await browser.newPage();
		const logged = new Promise((resolve, reject) => {
			page.on("console", (msg) => (msg.type() === "log" ? resolve(msg.text()) : msg.type() === "error" && reject(new Error(msg.text()))));
			page.on("pageerror", reject);
		});
		await page.goto(url);
		return await logged;
	} finally {
		await browser.close();
	}
}

test("esbuild, ESM: the wasm imported with the file loader; the bundle runs in Node", async () => {
	const esbuild = await import("esbuild");
	const app = join(dir, "esm");
	mkdirSync(app);
	writeFileSync(
		join(app, "app.js"),
		`import { createVerifier } from "kycvs-verifier";
	import wasmFile from "kycvs-verifier/kycvs.wasm"; // the file loader copies it and gives its name
	import v from "../vector.json";
	${verifyVector(", wasmURL: new URL(wasmFile, import.meta.url)")}`,
	);
	await esbuild.build({ entryPoints: [join(app, "app.js")], bundle: true, format: "esm", loader: { ".wasm": "file" }, outdir: join(app, "dist"), logLevel: "silent" });
	assert.equal(wasmFiles(join(app, "dist")).length, 1);
	const out = execFileSync(process.execPath, [join(app, "dist/app.js")], { encoding: "utf8" });
	assert.deepEqual(JSON.parse(out), vector.expect);
});

test("esbuild, IIFE: the same with a public path; the page runs in Chromium", { skip: noChromium, timeout: 60_000 }, async () => {
	const esbuild = await import("esbuild");
	const app = join(dir, "iife");
	mkdirSync(app);
	writeFileSync(
		join(app, "app.js"),
		`import { createVerifier } from "kycvs-verifier";
	import wasmURL from "kycvs-verifier/kycvs.wasm"; // "/assets/kycvs-….wasm" with publicPath "/assets"
	import v from "../vector.json";
	(async () => {
	${verifyVector(", wasmURL")}
	})();`,
	);
	const dist = join(app, "dist");
	await esbuild.build({ entryPoints: [join(app, "app.js")], bundle: true, format: "iife", loader: { ".wasm": "file" }, publicPath: "/assets", outdir: join(dist, "assets"), logLevel: "silent" });
	assert.equal(wasmFiles(dist).length, 1);
	writeFileSync(join(dist, "index.html"), `<!doctype html><link rel="icon" href="data:,"><script src="/assets/app.js"></script>`);
	const server = await serveDir(dist);
	try {
		assert.deepEqual(JSON.parse(await inChromium(server.url)), vector.expect);
	} finally {
		await server.close();
	}
});

test("esbuild without the file loader: no wasm in the output, and an IIFE bundle cannot find it (the README's warning)", async () => {
	const esbuild = await import("esbuild");
	const app = join(dir, "naive");
	mkdirSync(app);
	writeFileSync(
		join(app, "app.js"),
		`import { createVerifier } from "kycvs-verifier";
	import v from "../vector.json";
	createVerifier({ jwks: v.jwks, issuer: v.issuer, audience: v.audience }).then(
		() => console.log("loaded"),
		(err) => console.log(err.code, err.message),
	);`,
	);
	for (const format of ["esm", "iife"]) {
		const dist = join(app, format);
		await esbuild.build({ entryPoints: [join(app, "app.js")], bundle: true, format, outdir: dist, logLevel: "silent" });
		assert.deepEqual(wasmFiles(dist), [], format);
		const out = execFileSync(process.execPath, [join(dist, "app.js")], { encoding: "utf8" });
		assert.match(out, format === "iife" ? /^ERR_CONFIG .*Invalid URL/ : /^ERR_CONFIG .*kycvs\.wasm/, format);
	}
});

// Vite needs no setting: it copies kycvs.wasm because index.js names it with
// new URL("./kycvs.wasm", import.meta.url).
const viteApp = (name) => {
	const app = join(dir, name);
	mkdirSync(app);
	writeFileSync(join(app, "index.html"), `<!doctype html><link rel="icon" href="data:,"><script type="module" src="/main.js"></script>`);
	writeFileSync(join(app, "vector.json"), JSON.stringify(vector));
	writeFileSync(
		join(app, "main.js"),
		`import { createVerifier } from "kycvs-verifier";
	import v from "./vector.json";
	(async () => {
	${verifyVector("")}
	})();`,
	);
	return app;
};

test("Vite build: kycvs.wasm is emitted without configuration; the page runs in Chromium", { timeout: 60_000 }, async (t) => {
	const vite = await import("vite");
	const app = viteApp("vite-build");
	await vite.build({ root: app, logLevel: "silent", configFile: false });
	const dist = join(app, "dist");
	const emitted = wasmFiles(dist);
	assert.equal(emitted.length, 1);
	const js = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(dist, "assets", f), "utf8")).join("\n");
	assert.ok(js.includes(emitted[0].replace(/^.*\//, "")), "the bundle names the emitted wasm");
	if (noChromium) return t.skip(noChromium);
	const server = await serveDir(dist);
	try {
		assert.deepEqual(JSON.parse(await inChromium(server.url)), vector.expect);
	} finally {
		await server.close();
	}
});

test("Vite dev server, with kycvs-verifier left out of dependency pre-bundling", { skip: noChromium, timeout: 60_000 }, async () => {
	const vite = await import("vite");
	const app = viteApp("vite-dev");
	const server = await vite.createServer({
		root: app,
		logLevel: "silent",
		configFile: false,
		optimizeDeps: { exclude: ["kycvs-verifier"] },
		server: { host: "127.0.0.1", port: 0, strictPort: false },
	});
	await server.listen();
	try {
		const { port } = server.httpServer.address();
		assert.deepEqual(JSON.parse(await inChromium(`http://127.0.0.1:${port}/`)), vector.expect);
	} finally {
		await server.close();
	}
});
