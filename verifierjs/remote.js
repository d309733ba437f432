// createRemoteVerifier: a verifier whose key set is the issuer's JWKS,
// fetched with `fetch` and kept fresh. The policy is the Go package's
// (kycvs.RemoteKeySet), with the same numbers:
//   - a fetched set is fresh for the answer's Cache-Control max-age, bounded
//     to 60 s … 24 h (300 s without one; no-cache and no-store count as 0);
//   - past that, the set is still used while one refresh runs in the
//     background, revalidating with If-None-Match (304 keeps the set and
//     restarts its age); where a runtime drops work a request leaves behind
//     (Workers, without options.waitUntil) the request that starts the
//     refresh waits for it instead;
//   - a token whose kid the set lacks makes the verifier fetch the set again
//     and retry, at most once per cooldown (30 s) for unknown kids;
//   - concurrent callers share one fetch; a fetch times out (5 s); a failed
//     fetch is not repeated for 5 s and leaves the last good set in use;
//   - a set older than maxAge (24 h) without a successful fetch is not used:
//     verify fails closed with ERR_JWKS_STALE, as it does before a first
//     set could be had;
//   - the answer must be 200 (or 304) without redirects, and at most 64 KiB
//     (kycvs.MaxKeySetSize, the largest key set the core parses).
import { createVerifier, KycvsError } from "./index.js";

const MIN_REFRESH = 60; // seconds
const MAX_REFRESH = 86400;
const DEFAULT_REFRESH = 300;
const FAILED_FETCH_BACKOFF = 5000; // ms
const MAX_JWKS_SIZE = 64 << 10; // the core's MaxKeySetSize: a larger set could not be parsed anyway

function configError(message) {
	return new KycvsError("ERR_CONFIG", message);
}

// seconds checks an optional duration in seconds and returns milliseconds.
function seconds(value, name, dflt, max) {
	if (value === undefined) return dflt * 1000;
	if (typeof value !== "number" || !(value > 0 && value <= max)) {
		throw configError(`kycvs: ${name} must be a number of seconds above 0 and at most ${max}`);
	}
	return value * 1000;
}

// jwksURL accepts an https URL, or http for a loopback host (a local
// issuer); plain http elsewhere lets anyone on the path swap the keys, so it
// must be asked for by name with allowHTTP.
function jwksURL(value, allowHTTP) {
	if (typeof value !== "string" && !(value instanceof URL)) throw configError("kycvs: jwksUrl must be a string or a URL");
	let url;
	try {
		url = new URL(String(value));
	} catch {
		throw configError("kycvs: jwksUrl must be an absolute http(s) URL");
	}
	if (url.protocol === "https:") return url;
	if (url.protocol !== "http:") throw configError(`kycvs: jwksUrl must be an https URL, not ${url.protocol}`);
	const host = url.hostname;
	const loopback = host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
	if (!loopback && allowHTTP !== true) {
		throw configError("kycvs: jwksUrl must be https (plain http to a host other than loopback needs allowHTTP: true)");
	}
	return url;
}

// freshness is the answer's Cache-Control max-age within the bounds, in
// milliseconds; the first max-age counts, no-cache and no-store count as 0.
function freshness(headers) {
	let s = DEFAULT_REFRESH;
	let found = false;
	for (const dir of (headers.get("cache-control") || "").split(",")) {
		const i = dir.indexOf("=");
		const name = (i < 0 ? dir : dir.slice(0, i)).trim().toLowerCase();
		if (name === "max-age" && !found) {
			const v = dir.slice(i + 1).trim().replace(/^"(.*)"$/, "$1");
			if (i >= 0 && /^\d{1,10}$/.test(v)) {
				s = Number(v);
				found = true;
			}
		} else if (name === "no-cache" || name === "no-store") {
			s = 0;
			found = true;
		}
	}
	return Math.min(Math.max(s, MIN_REFRESH), MAX_REFRESH) * 1000;
}

// readBody reads at most MAX_JWKS_SIZE bytes of the answer.
async function readBody(response) {
	const tooLarge = () => new Error(`the key set is larger than ${MAX_JWKS_SIZE} bytes`);
	const length = response.headers.get("content-length");
	if (length != null && Number(length) > MAX_JWKS_SIZE) {
		await response.body?.cancel().catch(() => {});
		throw tooLarge();
	}
	if (!response.body || typeof response.body.getReader !== "function") {
		const bytes = new Uint8Array(await response.arrayBuffer());
		if (bytes.length > MAX_JWKS_SIZE) throw tooLarge();
		return bytes;
	}
	const reader = response.body.getReader();
	const chunks = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > MAX_JWKS_SIZE) {
			await reader.cancel().catch(() => {});
			throw tooLarge();
		}
		chunks.push(value);
	}
	const bytes = new Uint8Array(size);
	let at = 0;
	for (const c of chunks) {
		bytes.set(c, at);
		at += c.byteLength;
	}
	return bytes;
}

// A browser's HTTP cache would answer a refetch (for an unknown kid) with
// the set this verifier already has: bypass it, since the verifier keeps
// its own. Runtimes whose Request has no cache mode refuse the option
// (workerd before its 2024-11-11 compatibility date); they have no HTTP
// cache to bypass. Asked at the first fetch, not when this module loads:
// in Node, the first look at the global Request loads its whole fetch
// implementation (undici), which would add tens of milliseconds to the cold
// start of every program that imports verifierjs, remote key sets or not.
let noStoreOption;
function noStore() {
	noStoreOption ??= typeof Request === "function" && "cache" in Request.prototype ? { cache: "no-store" } : {};
	return noStoreOption;
}

// untilAborted rejects when signal aborts, so that a fetch implementation
// that ignores its signal still cannot hold a refresh forever.
function untilAborted(signal) {
	return new Promise((_, reject) => {
		if (signal.aborted) reject(signal.reason);
		else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
	});
}

// The default clock: milliseconds since the epoch that never go back (a
// wall clock set back would otherwise stretch cooldowns and ages).
const monotonic =
	typeof performance === "object" && typeof performance.now === "function" && typeof performance.timeOrigin === "number"
		? () => performance.timeOrigin + performance.now()
		: Date.now;

// utf8Length is the length of well-formed text s in UTF-8.
function utf8Length(s) {
	let n = s.length;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c >= 0x80) n += c < 0x800 ? 1 : c >= 0xd800 && c <= 0xdbff ? (i++, 2) : 2;
	}
	return n;
}

function isOptionsObject(o) {
	return typeof o === "object" && o !== null && Object.prototype.toString.call(o) === "[object Object]";
}

/**
 * Creates a verifier for tokens of one issuer addressed to one audience,
 * signed by a key of the issuer's JWKS at jwksUrl, fetched when first needed
 * and kept fresh (see the top of this file). It fetches nothing itself, so
 * it may be created at a worker's module scope. Settings it cannot use throw
 * KycvsError ERR_CONFIG at once.
 */
export function createRemoteVerifier(options) {
	if (!isOptionsObject(options)) throw configError("kycvs: createRemoteVerifier needs an options object");
	const {
		jwksUrl,
		allowHTTP,
		fetch: fetchFn = globalThis.fetch,
		clock: clockOption = monotonic,
		timeout,
		cooldown,
		maxAge,
		waitUntil,
		jwks,
		...verifierOptions
	} = options;
	if (jwks !== undefined) throw configError("kycvs: createRemoteVerifier fetches the key set from jwksUrl; pass jwks to createVerifier instead");
	const url = jwksURL(jwksUrl, allowHTTP);
	const { issuer, audience, checkNonce, leeway } = verifierOptions;
	if (typeof issuer !== "string" || issuer === "") throw configError("kycvs: issuer is required (the issuer's base URL)");
	if (typeof audience !== "string" || audience === "") throw configError("kycvs: audience is required (your client id)");
	// What the core refuses in createVerifier, refused now rather than at
	// every verification once the set is fetched.
	for (const [name, v] of [["issuer", issuer], ["audience", audience]]) {
		if (/[\uD800-\uDFFF]/.test(v.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))) throw configError(`kycvs: the expected ${name} is not valid UTF-8 (it has a lone surrogate)`);
		if (utf8Length(v) > 4096) throw configError(`kycvs: the expected ${name} is longer than 4096 bytes`);
	}
	if (checkNonce !== undefined && typeof checkNonce !== "boolean") throw configError("kycvs: checkNonce must be true or false");
	// (now rather than at each fetch, which would then fail every time)
	if (leeway !== undefined && !(typeof leeway === "number" && leeway >= 0 && leeway <= 3600)) throw configError("kycvs: leeway must be 0 to 3600 seconds");
	if (typeof fetchFn !== "function") throw configError("kycvs: no fetch function: pass options.fetch");
	if (waitUntil !== undefined && typeof waitUntil !== "function") throw configError("kycvs: waitUntil must be a function, such as waitUntil from cloudflare:workers");
	if (typeof clockOption !== "function") throw configError("kycvs: clock must be a function returning milliseconds, like Date.now");
	const clock = () => {
		const t = clockOption();
		if (typeof t !== "number" || !Number.isFinite(t)) throw configError("kycvs: clock returned something other than milliseconds");
		return t;
	};
	const timeoutMs = seconds(timeout, "timeout", 5, 300);
	const cooldownMs = seconds(cooldown, "cooldown", 30, 86400);
	const maxAgeMs = seconds(maxAge, "maxAge", 86400, 30 * 86400);
	const requireNonce = checkNonce !== false;
	const where = url.origin + url.pathname; // for messages: no credentials, no query

	// The current set: { verifier, etag, checked (start of the last
	// successful fetch, ms), fresh (ms) }. A 304 updates it in place; a 200
	// replaces it, so identity tells whether a set is newer.
	let current = null;
	let inflight = null; // { promise, started, background } of the fetch under way
	// Whether a refresh may run with nobody waiting for it. Edge runtimes
	// cancel what a request leaves running once it has answered (unless it
	// is given to waitUntil): a refresh seen to outlive its timeout was
	// lost so, and from then on the request that starts one waits for it.
	let background = true;
	let failedAt = -Infinity;
	let failure = null;
	let kidFetch = -Infinity; // start of the last fetch made for an unknown kid

	async function get(etag) {
		const headers = { accept: "application/jwk-set+json, application/json" };
		if (etag) headers["if-none-match"] = etag;
		const signal = AbortSignal.timeout(timeoutMs);
		const read = (async () => {
			const response = await fetchFn(url.href, { method: "GET", headers, redirect: "manual", signal, ...noStore() });
			if (response.status === 304 && etag) {
				await response.body?.cancel().catch(() => {});
				return { headers: response.headers };
			}
			if (response.status !== 200) {
				await response.body?.cancel().catch(() => {});
				throw new Error(`GET ${where}: HTTP ${response.status}`);
			}
			const body = await readBody(response);
			const verifier = await createVerifier({ ...verifierOptions, jwks: body });
			return { verifier, headers: response.headers, etag: response.headers.get("etag") };
		})();
		const aborted = untilAborted(signal);
		read.catch(() => {}); // whichever loses the race settles unseen
		aborted.catch(() => {});
		return Promise.race([read, aborted]);
	}

	// fetchSet starts a fetch, or joins the one under way, and settles when it
	// is done (never rejects: the state says how it went). A fetch left
	// pending past its timeout (a runtime that cancelled the request it was
	// made in) is abandoned rather than waited for forever.
	function fetchSet(inBackground = false) {
		const now = clock();
		if (live(now)) return inflight.promise;
		const started = now;
		const call = {
			started,
			background: inBackground,
			promise: get(current && current.etag).then(
				(got) => {
					failedAt = -Infinity;
					failure = null;
					if (current && started < current.checked) return; // a later fetch finished first
					const fresh = freshness(got.headers);
					if (got.verifier) current = { verifier: got.verifier, etag: got.etag, checked: started, fresh };
					else Object.assign(current, { checked: started, fresh }); // 304
				},
				(err) => {
					failedAt = clock();
					failure = err;
				},
			),
		};
		call.promise = call.promise.finally(() => {
			if (inflight === call) inflight = null;
		});
		inflight = call;
		if (inBackground && waitUntil) waitUntil(call.promise);
		return call.promise;
	}

	// live returns the fetch under way, unless it has outlived its timeout
	// (its runtime dropped it): then it is forgotten.
	function live(now) {
		if (inflight && now - inflight.started > timeoutMs + 1000) {
			if (inflight.background) background = false;
			inflight = null;
		}
		return inflight;
	}

	function stale() {
		const why = failure instanceof Error ? failure.message : String(failure);
		if (failure instanceof KycvsError && failure.code === "ERR_CONFIG") return failure; // wasm cannot load, bad leeway, ...
		const message = current
			? `kycvs: the key set from ${where} is older than ${maxAgeMs / 1000} s and cannot be refreshed: ${why}`
			: `kycvs: no key set from ${where} yet: ${why}`;
		return new KycvsError("ERR_JWKS_STALE", message, { cause: failure });
	}

	// keySet returns the set to verify with, fetching as the policy says.
	async function keySet() {
		const now = clock();
		if (current && now - current.checked <= maxAgeMs) {
			if (now - current.checked > current.fresh && !live(now) && now - failedAt >= FAILED_FETCH_BACKOFF) {
				// Refresh: in the background, or (where that is lost) with this
				// caller waiting; everyone else goes on with the set at hand,
				// which the refresh replaces or keeps through a failure.
				if (background || waitUntil) fetchSet(true);
				else if ((await fetchSet(), clock() - current.checked > maxAgeMs)) throw stale();
			}
			return current;
		}
		// None yet, or too old: this caller needs the fetch's result.
		if (now - failedAt < FAILED_FETCH_BACKOFF && !live(now)) throw stale();
		await fetchSet();
		if (current && clock() - current.checked <= maxAgeMs) return current;
		throw stale();
	}

	// keySetForKID returns a set newer than have to check a token with an
	// unknown kid again, or null.
	async function keySetForKID(have) {
		if (current && current !== have) return current; // installed meanwhile
		const now = clock();
		if (!live(now)) {
			if (now - kidFetch < cooldownMs) return null;
			kidFetch = now;
		}
		await fetchSet();
		return current && current !== have && clock() - current.checked <= maxAgeMs ? current : null;
	}

	async function check(token, opts) {
		const set = await keySet();
		try {
			return set.verifier.verify(token, opts);
		} catch (err) {
			if (!(err instanceof KycvsError) || err.code !== "ERR_KID_UNKNOWN") throw err;
			// Perhaps the issuer rotated its keys: look again, once.
			const newer = await keySetForKID(set);
			if (!newer) throw err;
			return newer.verifier.verify(token, opts);
		}
	}

	return {
		/**
		 * Verifies token against the issuer's current key set; resolves to
		 * its claims or rejects with KycvsError. The options are checked
		 * before anything is fetched.
		 */
		verify(token, opts) {
			if (opts != null && !isOptionsObject(opts)) {
				return Promise.reject(configError("kycvs: the second argument of verify must be an options object, { nonce }"));
			}
			if (requireNonce && (typeof opts?.nonce !== "string" || opts.nonce === "")) {
				return Promise.reject(configError("kycvs: verify needs { nonce }: the nonce you sent with this transaction (or create the verifier with checkNonce: false)"));
			}
			return check(token, opts);
		},
	};
}
