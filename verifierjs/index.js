// kycvs-verifier: verify kycvs vaccination-status tokens locally, in Node,
// browsers and edge workers. Every check, the Ed25519 signature included, runs
// in the kycvs Go core compiled to WebAssembly (kycvs.wasm beside this file);
// this file only loads it and moves bytes across the boundary. The ABI is
// documented in wasm/verifier/main.go.

/** The largest token the core accepts, in UTF-8 bytes. */
const MAX_TOKEN_SIZE = 4096;
/** The largest key set the core accepts, in bytes. */
const MAX_KEY_SET_SIZE = 65536;

// isWellFormed reports whether s has no lone surrogates (String.prototype.
// isWellFormed where the runtime has it).
const isWellFormed = typeof String.prototype.isWellFormed === "function"
	? (s) => s.isWellFormed()
	: (s) => !/\p{Cs}/u.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));

/**
 * The error of every failed verification or construction. `code` is one of
 * the stable codes of the kycvs spec (ERR_EXPIRED, ERR_SIGNATURE, ...).
 */
export class KycvsError extends Error {
	constructor(code, message, options) {
		super(message, options);
		this.name = "KycvsError";
		this.code = code;
	}
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The Go instance shared by every verifier made since it loaded. One that
// has stopped (a fatal error in Go) is replaced for verifiers made later;
// those made before keep failing with ERR_CONFIG, since each holds its own
// instance (see Handle).
let runtime;

function load(options) {
	if (runtime && runtime.settled && runtime.settled.stopped()) runtime = undefined;
	if (!runtime) {
		const p = instantiate(options).then(
			(rt) => {
				p.settled = rt;
				return rt;
			},
			(err) => {
				if (runtime === p) runtime = undefined; // let a later call try again
				throw err instanceof KycvsError
					? err
					: new KycvsError("ERR_CONFIG", `kycvs: cannot load kycvs.wasm: ${err && err.message}`, { cause: err });
			},
		);
		runtime = p;
	}
	return runtime;
}

async function instantiate({ wasmModule, wasmURL }) {
	// wasm_exec.js loads while the module compiles.
	const [{ Go }, module] = await Promise.all([import("./wasm_exec.js"), compile(wasmModule, wasmURL)]);
	const go = new Go();
	const instance = await WebAssembly.instantiate(module, go.importObject);
	// Runs the Go runtime's start-up and main, which then waits for calls.
	// A start-up that throws (workerd, for one, forbids random numbers at
	// global scope) rejects exit at once; the race sees that.
	const exit = go.run(instance);
	await Promise.race([exit, undefined]);
	if (go.exited) throw new Error("the Go program exited at start-up");
	exit.catch(() => {}); // a later fatal error is reported by the call that meets it
	return new Runtime(instance.exports, go);
}

async function compile(wasmModule, wasmURL) {
	// (toString, not instanceof: a module compiled in another realm counts too)
	if (Object.prototype.toString.call(wasmModule) === "[object WebAssembly.Module]") return wasmModule;
	if (wasmModule != null) return WebAssembly.compile(wasmModule); // the bytes of kycvs.wasm
	const url = wasmURL != null ? new URL(String(wasmURL), globalThis.location?.href) : new URL("./kycvs.wasm", import.meta.url);
	if (url.protocol === "file:") {
		// Node, Deno, Bun: read the file beside this one. The module name is
		// a variable so that browser bundlers leave it alone.
		const fsName = "node:fs/promises";
		const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsName);
		return WebAssembly.compile(await readFile(url));
	}
	const response = await fetch(url);
	if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
	const type = response.headers.get("content-type") || "";
	return typeof WebAssembly.compileStreaming === "function" && type.startsWith("application/wasm")
		? WebAssembly.compileStreaming(response)
		: WebAssembly.compile(await response.arrayBuffer());
}

// Runtime moves inputs into the module's input buffer and answers out of its
// answer buffer. Views are rebuilt whenever a call has grown the memory.
class Runtime {
	constructor(exports, go) {
		this.x = exports;
		this.go = go;
		this.mem = exports.mem;
		this.dead = undefined;
		this.buffer = null;
		this.u8 = null;
		this.dv = null;
		this.inPtr = 0;
		this.inCap = 0;
		this.outPtr = exports.kycvs_out();
		// A Handle that nothing can reach any more gives its verifier back
		// to Go. The core never reuses a handle number, so even a stale
		// number could not reach another verifier.
		this.freed = typeof FinalizationRegistry === "function"
			? new FinalizationRegistry((h) => {
				if (!this.stopped()) exports.kycvs_free(h);
			})
			: null;
		this.reserve(16 << 10);
	}

	stopped() {
		return Boolean(this.go.exited || this.dead);
	}

	// call runs an export; a Go runtime that has died (a fatal error, a
	// trap) makes every later call fail the same way instead of misbehaving.
	call(name, a, b, c, d, e) {
		if (this.stopped()) throw new KycvsError("ERR_CONFIG", "kycvs: the WebAssembly verifier has stopped", { cause: this.dead });
		let r;
		try {
			r = this.x[name](a, b, c, d, e);
		} catch (err) {
			this.dead = err;
			throw new KycvsError("ERR_CONFIG", `kycvs: the WebAssembly verifier failed: ${err && err.message}`, { cause: err });
		}
		// A Go runtime that died during the call (a fatal error such as out
		// of memory) returns an unspecified value, and its answer buffer
		// holds whatever was there: neither may be read.
		if (this.stopped()) throw new KycvsError("ERR_CONFIG", "kycvs: the WebAssembly verifier stopped during the call", { cause: this.dead });
		return r;
	}

	views() {
		if (this.buffer !== this.mem.buffer) {
			this.buffer = this.mem.buffer;
			this.u8 = new Uint8Array(this.buffer);
			this.dv = new DataView(this.buffer);
		}
		return this.u8;
	}

	reserve(n) {
		if (n > this.inCap) {
			this.inPtr = this.call("kycvs_in", n);
			this.inCap = n;
		}
	}

	// write puts s at offset off of the input buffer and returns its UTF-8
	// length. The buffer must hold 3 bytes per UTF-16 unit of s.
	write(s, off) {
		if (s.length === 0) return 0;
		const at = this.inPtr + off;
		return encoder.encodeInto(s, this.views().subarray(at, at + 3 * s.length)).written;
	}

	string(off, len) {
		const u8 = this.u8;
		const end = off + len;
		for (let i = off; i < end; i++) {
			if (u8[i] > 0x7f) return decoder.decode(u8.subarray(off, end));
		}
		return len === 0 ? "" : String.fromCharCode.apply(null, u8.subarray(off, end));
	}

	error() {
		this.views();
		const p = this.outPtr;
		const codeLen = this.u8[p];
		const msgLen = this.dv.getUint16(p + 1, true);
		const code = this.string(p + 3, codeLen);
		return new KycvsError(code, this.string(p + 3 + codeLen, msgLen));
	}

	// create makes a verifier in Go and returns its Handle.
	create(jwks, issuer, audience, leeway, flags) {
		// Limits before copying (wasm memory never shrinks): the core sees
		// enough of an oversized key set, issuer or audience to refuse it
		// itself, in its own order, and ill-formed text is flagged, since
		// UTF-8 encoding would otherwise replace it with U+FFFD.
		if (jwks.length > MAX_KEY_SET_SIZE) jwks = jwks.subarray(0, MAX_KEY_SET_SIZE + 1);
		if (!isWellFormed(issuer)) flags |= 2;
		if (!isWellFormed(audience)) flags |= 4;
		if (issuer.length > MAX_TOKEN_SIZE) issuer = issuer.slice(0, MAX_TOKEN_SIZE + 1);
		if (audience.length > MAX_TOKEN_SIZE) audience = audience.slice(0, MAX_TOKEN_SIZE + 1);
		this.reserve(jwks.length + 3 * (issuer.length + audience.length));
		this.views().set(jwks, this.inPtr);
		const il = this.write(issuer, jwks.length);
		const al = this.write(audience, jwks.length + il);
		const h = this.call("kycvs_new", jwks.length, il, al, leeway, flags);
		if (h < 0) throw this.error();
		const handle = new Handle(this, h);
		if (this.freed) this.freed.register(handle, h);
		return handle;
	}

	verify(h, token, nonce, now) {
		// A token of more than 4096 UTF-16 units is more than 4096 UTF-8
		// bytes: the core sees enough of it to say ERR_TOO_LARGE.
		if (token.length > MAX_TOKEN_SIZE) token = token.slice(0, MAX_TOKEN_SIZE + 1);
		this.reserve(3 * (token.length + nonce.length));
		const tl = this.write(token, 0);
		const nl = this.write(nonce, tl);
		if (this.call("kycvs_verify", h, tl, nl, now) !== 0) throw this.error();
		this.views();
		const u8 = this.u8, dv = this.dv, p = this.outPtr;
		const nmhLen = u8[p + 1];
		const subLen = dv.getUint16(p + 2, true);
		const jtiLen = dv.getUint16(p + 4, true);
		const kidLen = dv.getUint16(p + 6, true);
		const q = p + 24; // after the fixed-size fields
		const result = {
			status: u8[p],
			sub: this.string(q + nmhLen, subLen),
			jti: this.string(q + nmhLen + subLen, jtiLen),
			iat: dv.getInt32(p + 12, true) * 4294967296 + dv.getUint32(p + 8, true),
			exp: dv.getInt32(p + 20, true) * 4294967296 + dv.getUint32(p + 16, true),
			kid: this.string(q + nmhLen + subLen + jtiLen, kidLen),
		};
		if (nmhLen > 0) result.nmh = this.string(q, nmhLen);
		return result;
	}
}

// Handle is the only holder of a verifier's handle number, together with the
// instance it belongs to. Everything that calls into that verifier (the
// verify function, destructured or not) closes over its Handle, so the
// verifier lives as long as anything can still use it; the finalizer frees
// the number only once nothing can.
class Handle {
	constructor(rt, h) {
		this.rt = rt;
		this.h = h;
	}
}

// A nonce longer than this can never equal a token's (SPEC.md §4).
const MAX_NONCE = 128;
// Stands in for a nonce that can never match, so that the core still reaches
// its own answer in its own order (ERR_NONCE only if every earlier check
// passes) without copying a huge string into wasm memory, which never shrinks.
const NEVER_MATCHES = "!";
// The latest clock reading, in Unix seconds, in every runtime (SPEC.md §5).
const MAX_TIME = 2 ** 53 - 1;

function isOptionsObject(o) {
	return typeof o === "object" && o !== null && Object.prototype.toString.call(o) === "[object Object]";
}

function configError(message) {
	return new KycvsError("ERR_CONFIG", message);
}

function keySetBytes(jwks) {
	if (typeof jwks === "string") return encoder.encode(jwks);
	if (jwks instanceof Uint8Array) return jwks;
	if (jwks instanceof ArrayBuffer) return new Uint8Array(jwks);
	if (typeof jwks === "object") {
		let text;
		try {
			text = JSON.stringify(jwks);
		} catch (err) {
			throw new KycvsError("ERR_JWKS", `kycvs: the key set cannot be serialised: ${err.message}`, { cause: err });
		}
		return encoder.encode(text);
	}
	throw new KycvsError("ERR_JWKS", "kycvs: jwks must be a JWKS object, its JSON text or its bytes");
}

// A missing issuer or audience goes to the core as "", which says
// ERR_CONFIG after it has checked the key set, as in Go.
function optionalString(value, name) {
	if (value == null) return "";
	if (typeof value !== "string") throw configError(`kycvs: ${name} must be a string`);
	return value;
}

/**
 * Creates a verifier for tokens of one issuer addressed to one audience,
 * signed by a key of the JWKS. The first call loads the WebAssembly module;
 * every verifier of the page shares it. Its verify(token, { nonce }) needs
 * the transaction's nonce unless the verifier was made with
 * checkNonce: false.
 */
export async function createVerifier(options) {
	if (!isOptionsObject(options)) throw configError("kycvs: createVerifier needs an options object");
	const { jwks, issuer, audience, leeway, checkNonce } = options;
	const keys = jwks == null ? new Uint8Array(0) : keySetBytes(jwks); // none: ERR_JWKS, as in Go
	const iss = optionalString(issuer, "issuer");
	const aud = optionalString(audience, "audience");
	let leewaySeconds = NaN; // the core's default
	if (leeway !== undefined) {
		if (typeof leeway !== "number" || !Number.isFinite(leeway)) {
			throw configError("kycvs: leeway must be a number of seconds");
		}
		leewaySeconds = leeway;
	}
	if (checkNonce !== undefined && typeof checkNonce !== "boolean") {
		throw configError("kycvs: checkNonce must be true or false");
	}
	const nonceRequired = checkNonce !== false;
	const rt = await load(options);
	const handle = rt.create(keys, iss, aud, leewaySeconds, nonceRequired ? 0 : 1);
	/**
	 * Verifies token and returns its claims, or throws KycvsError. A plain
	 * function closing over the verifier's Handle: it may be destructured,
	 * passed around and called long after the object that carried it is gone.
	 */
	function verify(token, opts) {
		let nonce = "";
		let now = NaN; // the core's clock
		if (opts !== undefined && opts !== null) {
			if (!isOptionsObject(opts)) {
				throw configError("kycvs: verify takes (token, { nonce, now }): the second argument must be an options object");
			}
			const n = opts.nonce;
			if (n !== undefined && n !== null) {
				if (typeof n !== "string") throw configError("kycvs: nonce must be a string");
				nonce = n.length > MAX_NONCE ? NEVER_MATCHES : n;
			}
			const t = opts.now;
			if (t !== undefined && t !== null) {
				now = t instanceof Date ? t.getTime() / 1000 : t;
				if (typeof now !== "number" || !(now >= 0 && now <= MAX_TIME)) {
					throw configError("kycvs: now must be a Date or Unix seconds from 0 to 2^53-1");
				}
			}
		}
		if (nonce === "" && nonceRequired) {
			throw configError("kycvs: verify needs { nonce }, the nonce of this transaction (or a verifier made with checkNonce: false)");
		}
		if (typeof token !== "string") throw new KycvsError("ERR_MALFORMED", "kycvs: the token must be a string");
		return handle.rt.verify(handle.h, token, nonce, now);
	}
	return Object.freeze({ verify });
}
