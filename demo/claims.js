// Display helpers for the demo: decode a token's header and payload (for
// showing them; verifierjs does the verifying), and the name binding (nmh).

export function b64urlDecode(s) {
	const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
	const bin = atob(b64);
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
	return out;
}

export function b64urlEncode(bytes) {
	let s = "";
	for (const b of bytes) s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// A small MessagePack decoder: enough to show a kycvs payload.
export function msgpackDecode(u8) {
	const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
	let p = 0;
	const text = new TextDecoder();
	const str = (n) => text.decode(u8.subarray(p, (p += n)));
	const bin = (n) => u8.slice(p, (p += n));
	const arr = (n) => Array.from({ length: n }, () => val());
	const map = (n) => {
		const o = {};
		for (let i = 0; i < n; i++) {
			const k = val();
			o[String(k)] = val();
		}
		return o;
	};
	function val() {
		if (p >= u8.length) throw new Error("truncated MessagePack");
		const b = u8[p++];
		if (b <= 0x7f) return b;
		if (b >= 0xe0) return b - 0x100;
		if ((b & 0xf0) === 0x80) return map(b & 0x0f);
		if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
		if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
		let v;
		switch (b) {
			case 0xc0: return null;
			case 0xc2: return false;
			case 0xc3: return true;
			case 0xc4: v = u8[p]; p += 1; return bin(v);
			case 0xc5: v = dv.getUint16(p); p += 2; return bin(v);
			case 0xc6: v = dv.getUint32(p); p += 4; return bin(v);
			case 0xca: v = dv.getFloat32(p); p += 4; return v;
			case 0xcb: v = dv.getFloat64(p); p += 8; return v;
			case 0xcc: return u8[p++];
			case 0xcd: v = dv.getUint16(p); p += 2; return v;
			case 0xce: v = dv.getUint32(p); p += 4; return v;
			case 0xcf: v = Number(dv.getBigUint64(p)); p += 8; return v;
			case 0xd0: return dv.getInt8(p++);
			case 0xd1: v = dv.getInt16(p); p += 2; return v;
			case 0xd2: v = dv.getInt32(p); p += 4; return v;
			case 0xd3: v = Number(dv.getBigInt64(p)); p += 8; return v;
			case 0xd9: v = u8[p]; p += 1; return str(v);
			case 0xda: v = dv.getUint16(p); p += 2; return str(v);
			case 0xdb: v = dv.getUint32(p); p += 4; return str(v);
			case 0xdc: v = dv.getUint16(p); p += 2; return arr(v);
			case 0xdd: v = dv.getUint32(p); p += 4; return arr(v);
			case 0xde: v = dv.getUint16(p); p += 2; return map(v);
			case 0xdf: v = dv.getUint32(p); p += 4; return map(v);
		}
		throw new Error(`MessagePack type 0x${b.toString(16)} not shown by this demo`);
	}
	return val();
}

// decodeToken returns { header, payload } without verifying anything, or
// throws. Binary values (nmh) come back as base64url strings.
export function decodeToken(token) {
	const parts = token.split(".");
	if (parts.length !== 3) throw new Error("not three segments");
	const header = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[0])));
	const payload = msgpackDecode(b64urlDecode(parts[1]));
	for (const [k, v] of Object.entries(payload)) if (v instanceof Uint8Array) payload[k] = b64urlEncode(v);
	return { header, payload };
}

// normalizeName approximates the issuer's normalisation (NFKC, case fold,
// trim, collapse inner whitespace); toLowerCase stands in for case folding.
export function normalizeName(name) {
	return name.normalize("NFKC").toLowerCase().trim().replace(/\s+/g, " ");
}

// nameHash returns nmh for nonce and name as base64url, or "" where
// WebCrypto is not available (pages not served over https or loopback).
export async function nameHash(nonce, name) {
	if (!globalThis.crypto || !crypto.subtle) return "";
	const enc = new TextEncoder();
	const parts = [enc.encode("kycvs-nmh-v1"), new Uint8Array([0]), enc.encode(nonce), new Uint8Array([0]), enc.encode(normalizeName(name))];
	const all = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
	let o = 0;
	for (const x of parts) {
		all.set(x, o);
		o += x.length;
	}
	const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
	return b64urlEncode(sum.subarray(0, 16));
}

export const STATUS_WORDS = { 0: "Not vaccinated", 1: "Partially vaccinated", 2: "Fully vaccinated" };

// The verification steps in the order every kycvs verifier runs them, with
// the code each fails with.
export const STEPS = [
	{ code: "ERR_TOO_LARGE", check: "Size", explain: "The token is at most 4096 bytes." },
	{ code: "ERR_MALFORMED", check: "Format", explain: "Three strict base64url segments; the header is exactly {alg, kid, typ}." },
	{ code: "ERR_ALG", check: "Algorithm", explain: "alg is on the allow-list (EdDSA)." },
	{ code: "ERR_TYPE", check: "Type", explain: 'typ is exactly "kycvs+msgpack".' },
	{ code: "ERR_KID_UNKNOWN", check: "Key id", explain: "kid names a key in the key set." },
	{ code: "ERR_SIGNATURE", check: "Signature", explain: "The Ed25519 signature verifies with that key." },
	{ code: "ERR_CLAIMS", check: "Claims", explain: "The payload is one MessagePack map with every required claim of the right type; vs is 0, 1 or 2; iat < exp ≤ iat + 3600." },
	{ code: "ERR_ISSUER", check: "Issuer", explain: "iss equals the expected issuer, byte for byte." },
	{ code: "ERR_AUDIENCE", check: "Audience", explain: "aud equals the expected audience (the verifying entity's client id)." },
	{ code: "ERR_EXPIRED", check: "Not expired", explain: "now ≤ exp + leeway (60 s)." },
	{ code: "ERR_NOT_YET_VALID", check: "Already valid", explain: "now ≥ iat − leeway (60 s)." },
	{ code: "ERR_NONCE", check: "Nonce", explain: "nonce equals this transaction's nonce (checked only when one is expected)." },
];

export const SETUP_CODES = {
	ERR_JWKS: "The key set is not a usable JWKS (not JSON, no usable Ed25519 key, a duplicate kid, private material, a bad point, …).",
	ERR_CONFIG: "The verifier cannot be built: the issuer or the audience is missing, or the verifier could not load.",
};
