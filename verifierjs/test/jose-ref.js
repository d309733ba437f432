// The same job done with panva/jose, the way an integrator would without
// kycvs-verifier: jose checks the JWS (compact serialisation, EdDSA, the key
// picked from the JWKS by kid), @msgpack/msgpack decodes the payload, and
// the claims get the checks jwtVerify makes (typ normalised as jose does,
// iss, aud, exp and iat with a clock tolerance) plus the nonce.
import { compactVerify, createLocalJWKSet } from "jose";
import { decode } from "@msgpack/msgpack";

export function joseVerifier({ jwks, issuer, audience, leeway = 60 }) {
	const keys = typeof jwks === "function" ? jwks : createLocalJWKSet(typeof jwks === "string" ? JSON.parse(jwks) : jwks);
	return async function verify(token, { nonce, now } = {}) {
		const { payload, protectedHeader } = await compactVerify(token, keys, { algorithms: ["EdDSA"] });
		return checkClaims(protectedHeader, payload, { issuer, audience, leeway, nonce, now });
	};
}

export function checkClaims(header, payload, { issuer, audience, leeway = 60, nonce, now }) {
	const typ = String(header.typ ?? "").toLowerCase().replace(/^application\//, "");
	if (typ !== "kycvs+msgpack") throw new Error("unexpected typ");
	const c = decode(payload);
	if (c === null || typeof c !== "object" || Array.isArray(c)) throw new Error("payload is not a map");
	const t = now ?? Math.floor(Date.now() / 1000);
	if (c.iss !== issuer) throw new Error("iss");
	if (c.aud !== audience) throw new Error("aud");
	if (typeof c.exp !== "number" || t - leeway > c.exp) throw new Error("exp");
	if (typeof c.iat !== "number" || t + leeway < c.iat) throw new Error("iat");
	if (![0, 1, 2].includes(c.vs)) throw new Error("vs");
	if (nonce !== undefined && c.nonce !== nonce) throw new Error("nonce");
	return { status: c.vs, sub: c.sub, jti: c.jti, iat: c.iat, exp: c.exp, kid: header.kid, ...(c.nmh ? { nmh: Buffer.from(c.nmh).toString("base64url") } : {}) };
}
