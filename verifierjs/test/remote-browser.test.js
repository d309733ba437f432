// createRemoteVerifier in headless Chromium, where fetch goes through the
// browser's HTTP cache: the JWKS is cacheable (max-age=300), yet a token of
// a rotated key must make the verifier see the new set at once; from the
// page's own origin, and from another one that allows any origin but does
// not expose its ETag (as kycvs serve does). Under CI=true a missing
// Chromium is a failure, as in browser.test.js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

const pkgDir = new URL("../", import.meta.url).pathname;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const noChromium = !existsSync(executablePath) && (process.env.CI === "true" ? false : `no ${executablePath}`);
const NONCE = "nonce-1234567890";

for (const { etag, cross } of [{ etag: true }, { etag: false }, { etag: true, cross: true }]) {
	const name = `${etag ? "with" : "without"} ETag${cross ? ", from another origin" : ""}`;
	test(`Chromium: a rotation is seen at once through the HTTP cache (${name})`, { skip: noChromium, timeout: 60_000 }, async () => {
		const keyA = newKey();
		const keyB = newKey();
		let keys = [keyA.publicJWK];
		const requests = [];
		const types = { ".js": "text/javascript", ".wasm": "application/wasm" };
		const server = createServer((req, res) => {
			const path = new URL(req.url, "http://x").pathname;
			if (path === "/") {
				return res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><link rel="icon" href="data:,"><script type="module">
					import { createRemoteVerifier } from "/pkg/index.js";
					const v = createRemoteVerifier({ jwksUrl: new URL("/jwks.json", ${cross ? JSON.stringify(`http://127.0.0.1:${jwksServer.address().port}/`) : "location.href"}), issuer: "${ISS}", audience: "${AUD}" });
					window.check = (token) => v.verify(token, { nonce: "${NONCE}", now: ${NOW} }).then((r) => r.kid, (e) => e.code);
				</script>`);
			}
			if (path === "/jwks.json") {
				requests.push(req.headers["if-none-match"] || "");
				const body = JSON.stringify({ keys });
				const h = { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" };
				if (etag) {
					h.etag = `"${createHash("sha256").update(body).digest("base64url")}"`;
					if (req.headers["if-none-match"] === h.etag) return res.writeHead(304, h).end();
				}
				return res.writeHead(200, h).end(body);
			}
			if (path.startsWith("/pkg/") && !path.includes("..")) {
				const file = join(pkgDir, path.slice(5));
				if (existsSync(file)) return res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" }).end(readFileSync(file));
			}
			res.writeHead(404).end();
		});
		await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
		// The same handler on a second port: another origin for the page.
		const jwksServer = cross ? createServer(server.listeners("request")[0]) : server;
		if (cross) await new Promise((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
		const browser = await chromium.launch({ executablePath, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
		try {
			const page = await browser.newPage();
			const errors = [];
			page.on("pageerror", (err) => errors.push(err.message));
			await page.goto(`http://127.0.0.1:${server.address().port}/`);
			await page.waitForFunction(() => typeof window.check === "function");
			const check = (token) => page.evaluate((t) => window.check(t), token);
			const tokenA = makeToken(keyA, { payload: claims() });
			const tokenB = makeToken(keyB, { payload: claims() });
			assert.equal(await check(tokenA), keyA.kid);
			assert.equal(requests.length, 1);
			keys = [keyB.publicJWK, keyA.publicJWK];
			assert.equal(await check(tokenB), keyB.kid, "the new key was fetched, not taken from the browser's cache");
			assert.equal(await check(tokenA), keyA.kid);
			assert.equal(requests.length, 2);
			assert.deepEqual(errors, []);
		} finally {
			await browser.close();
			server.close();
			if (cross) jwksServer.close();
		}
	});
}
