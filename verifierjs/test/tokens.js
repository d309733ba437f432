// Test helpers: Ed25519 keys, key sets and hand-made tokens (Node only).
// Tokens are built byte by byte here so that the strict cases can bend one
// rule at a time; the interop tests use tokens from `kycvs sign` instead.
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { encode } from "@msgpack/msgpack";

export const b64u = (bytes) => Buffer.from(bytes).toString("base64url");

/** A fresh Ed25519 key: {privateKey, publicJWK (with RFC 7638 kid), jwks}. */
export function newKey() {
	const { privateKey, publicKey } = generateKeyPairSync("ed25519");
	const { x } = publicKey.export({ format: "jwk" });
	const kid = createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest("base64url");
	const publicJWK = { kty: "OKP", crv: "Ed25519", x, kid, use: "sig", alg: "EdDSA" };
	return { privateKey, publicJWK, kid, jwks: { keys: [publicJWK] } };
}

export const ISS = "https://issuer.test";
export const AUD = "railway-booking";
export const NOW = 1_800_000_000;

/** Claims of a good token at NOW; overrides replace or (with undefined) drop keys. */
export function claims(overrides = {}) {
	const c = {
		iss: ISS,
		sub: "c3ViamVjdC1wYWlyd2lzZQ",
		aud: AUD,
		iat: NOW - 10,
		exp: NOW + 290,
		jti: "dG9rZW4taWQtMTI4LWJpdHM",
		nonce: "nonce-1234567890",
		vs: 2,
	};
	for (const [k, v] of Object.entries(overrides)) {
		if (v === undefined) delete c[k];
		else c[k] = v;
	}
	return c;
}

/**
 * Signs a token. header is the header JSON text or an object; payload is
 * the payload bytes or a claims object (MessagePack-encoded). mangle may
 * rewrite the three segments before signing ({h, p}) and the signature after.
 */
export function makeToken(key, { header, payload, mangleSigningInput, mangleSignature } = {}) {
	const h = typeof header === "string" ? header : JSON.stringify(header ?? { alg: "EdDSA", kid: key.kid, typ: "kycvs+msgpack" });
	const p = payload instanceof Uint8Array ? payload : encode(payload ?? claims());
	let input = `${b64u(Buffer.from(h))}.${b64u(p)}`;
	if (mangleSigningInput) input = mangleSigningInput(input);
	let s = b64u(sign(null, Buffer.from(input), key.privateKey));
	if (mangleSignature) s = mangleSignature(s);
	return `${input}.${s}`;
}

/** Every case of testdata/vectors, sorted by file name. */
export function loadVectors() {
	const dir = new URL("../../testdata/vectors/", import.meta.url);
	return readdirSync(dir)
		.filter((f) => f.endsWith(".json"))
		.sort()
		.map((f) => JSON.parse(readFileSync(new URL(f, dir), "utf8")));
}

/**
 * The fixture of test/gc-check.js: a verifier's case ("mine") and n cases of
 * other verifiers, half with mine's issuer and audience but other keys, half
 * with other everything.
 */
export function makeFixture(n = 1000) {
	const keys = Array.from({ length: 10 }, () => newKey());
	const mk = (key, issuer, audience, i) => {
		const c = claims({ iss: issuer, aud: audience, jti: `jti-${i}-aaaaaaaaaaaaaaaaaaaa`, nonce: `nonce-${String(i).padStart(8, "0")}` });
		return { jwks: key.jwks, issuer, audience, nonce: c.nonce, now: NOW, jti: c.jti, token: makeToken(key, { payload: c }) };
	};
	const mine = mk(newKey(), "https://issuer-mine.test", "mine", -1);
	// Half the others share the detached verifier's issuer and audience
	// but not its keys; the rest differ in everything.
	const others = Array.from({ length: n }, (_, i) =>
		i % 2 ? mk(keys[i % keys.length], mine.issuer, mine.audience, i) : mk(keys[i % keys.length], `https://issuer-${i}.test`, `aud-${i}`, i),
	);
	return { mine, others };
}
