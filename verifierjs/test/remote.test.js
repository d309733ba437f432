// createRemoteVerifier against a real JWKS server on loopback (node:http),
// counting the requests it receives. The cache clock is injected, so that
// "an hour later" takes no time; tokens are checked at NOW (tokens.js).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { createRemoteVerifier, createVerifier, KycvsError } from "kycvs-verifier";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

const NONCE = "nonce-1234567890";
const keyA = newKey();
const keyB = newKey();
const tokenA = makeToken(keyA);
const tokenB = makeToken(keyB);
// A token naming a kid that no set has (its signature is never reached).
const forged = makeToken(keyA, { header: { alg: "EdDSA", kid: "no-such-kid", typ: "kycvs+msgpack" } });

// jwksServer serves a JWKS with ETag and Cache-Control, answers 304 to a
// matching If-None-Match, and can misbehave on demand.
async function jwksServer() {
	const s = {
		keys: [keyA.publicJWK],
		cacheControl: "public, max-age=300",
		mode: "ok", // ok | fail | hang | huge | huge-chunked | redirect | bad | no-etag
		requests: [], // the If-None-Match of each request ("" when none)
		hung: [],
		calls: 0, // fetches the verifier started (the real fetch, counted as it is called)
	};
	s.fetch = (url, init) => (s.calls++, globalThis.fetch(url, init));
	const body = () => JSON.stringify({ keys: s.keys });
	const etag = () => `"${createHash("sha256").update(body()).digest("base64url").slice(0, 16)}"`;
	const server = createServer((req, res) => {
		s.requests.push(req.headers["if-none-match"] || "");
		switch (s.mode) {
			case "fail":
				res.writeHead(500).end("down");
				return;
			case "hang":
				s.hung.push(res);
				return;
			case "huge":
				res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(" ".repeat((64 << 10) + 1));
				return;
			case "huge-chunked": {
				// 64 MiB without Content-Length, written as fast as it is read:
				// a client that stops reading at the limit stops it early.
				res.writeHead(200, { "content-type": "application/jwk-set+json", "transfer-encoding": "chunked" });
				const chunk = Buffer.alloc(64 << 10, " ");
				let left = 1024;
				const pump = () => {
					while (left > 0 && !res.destroyed) {
						left--;
						if (!res.write(chunk)) return res.once("drain", pump);
					}
					if (left === 0) res.end(() => (s.streamedAll = true));
				};
				res.on("close", () => (left = 0));
				pump();
				return;
			}
			case "redirect":
				res.writeHead(302, { location: "/elsewhere" }).end();
				return;
			case "bad":
				res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": s.cacheControl }).end('{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA","kid":"k"}]}');
				return;
		}
		const h = { "content-type": "application/jwk-set+json" };
		if (s.cacheControl != null) h["cache-control"] = s.cacheControl;
		if (s.mode !== "no-etag") {
			h.etag = etag();
			if (req.headers["if-none-match"] === h.etag) {
				res.writeHead(304, h).end();
				return;
			}
		}
		res.writeHead(200, h).end(body());
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	s.url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
	s.close = () => {
		for (const res of s.hung) res.destroy();
		server.closeAllConnections();
		return new Promise((resolve) => server.close(resolve));
	};
	after(s.close);
	return s;
}

// A clock the test moves by hand, in milliseconds.
function manualClock(start = 1_000_000) {
	let t = start;
	const clock = () => t;
	clock.advance = (seconds) => {
		t += seconds * 1000;
	};
	return clock;
}

const opts = (s, extra = {}) => ({ jwksUrl: s.url, issuer: ISS, audience: AUD, fetch: s.fetch, ...extra });
const ok = (v, token = tokenA) => v.verify(token, { nonce: NONCE, now: NOW });
async function rejectsWith(promise, code) {
	await assert.rejects(promise, (err) => {
		assert.ok(err instanceof KycvsError, `not a KycvsError: ${err}`);
		assert.equal(err.code, code, err.message);
		return true;
	});
}
// joinRefresh waits for the background refresh that the last verify
// started (the want-th fetch): a token with an unknown kid joins it, without
// a fetch of its own, and then fails with ERR_KID_UNKNOWN. The server must
// then have seen exactly want requests.
async function joinRefresh(v, s, want) {
	assert.equal(s.calls, want, "a refresh is under way");
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	assert.equal(s.requests.length, want);
	assert.equal(s.calls, want, "joining the refresh fetched nothing more");
}

test("the claims are createVerifier's; one fetch for many concurrent first calls", async () => {
	const s = await jwksServer();
	const v = createRemoteVerifier(opts(s));
	assert.equal(s.requests.length, 0, "nothing is fetched before the first verify");
	const results = await Promise.all(Array.from({ length: 20 }, () => ok(v)));
	assert.equal(s.requests.length, 1);
	const local = await createVerifier({ jwks: keyA.jwks, issuer: ISS, audience: AUD });
	for (const r of results) assert.deepEqual(r, local.verify(tokenA, { nonce: NONCE, now: NOW }));
	// The verify function works detached from its object.
	const { verify } = v;
	assert.equal((await verify(tokenA, { nonce: NONCE, now: NOW })).kid, keyA.kid);
	// Failed checks are the core's codes.
	await rejectsWith(v.verify(tokenA, { nonce: "another-nonce-1", now: NOW }), "ERR_NONCE");
	await rejectsWith(v.verify(tokenA, { nonce: NONCE, now: NOW + 3600 }), "ERR_EXPIRED");
	assert.equal(s.requests.length, 1);
});

test("Cache-Control max-age is honoured within 60 s … 24 h, 300 s without one", async (t) => {
	for (const [cacheControl, fresh] of [
		["public, max-age=120", 120],
		['max-age="90"', 90],
		["max-age=5", 60], // below the floor
		["max-age=0", 60],
		["no-store", 60],
		["no-cache, max-age=600", 60],
		["max-age=9999999", 86400], // above the ceiling
		[null, 300], // none
		["max-age=soon", 300], // unreadable: none
		["max-age=600, max-age=60", 600], // the first counts
	]) {
		await t.test(String(cacheControl), async () => {
			const s = await jwksServer();
			s.cacheControl = cacheControl;
			const clock = manualClock();
			const v = createRemoteVerifier(opts(s, { clock, maxAge: 2 * 86400 }));
			await ok(v);
			clock.advance(fresh);
			await ok(v);
			assert.equal(s.calls, 1, `still fresh at ${fresh} s`);
			clock.advance(1);
			await ok(v); // answered from the set at hand; the refresh runs meanwhile
			assert.equal(s.calls, 2, `refreshed after ${fresh} s`);
			await joinRefresh(v, s, 2);
			await s.close();
		});
	}
});

test("a refresh revalidates with the ETag: 304 keeps the set and restarts its age", async () => {
	const s = await jwksServer();
	s.cacheControl = "max-age=3600";
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock, maxAge: 7200 }));
	await ok(v);
	assert.equal(s.requests[0], "", "the first fetch is unconditional");
	for (let i = 1; i <= 3; i++) {
		clock.advance(3601);
		await ok(v);
		await joinRefresh(v, s, i + 1);
		assert.match(s.requests[i], /^"[A-Za-z0-9_-]+"$/, "If-None-Match carries the ETag");
	}
	// 3 × 3601 s = 3 h since the set was fetched, past maxAge (2 h): the
	// 304s kept it young. A server that no longer answers makes no difference
	// until maxAge after the last 304…
	s.mode = "fail";
	clock.advance(7200);
	await ok(v);
	await joinRefresh(v, s, 5);
	// …and then the set is not used.
	clock.advance(1);
	await rejectsWith(ok(v), "ERR_JWKS_STALE");
});

test("an unknown kid refetches at once, then at most once per cooldown", async () => {
	const s = await jwksServer();
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock }));
	await ok(v);
	// The issuer rotates: tokens signed by B arrive at once, many at a time.
	s.keys = [keyB.publicJWK, keyA.publicJWK];
	const results = await Promise.all(Array.from({ length: 10 }, () => ok(v, tokenB)));
	assert.ok(results.every((r) => r.kid === keyB.kid));
	assert.equal(s.requests.length, 2, "one refetch for all of them");
	await ok(v); // A is still published
	// Made-up kids: no fetch within the cooldown of that refetch…
	for (let i = 0; i < 50; i++) await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	clock.advance(29.999);
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	assert.equal(s.requests.length, 2, "no fetch for made-up kids within the cooldown");
	// …then one (a 304: the set is unchanged, the kid still unknown)…
	clock.advance(0.001);
	await Promise.all(Array.from({ length: 10 }, () => rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN")));
	assert.equal(s.requests.length, 3);
	assert.notEqual(s.requests[2], "", "revalidated with If-None-Match");
	// …and none again for the next cooldown.
	clock.advance(29);
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	assert.equal(s.requests.length, 3);
});

test("the cooldown is an option", async () => {
	const s = await jwksServer();
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock, cooldown: 2 }));
	await ok(v);
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	clock.advance(1.5);
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	assert.equal(s.requests.length, 2);
	clock.advance(0.5);
	await rejectsWith(v.verify(forged, { nonce: NONCE, now: NOW }), "ERR_KID_UNKNOWN");
	assert.equal(s.requests.length, 3);
});

test("a failed refresh keeps the last good set until maxAge, then fails closed", async () => {
	const s = await jwksServer();
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock }));
	await ok(v);
	s.mode = "fail";
	clock.advance(301);
	await ok(v); // the refresh fails in the background
	await joinRefresh(v, s, 2);
	await ok(v); // within the 5 s backoff: no new fetch
	assert.equal(s.calls, 2);
	clock.advance(5);
	await ok(v);
	await joinRefresh(v, s, 3); // retried after the backoff
	// A bad key set (ERR_JWKS) on a refresh is a failed refresh too.
	s.mode = "bad";
	clock.advance(5);
	await ok(v);
	await joinRefresh(v, s, 4);
	// 24 h after the last good fetch, with the issuer still failing: closed.
	s.mode = "fail";
	clock.advance(86400 - 310 + 1);
	const err = await v.verify(tokenA, { nonce: NONCE, now: NOW }).catch((e) => e);
	assert.equal(err.code, "ERR_JWKS_STALE", err.message);
	assert.match(err.message, /older than 86400 s.*HTTP 500/);
	assert.equal(s.requests.length, 5, "the stale set made the caller fetch");
	await rejectsWith(ok(v), "ERR_JWKS_STALE");
	assert.equal(s.requests.length, 5, "fails fast within the backoff");
	// The issuer comes back.
	s.mode = "ok";
	clock.advance(5);
	assert.equal((await ok(v)).kid, keyA.kid);
	assert.equal(s.requests.length, 6);
});

test("no key set yet: ERR_JWKS_STALE, and a retry after the backoff", async () => {
	const s = await jwksServer();
	s.mode = "fail";
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock }));
	const results = await Promise.allSettled(Array.from({ length: 5 }, () => ok(v)));
	for (const r of results) assert.equal(r.reason?.code, "ERR_JWKS_STALE");
	assert.match(results[0].reason.message, /no key set .* yet: GET .*: HTTP 500/);
	assert.equal(s.requests.length, 1, "concurrent callers share the fetch");
	await rejectsWith(ok(v), "ERR_JWKS_STALE");
	assert.equal(s.requests.length, 1);
	s.mode = "ok";
	clock.advance(5);
	await ok(v);
	assert.equal(s.requests.length, 2);
});

test("a fetch that does not answer times out", { timeout: 10_000 }, async () => {
	const s = await jwksServer();
	s.mode = "hang";
	const v = createRemoteVerifier(opts(s, { timeout: 0.2 }));
	const err = await ok(v).catch((e) => e);
	assert.equal(err.code, "ERR_JWKS_STALE", err.message);
	assert.equal(err.cause?.name, "TimeoutError");
	assert.equal(s.requests.length, 1);
});

test("a fetch implementation that ignores its signal still times out", { timeout: 10_000 }, async () => {
	const s = await jwksServer();
	let calls = 0;
	const v = createRemoteVerifier(opts(s, { timeout: 0.2, fetch: () => (calls++, new Promise(() => {})) }));
	const err = await ok(v).catch((e) => e);
	assert.equal(err.code, "ERR_JWKS_STALE", err.message);
	assert.equal(calls, 1);
});

test("the answer is at most 64 KiB (the core's MaxKeySetSize), with or without Content-Length; redirects are not followed", async () => {
	for (const mode of ["huge", "huge-chunked", "redirect"]) {
		const s = await jwksServer();
		s.mode = mode;
		const err = await ok(createRemoteVerifier(opts(s))).catch((e) => e);
		assert.equal(err.code, "ERR_JWKS_STALE", `${mode}: ${err.message}`);
		assert.match(err.message, mode === "redirect" ? /HTTP 302/ : /larger than 65536 bytes/);
		assert.equal(s.requests.length, 1, mode);
		assert.ok(!s.streamedAll, "the client stopped reading at the limit");
	}
	// Exactly at the limit is fine.
	const s = await jwksServer();
	const base = JSON.stringify({ keys: [keyA.publicJWK, { kty: "oct", k: "" }] }).length;
	s.keys = [keyA.publicJWK, { kty: "oct", k: "x".repeat((64 << 10) - base) }];
	assert.equal(JSON.stringify({ keys: s.keys }).length, 64 << 10);
	await ok(createRemoteVerifier(opts(s)));
});

test("a server without ETag: plain refetches", async () => {
	const s = await jwksServer();
	s.mode = "no-etag";
	const clock = manualClock();
	const v = createRemoteVerifier(opts(s, { clock }));
	await ok(v);
	clock.advance(301);
	await ok(v);
	await joinRefresh(v, s, 2);
	assert.deepEqual(s.requests, ["", ""]);
});

test("verify's second argument is checked before anything is fetched", async () => {
	const s = await jwksServer();
	const v = createRemoteVerifier(opts(s));
	for (const bad of ["nonce-1234567890", ["nonce-1234567890"], 42, new Date(), undefined, null, {}, { nonce: "" }, { nonce: 7 }]) {
		await rejectsWith(v.verify(tokenA, bad), "ERR_CONFIG");
	}
	assert.equal(s.requests.length, 0);
});

// Needs createVerifier's checkNonce (issue 11): until then the core refuses
// an empty nonce whatever remote.js passes.
test("checkNonce: false opts out by name; a nonce given is still checked", async () => {
	const s = await jwksServer();
	const gate = createRemoteVerifier(opts(s, { checkNonce: false }));
	assert.equal((await gate.verify(tokenA, { now: NOW })).status, 2);
	await rejectsWith(gate.verify(tokenA, "nonce-1234567890"), "ERR_CONFIG");
	await rejectsWith(gate.verify(tokenA, { nonce: "another-nonce-1", now: NOW }), "ERR_NONCE");
});

test("settings are checked at once", async () => {
	const s = await jwksServer();
	const bad = [
		undefined,
		"https://issuer.example/.well-known/jwks.json",
		{ issuer: ISS, audience: AUD },
		{ jwksUrl: "issuer.example/jwks.json", issuer: ISS, audience: AUD },
		{ jwksUrl: "ftp://issuer.example/jwks.json", issuer: ISS, audience: AUD },
		{ jwksUrl: "http://issuer.example/jwks.json", issuer: ISS, audience: AUD }, // plain http, not loopback
		{ jwksUrl: 42, issuer: ISS, audience: AUD },
		opts(s, { issuer: undefined }),
		opts(s, { audience: "" }),
		opts(s, { issuer: "i".repeat(4097) }),
		opts(s, { audience: "\u0905".repeat(1366) }), // 4098 bytes of UTF-8
		opts(s, { audience: "aud\uD800" }),
		opts(s, { issuer: "\uDC00iss" }),
		opts(s, { jwks: keyA.jwks }),
		opts(s, { checkNonce: "false" }),
		opts(s, { leeway: 99999 }),
		opts(s, { leeway: -1 }),
		opts(s, { leeway: "60" }),
		opts(s, { timeout: 0 }),
		opts(s, { timeout: 301 }),
		opts(s, { cooldown: -1 }),
		opts(s, { maxAge: Infinity }),
		opts(s, { maxAge: "1h" }),
		opts(s, { fetch: "fetch" }),
		opts(s, { clock: 5 }),
		opts(s, { waitUntil: true }),
	];
	for (const o of bad) {
		assert.throws(() => createRemoteVerifier(o), (err) => err instanceof KycvsError && err.code === "ERR_CONFIG", JSON.stringify(o));
	}
	createRemoteVerifier(opts(s, { issuer: "i".repeat(4096), audience: "\u0905".repeat(1364) + "\u{1F600}" })); // 4096 bytes each
	for (const jwksUrl of ["https://issuer.example/.well-known/jwks.json", new URL("https://issuer.example/jwks"), "http://localhost:8080/jwks", "http://[::1]:8080/jwks", "http://127.0.0.2/jwks"]) {
		createRemoteVerifier({ jwksUrl, issuer: ISS, audience: AUD });
	}
	createRemoteVerifier({ jwksUrl: "http://issuer.internal/jwks", issuer: ISS, audience: AUD, allowHTTP: true });
	assert.equal(s.requests.length, 0);
});

test("createVerifier's settings pass through: leeway", async () => {
	const s = await jwksServer();
	const late = NOW + 290 + 30; // 30 s past exp
	const strict = createRemoteVerifier(opts(s, { leeway: 0 }));
	await rejectsWith(strict.verify(tokenA, { nonce: NONCE, now: late }), "ERR_EXPIRED");
	const lenient = createRemoteVerifier(opts(s, { leeway: 60 }));
	assert.equal((await lenient.verify(tokenA, { nonce: NONCE, now: late })).status, 2);
	// A token for another audience is still refused.
	const other = makeToken(keyA, { payload: claims({ aud: "someone-else" }) });
	await rejectsWith(strict.verify(other, { nonce: NONCE, now: NOW }), "ERR_AUDIENCE");
});

test("a clock that does not return milliseconds is ERR_CONFIG, not a fetch per call", async () => {
	const s = await jwksServer();
	let t = 1_000_000;
	const v = createRemoteVerifier(opts(s, { clock: () => t }));
	await ok(v);
	t = NaN;
	for (let i = 0; i < 5; i++) await rejectsWith(ok(v), "ERR_CONFIG");
	assert.equal(s.calls, 1);
});

test("messages name the JWKS URL without its query or credentials", async () => {
	const s = await jwksServer();
	s.mode = "fail";
	const url = new URL(s.url);
	url.search = "?secret=hunter2";
	const err = await ok(createRemoteVerifier(opts(s, { jwksUrl: url.href }))).catch((e) => e);
	assert.equal(err.code, "ERR_JWKS_STALE");
	assert.ok(err.message.includes(s.url) && !err.message.includes("hunter2"), err.message);
});
