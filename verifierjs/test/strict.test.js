// The strict cases: tokens and key sets that panva/jose (with @msgpack/msgpack
// and jwtVerify's claim checks, see jose-ref.js) accepts and kycvs rejects.
// Each case asserts both sides, so the list stays true as either changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { createVerifier, KycvsError } from "../index.js";
import { joseVerifier } from "./jose-ref.js";
import { newKey, makeToken, claims, b64u, ISS, AUD, NOW } from "./tokens.js";

const key = newKey();
const other = newKey();
const header = (h) => JSON.stringify({ alg: "EdDSA", kid: key.kid, typ: "kycvs+msgpack", ...h });

// msgpack map with the given [key, value-bytes] entries, values pre-encoded.
function rawMap(entries) {
	const parts = [Uint8Array.of(0x80 | entries.length)];
	for (const [k, v] of entries) parts.push(encode(k), v instanceof Uint8Array ? v : encode(v));
	return Buffer.concat(parts);
}
const float64 = (x) => {
	const b = Buffer.alloc(9);
	b[0] = 0xcb;
	b.writeDoubleBE(x, 1);
	return b;
};
const good = claims();
const entries = (over = {}) => Object.entries({ ...good, ...over });

// A small-order point (order 4 in the Ed25519 group), as a JWKS x.
const SMALL_ORDER_X = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA";

export const strictCases = [
	{
		name: "header with an extra member (cty)",
		code: "ERR_MALFORMED",
		token: () => makeToken(key, { header: header({ cty: "kycvs" }) }),
	},
	{
		name: "header with a duplicate member (alg twice)",
		code: "ERR_MALFORMED",
		token: () => makeToken(key, { header: `{"alg":"EdDSA","alg":"EdDSA","kid":"${key.kid}","typ":"kycvs+msgpack"}` }),
	},
	{
		name: "header without kid (jose picks the only key)",
		code: "ERR_MALFORMED",
		token: () => makeToken(key, { header: `{"alg":"EdDSA","typ":"kycvs+msgpack"}` }),
	},
	{
		name: "typ with an application/ prefix",
		code: "ERR_TYPE",
		token: () => makeToken(key, { header: header({ typ: "application/kycvs+msgpack" }) }),
	},
	{
		name: "typ in upper case",
		code: "ERR_TYPE",
		token: () => makeToken(key, { header: header({ typ: "KYCVS+MSGPACK" }) }),
	},
	{
		name: "signature with non-zero unused base64url bits",
		code: "ERR_MALFORMED",
		token: () =>
			makeToken(key, {
				mangleSignature: (s) => {
					const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
					return s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1)) ^ 1];
				},
			}),
	},
	{
		name: "signature with base64 padding",
		code: "ERR_MALFORMED",
		token: () => makeToken(key, { mangleSignature: (s) => s + "==" }),
	},
	{
		name: "line break inside the signed payload segment",
		code: "ERR_MALFORMED",
		token: () => makeToken(key, { mangleSigningInput: (s) => s.slice(0, s.length - 20) + "\n" + s.slice(s.length - 20) }),
	},
	{
		name: "duplicate claim key (vs 0 then vs 2)",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: rawMap([["vs", 0], ...entries()]) }),
	},
	{
		name: "vs as a float (2.0)",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: rawMap(entries({ vs: float64(2) })) }),
	},
	{
		name: "iat as a float",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: rawMap(entries({ iat: float64(good.iat) })) }),
	},
	{
		name: "lifetime over an hour (exp = iat + 7200)",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: claims({ exp: good.iat + 7200 }) }),
	},
	{
		name: "no nonce claim (none expected by the caller)",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: claims({ nonce: undefined }) }),
	},
	{
		name: "empty sub",
		code: "ERR_CLAIMS",
		token: () => makeToken(key, { payload: claims({ sub: "" }) }),
	},
	{
		name: "token over 4096 bytes (a large unknown claim)",
		code: "ERR_TOO_LARGE",
		token: () => makeToken(key, { payload: claims({ pad: "x".repeat(4000) }) }),
	},
	{
		name: "key set with a small-order key beside the signing key",
		code: "ERR_JWKS",
		jwks: () => ({ keys: [key.publicJWK, { kty: "OKP", crv: "Ed25519", kid: "weak", x: SMALL_ORDER_X }] }),
		token: () => makeToken(key),
	},
	{
		name: "key set whose key says use: enc",
		code: "ERR_JWKS",
		jwks: () => ({ keys: [key.publicJWK, { ...other.publicJWK, use: "enc" }] }),
		token: () => makeToken(key),
	},
];

for (const c of strictCases) {
	test(`strict: ${c.name}: jose accepts, kycvs says ${c.code}`, async () => {
		const jwks = c.jwks ? c.jwks() : key.jwks;
		const token = c.token();
		const opts = { jwks, issuer: ISS, audience: AUD };

		const viaJose = await joseVerifier(opts)(token, { now: NOW });
		assert.equal(viaJose.jti, good.jti, "jose should accept this case");

		let got;
		try {
			const verifier = await createVerifier(opts);
			verifier.verify(token, { now: NOW, nonce: good.nonce });
			got = "accepted";
		} catch (err) {
			assert.ok(err instanceof KycvsError, String(err));
			got = err.code;
		}
		assert.equal(got, c.code);
	});
}

test("strict: the unmangled token passes both", async () => {
	const token = makeToken(key);
	const opts = { jwks: key.jwks, issuer: ISS, audience: AUD };
	const viaJose = await joseVerifier(opts)(token, { now: NOW, nonce: good.nonce });
	const verifier = await createVerifier(opts);
	assert.deepEqual(verifier.verify(token, { now: NOW, nonce: good.nonce }), viaJose);
	assert.equal(b64u(Buffer.from("x")), "eA");
});
