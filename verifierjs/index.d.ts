// Types of kycvs-verifier. Hand-written; keep in step with index.js.

/** The stable error codes of the kycvs token format (SPEC.md), in check order. */
export type KycvsErrorCode =
	| "ERR_TOO_LARGE"
	| "ERR_MALFORMED"
	| "ERR_ALG"
	| "ERR_TYPE"
	| "ERR_KID_UNKNOWN"
	| "ERR_SIGNATURE"
	| "ERR_CLAIMS"
	| "ERR_ISSUER"
	| "ERR_AUDIENCE"
	| "ERR_EXPIRED"
	| "ERR_NOT_YET_VALID"
	| "ERR_NONCE"
	| "ERR_JWKS"
	| "ERR_CONFIG";

/** Thrown by createVerifier (ERR_JWKS, ERR_CONFIG) and by verify (the others). */
export class KycvsError extends Error {
	constructor(code: KycvsErrorCode, message: string, options?: { cause?: unknown });
	readonly name: "KycvsError";
	/** Which check failed; stable across versions and runtimes. */
	readonly code: KycvsErrorCode;
}

/** A JSON Web Key as found in a JWKS; only OKP/Ed25519 keys are used. */
export interface JWK {
	kty: string;
	crv?: string;
	x?: string;
	kid?: string;
	use?: string;
	alg?: string;
	key_ops?: string[];
	[member: string]: unknown;
}

/** A JSON Web Key Set, e.g. the issuer's /.well-known/jwks.json. */
export interface JWKS {
	keys: JWK[];
}

export interface VerifierOptions {
	/** The issuer's key set: a JWKS object, its JSON text, or the bytes of that text. */
	jwks: JWKS | string | Uint8Array | ArrayBuffer;
	/** The expected `iss`: the issuer's base URL, compared byte for byte. */
	issuer: string;
	/** The expected `aud`: your client id at the issuer. */
	audience: string;
	/** Clock skew allowed on `exp` and `iat`, in seconds, 0 to 3600 (default 60). */
	leeway?: number;
	/**
	 * Whether verify requires the transaction's nonce (default true). With
	 * false, verify without a nonce skips the nonce check: only where the
	 * nonce cannot be known (an edge gate whose origin checks it). A nonce
	 * that is given is compared either way.
	 */
	checkNonce?: boolean;
	/**
	 * The compiled kycvs.wasm (or its bytes), for runtimes that cannot fetch
	 * or read it themselves, such as Cloudflare Workers. Used by the first
	 * createVerifier call of the page; later calls share its instance.
	 */
	wasmModule?: WebAssembly.Module | ArrayBuffer | ArrayBufferView;
	/** Where to fetch kycvs.wasm from (default: beside this module). First call only. */
	wasmURL?: string | URL;
}

/** What verify takes: the transaction's nonce is required. */
export interface VerifyOptions {
	/**
	 * The nonce you sent with this transaction; the token's must equal it.
	 * An empty or missing nonce is ERR_CONFIG (see checkNonce). One longer
	 * than 128 characters never matches.
	 */
	nonce: string;
	/** The time to verify at: a Date or Unix seconds from 0 to 2^53-1 (default: now). */
	now?: Date | number;
}

/** What verify takes on a verifier created with checkNonce: false. */
export interface VerifyOptionsWithoutNonce {
	/** When given and not empty, the token's nonce must still equal it. */
	nonce?: string;
	/** The time to verify at: a Date or Unix seconds from 0 to 2^53-1 (default: now). */
	now?: Date | number;
}

/** The claims of a verified token. */
export interface VerifyResult {
	/** 0 not vaccinated, 1 partially vaccinated, 2 fully vaccinated. */
	status: 0 | 1 | 2;
	/** The person's pairwise pseudonymous id, stable for your audience only. */
	sub: string;
	/** The token's id (for replay detection). */
	jti: string;
	/** Issued at, Unix seconds. */
	iat: number;
	/** Expires at, Unix seconds. */
	exp: number;
	/** The kid of the key that signed the token. */
	kid: string;
	/** The name binding, base64url of 16 bytes, when the token carries one. */
	nmh?: string;
}

export interface Verifier {
	/**
	 * Verifies a token synchronously; throws KycvsError when it fails a check.
	 * A plain function: it may be destructured and kept on its own. The second
	 * argument must be an options object (a string or an array is ERR_CONFIG).
	 */
	readonly verify: (token: string, options: VerifyOptions) => VerifyResult;
}

/** A verifier created with checkNonce: false. */
export interface VerifierWithoutNonce {
	/** As Verifier's verify, but the nonce may be left out (the check is then skipped). */
	readonly verify: (token: string, options?: VerifyOptionsWithoutNonce) => VerifyResult;
}

/**
 * Builds a verifier for tokens of one issuer addressed to one audience. The
 * first call loads the WebAssembly module; every verifier shares it.
 * Throws KycvsError ERR_JWKS for an unusable key set, ERR_CONFIG otherwise.
 */
export function createVerifier(options: VerifierOptions & { checkNonce: false }): Promise<VerifierWithoutNonce>;
export function createVerifier(options: VerifierOptions): Promise<Verifier>;
