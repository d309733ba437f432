// The shared vector suite in real headless Chromium (Debian's /usr/bin/chromium,
// or $CHROMIUM): a loopback server serves a page that imports verifierjs the
// way a site would (fetch + instantiateStreaming) and leaves its results in
// window.kycvsResults. Under CI=true a missing Chromium fails the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { serve } from "./server.js";
import { makeFixture } from "./tokens.js";

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const found = existsSync(executablePath);
const ci = process.env.CI === "true";
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

test("Chromium is installed", { skip: !found && !ci && `no ${executablePath} (apt-get install chromium); CI=true makes this a failure` }, () => {
	assert.ok(found, `${executablePath} is missing: .ci/run installs Debian's chromium`);
});

test("every vector in headless Chromium", { skip: !found && "no Chromium", timeout: 120_000 }, async (t) => {
	const server = await serve();
	const browser = await chromium.launch({
		executablePath,
		headless: true,
		args,
	});
	try {
		const page = await browser.newPage();
		const errors = [];
		page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
		page.on("console", (msg) => {
			if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
		});
		await page.goto(`${server.url}/`);
		await page.waitForFunction(() => window.kycvsResults !== undefined, null, { timeout: 90_000 });
		const results = await page.evaluate(() => window.kycvsResults);
		t.diagnostic(`${browser.version()}: ${results.passed}/${results.total} vectors in ${Math.round(results.ms)} ms`);
		assert.deepEqual(results.failures.concat(errors), []);
		assert.ok(results.total > 100, `only ${results.total} vectors ran`);
		assert.equal(results.passed, results.total);
	} finally {
		await browser.close();
		await server.close();
	}
});

test("a destructured verify survives GC and 1,000 other verifiers in Chromium", { skip: !found && "no Chromium", timeout: 120_000 }, async (t) => {
	const fixture = makeFixture();
	const server = await serve({ extra: { "/gc-fixture.json": { type: "application/json", body: JSON.stringify(fixture) } } });
	const browser = await chromium.launch({ executablePath, headless: true, args: [...args, "--js-flags=--expose-gc"] });
	try {
		const page = await browser.newPage();
		const errors = [];
		page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
		await page.goto(`${server.url}/gc`);
		await page.waitForFunction(() => window.kycvsGC !== undefined, null, { timeout: 90_000 });
		const results = await page.evaluate(() => window.kycvsGC);
		t.diagnostic(`${browser.version()}: ${results.others} other verifiers`);
		assert.deepEqual(results.problems.concat(errors), []);
		assert.equal(results.others, fixture.others.length);
	} finally {
		await browser.close();
		await server.close();
	}
});
