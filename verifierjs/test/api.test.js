// The package's API as the brief states it: createVerifier's options and
// errors, verify's options and result, several verifiers side by side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createVerifier, KycvsError } from "../index.js";
import { newKey, makeToken, claims, ISS, AUD, NOW } from "./tokens.js";

const key = newKey();
const N = claims().nonce; // the nonce of every token makeToken makes
const code = (fn) => {
	try {
		fn();
	} catch (err) {
		assert.ok(err instanceof KycvsError, `not a KycvsError: ${err}`);
		assert.ok(err instanceof Error);
		assert.equal(err.name, "KycvsError");
		return err.code;
	}
	return "accepted";
};
const codeAsync = async (p) => {
	try {
		await p;
	} catch (err) {
		assert.ok(err instanceof KycvsError, `not a KycvsError: ${err}`);
		return err.code;
	}
	return "accepted";
};

test("verify returns exactly the brief's result", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const nmh = Uint8Array.from({ length: 16 }, (_, i) => i);
	const c = claims({ nmh });
	assert.deepEqual(v.verify(makeToken(key, { payload: c }), { now: NOW, nonce: c.nonce }), {
		status: 2,
		sub: c.sub,
		jti: c.jti,
		iat: c.iat,
		exp: c.exp,
		kid: key.kid,
		nmh: Buffer.from(nmh).toString("base64url"),
	});
	const r = v.verify(makeToken(key, { payload: claims({ vs: 0 }) }), { nonce: N, now: NOW });
	assert.equal(r.status, 0);
	assert.ok(!("nmh" in r));
});

test("jwks as object, JSON text or bytes", async () => {
	const token = makeToken(key);
	for (const jwks of [key.jwks, JSON.stringify(key.jwks), new TextEncoder().encode(JSON.stringify(key.jwks))]) {
		const v = await createVerifier({ jwks, issuer: ISS, audience: AUD });
		assert.equal(v.verify(token, { nonce: N, now: NOW }).kid, key.kid);
	}
});

test("createVerifier: ERR_JWKS and ERR_CONFIG", async () => {
	const ok = { jwks: key.jwks, issuer: ISS, audience: AUD };
	assert.equal(await codeAsync(createVerifier({ ...ok, jwks: { keys: [] } })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ ...ok, jwks: "{not json" })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ ...ok, jwks: 42 })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ ...ok, jwks: undefined })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ ...ok, jwks: { keys: [{ ...key.publicJWK, d: key.publicJWK.x }] } })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ ...ok, issuer: "" })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, issuer: undefined })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, audience: undefined })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, audience: 7 })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, leeway: -1 })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, leeway: 3601 })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, leeway: "60" })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ ...ok, leeway: NaN })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier()), "ERR_CONFIG");
	// A bad key set is reported before a missing setting, as in Go.
	assert.equal(await codeAsync(createVerifier({ jwks: "[]", issuer: "", audience: "" })), "ERR_JWKS");
});

test("leeway is in seconds", async () => {
	const token = makeToken(key); // exp = NOW + 290
	const strict = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD, leeway: 0 });
	const loose = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD, leeway: 600 });
	const dflt = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	assert.equal(code(() => strict.verify(token, { nonce: N, now: NOW + 291 })), "ERR_EXPIRED");
	assert.equal(code(() => dflt.verify(token, { nonce: N, now: NOW + 291 })), "accepted");
	assert.equal(code(() => dflt.verify(token, { nonce: N, now: NOW + 351 })), "ERR_EXPIRED");
	assert.equal(code(() => loose.verify(token, { nonce: N, now: NOW + 800 })), "accepted");
});

test("now is a Date or Unix seconds; the default is the real clock", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD, leeway: 0 });
	const token = makeToken(key); // iat = NOW - 10, exp = NOW + 290
	assert.equal(code(() => v.verify(token, { nonce: N, now: NOW })), "accepted");
	assert.equal(code(() => v.verify(token, { nonce: N, now: new Date(NOW * 1000) })), "accepted");
	assert.equal(code(() => v.verify(token, { nonce: N, now: new Date((NOW + 290) * 1000 + 999) })), "accepted");
	assert.equal(code(() => v.verify(token, { nonce: N, now: new Date((NOW + 291) * 1000) })), "ERR_EXPIRED");
	assert.equal(code(() => v.verify(token, { nonce: N, now: NOW - 11 })), "ERR_NOT_YET_VALID");
	assert.equal(code(() => v.verify(token, { nonce: N })), "ERR_NOT_YET_VALID"); // NOW is in 2027
	const fresh = Math.floor(Date.now() / 1000);
	const live = makeToken(key, { payload: claims({ iat: fresh - 5, exp: fresh + 300 }) });
	assert.equal(code(() => v.verify(live, { nonce: N })), "accepted");
	assert.equal(code(() => v.verify(live, { nonce: N, now: undefined })), "accepted");
	assert.equal(code(() => v.verify(token, { nonce: N, now: new Date(NaN) })), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, { nonce: N, now: "1800000000" })), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, { nonce: N, now: Infinity })), "ERR_CONFIG");
});

test("nonce: required unless the verifier opted out by name", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const token = makeToken(key);
	assert.equal(code(() => v.verify(token, { now: NOW, nonce: N })), "accepted");
	assert.equal(code(() => v.verify(token, { now: NOW, nonce: "another-nonce-42" })), "ERR_NONCE");
	// Forgetting the nonce is a mistake, never a silent skip.
	assert.equal(code(() => v.verify(token, { now: NOW, nonce: "" })), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, { now: NOW })), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, {})), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token)), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, null)), "ERR_CONFIG");
	assert.equal(code(() => v.verify(token, { now: NOW, nonce: 42 })), "ERR_CONFIG");
	// The Go argument shape, an array, a boxed string, a Map: ERR_CONFIG, not a skipped check.
	for (const wrong of [N, [N], new String(N), new Map([["nonce", N]]), 42, true, () => N]) {
		assert.equal(code(() => v.verify(token, wrong)), "ERR_CONFIG", String(wrong));
	}
	// An object from another realm or with a null prototype is still options.
	assert.equal(code(() => v.verify(token, Object.assign(Object.create(null), { nonce: N, now: NOW }))), "accepted");
	// Opted out by name: an empty nonce skips the check, a given one is compared.
	const open = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD, checkNonce: false });
	assert.equal(code(() => open.verify(token, { now: NOW })), "accepted");
	assert.equal(code(() => open.verify(token, { now: NOW, nonce: "another-nonce-42" })), "ERR_NONCE");
	assert.equal(code(() => open.verify(token, N)), "ERR_CONFIG");
	for (const bad of ["false", 0, null]) {
		assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD, checkNonce: bad })), "ERR_CONFIG", String(bad));
	}
});

test("now: the same range as Go, [0, 2^53-1] Unix seconds", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const token = makeToken(key);
	for (const now of [-1, -0.5, 2 ** 53, 1e16, -1e13, Number.MAX_VALUE, NaN, -Infinity, 10n]) {
		assert.equal(code(() => v.verify(token, { nonce: N, now })), "ERR_CONFIG", String(now));
	}
	assert.equal(code(() => v.verify(token, { nonce: N, now: 2 ** 53 - 1 })), "ERR_EXPIRED");
	assert.equal(code(() => v.verify(token, { nonce: N, now: 8.64e12 + 1 })), "ERR_EXPIRED"); // past Date's range, as in Go
	assert.equal(code(() => v.verify(token, { nonce: N, now: 0 })), "ERR_NOT_YET_VALID");
	assert.equal(code(() => v.verify(token, { nonce: N, now: new Date(-1000) })), "ERR_CONFIG");
});

test("tokens that are not strings or far too large", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	assert.equal(code(() => v.verify(undefined, { nonce: N })), "ERR_MALFORMED");
	assert.equal(code(() => v.verify(42, { nonce: N })), "ERR_MALFORMED");
	assert.equal(code(() => v.verify("", { nonce: N })), "ERR_MALFORMED");
	assert.equal(code(() => v.verify("a".repeat(1 << 20), { nonce: N })), "ERR_TOO_LARGE");
	assert.equal(code(() => v.verify("é".repeat(2049), { nonce: N })), "ERR_TOO_LARGE"); // 4098 UTF-8 bytes
	assert.equal(code(() => v.verify("\ud800.\udfff.x", { nonce: N })), "ERR_MALFORMED"); // lone surrogates
	const good = makeToken(key);
	assert.equal(code(() => v.verify(good + "é", { nonce: N, now: NOW })), "ERR_MALFORMED");
	assert.equal(code(() => v.verify(good, { nonce: N, now: NOW })), "accepted");
});

test("several verifiers side by side", async () => {
	const other = newKey();
	const a = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const b = await createVerifier({ jwks: other.jwks, issuer: ISS, audience: "event-gate" });
	const ta = makeToken(key);
	const tb = makeToken(other, { payload: claims({ aud: "event-gate", vs: 1 }) });
	for (let i = 0; i < 3; i++) {
		assert.equal(a.verify(ta, { nonce: N, now: NOW }).status, 2);
		assert.equal(b.verify(tb, { nonce: N, now: NOW }).status, 1);
		assert.equal(code(() => a.verify(tb, { nonce: N, now: NOW })), "ERR_KID_UNKNOWN");
		assert.equal(code(() => b.verify(ta, { nonce: N, now: NOW })), "ERR_KID_UNKNOWN");
	}
	// Many verifiers, then many verifications, reuse the one instance.
	const many = await Promise.all(Array.from({ length: 50 }, () => createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD })));
	for (const v of many) assert.equal(v.verify(ta, { nonce: N, now: NOW }).kid, key.kid);
});

test("errors carry the core's message and code", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	try {
		v.verify(makeToken(key), { nonce: N, now: NOW + 10_000 });
		assert.fail("accepted");
	} catch (err) {
		assert.ok(err instanceof KycvsError);
		assert.equal(err.code, "ERR_EXPIRED");
		assert.match(err.message, /expired/);
		assert.ok(err.stack);
	}
	const e = new KycvsError("ERR_NONCE", "x");
	assert.equal(e.code, "ERR_NONCE");
	assert.equal(e.message, "x");
});

test("the package leaves no globals behind", async () => {
	await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	for (const name of ["Go", "fs", "path"]) assert.equal(globalThis[name], undefined, name);
	assert.equal(typeof process.env, "object");
});

test("package.json: ESM, types first, no runtime dependencies, files allow-list", () => {
	const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
	assert.equal(pkg.name, "kycvs-verifier");
	assert.equal(pkg.type, "module");
	assert.equal(pkg.sideEffects, false);
	assert.deepEqual(Object.keys(pkg.exports["."]), ["types", "default"]);
	assert.equal(pkg.dependencies, undefined);
	for (const f of ["index.js", "index.d.ts", "kycvs.wasm", "wasm_exec.js"]) assert.ok(pkg.files.includes(f), f);
});

test("limits before copying: a huge nonce or token does not grow wasm memory", async () => {
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const token = makeToken(key);
	assert.equal(code(() => v.verify(token, { nonce: N, now: NOW })), "accepted");
	const hugeNonce = "n".repeat(5e7);
	const hugeToken = token + "é".repeat(5e6);
	const before = process.memoryUsage().external; // wasm memory is counted here, and never shrinks
	assert.equal(code(() => v.verify(token, { nonce: hugeNonce, now: NOW })), "ERR_NONCE"); // can never match
	assert.equal(code(() => v.verify(token, { nonce: N + "x".repeat(129 - N.length), now: NOW })), "ERR_NONCE");
	assert.equal(code(() => v.verify(hugeToken, { nonce: N, now: NOW })), "ERR_TOO_LARGE");
	assert.equal(code(() => v.verify(hugeToken, { nonce: hugeNonce, now: NOW })), "ERR_TOO_LARGE"); // the order of checks holds
	const grown = process.memoryUsage().external - before;
	assert.ok(grown < 1 << 20, `wasm memory grew by ${grown} bytes`);
	// An over-long nonce changes no earlier answer.
	assert.equal(code(() => v.verify("a.b", { nonce: hugeNonce })), "ERR_MALFORMED");
	assert.equal(code(() => v.verify(makeToken(key, { mangleSignature: (s) => (s[0] === "A" ? "B" : "A") + s.slice(1) }), { nonce: hugeNonce, now: NOW })), "ERR_SIGNATURE");
});

test("limits before copying: a huge key set, issuer or audience does not grow wasm memory", async () => {
	await createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD });
	const hugeSet = JSON.stringify({ keys: [key.publicJWK], pad: "x".repeat(3e7) });
	const hugeText = "i".repeat(3e7);
	const before = process.memoryUsage().external;
	assert.equal(await codeAsync(createVerifier({ jwks: hugeSet, issuer: ISS, audience: AUD })), "ERR_JWKS");
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: hugeText, audience: AUD })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: ISS, audience: hugeText })), "ERR_CONFIG");
	// The key set is still checked first, as in Go.
	assert.equal(await codeAsync(createVerifier({ jwks: "[]", issuer: hugeText, audience: AUD })), "ERR_JWKS");
	const grown = process.memoryUsage().external - before;
	assert.ok(grown < 1 << 20, `wasm memory grew by ${grown} bytes`);
	// 4096 bytes is the longest issuer a token can carry; more can never match.
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: "i".repeat(4096), audience: AUD })), "accepted");
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: "é".repeat(2049), audience: AUD })), "ERR_CONFIG");
});

test("an issuer or audience with lone surrogates is ERR_CONFIG, not silently U+FFFD", async () => {
	const replaced = makeToken(key, { payload: claims({ iss: ISS + "\uFFFD" }) });
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: ISS + "\uD800", audience: AUD })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: ISS, audience: AUD + "\uDC00" })), "ERR_CONFIG");
	assert.equal(await codeAsync(createVerifier({ jwks: "{}", issuer: ISS + "\uD800", audience: AUD })), "ERR_JWKS");
	const v = await createVerifier({ jwks: key.jwks, issuer: ISS + "\uFFFD", audience: AUD });
	assert.equal(v.verify(replaced, { nonce: N, now: NOW }).status, 2); // well-formed U+FFFD is just a character
	assert.equal(await codeAsync(createVerifier({ jwks: key.jwks, issuer: ISS + "😀", audience: AUD })), "accepted");
});
