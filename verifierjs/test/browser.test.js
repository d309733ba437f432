// The shared vector suite in real headless Chromium (Debian's /usr/bin/chromium,
// or $CHROMIUM): a loopback server serves a page that imports verifierjs the
// way a site would (fetch + instantiateStreaming) and leaves its results in
// window.kycvsResults. Under CI=true a missing Chromium fails the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { serve } from "./server.js";

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const found = existsSync(executablePath);
const ci = process.env.CI === "true";

test("Chromium is installed", { skip: !found && !ci && `no ${executablePath} (apt-get install chromium); CI=true makes this a failure` }, () => {
	assert.ok(found, `${executablePath} is missing: .ci/run installs Debian's chromium`);
});

test("every vector in headless Chromium", { skip: !found && "no Chromium", timeout: 120_000 }, async (t) => {
	const server = await serve();
	const browser = await chromium.launch({
		executablePath,
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
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
