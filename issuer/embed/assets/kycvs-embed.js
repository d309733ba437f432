// kycvs-embed.js: the script a verifying entity includes to ask a person for
// their vaccination status through the issuer's embeddable page.
//
//   import { requestStatus } from "https://issuer.example/embed/kycvs-embed.js";
//   import { createVerifier } from "kycvs-verifier";
//   const { token, result } = await requestStatus({
//     issuer: "https://issuer.example", clientId: "my-entity", name: "Asha Devi",
//     createVerifier,            // or: verifier (one made with createVerifier)
//   });
//   result.status; // 0, 1 or 2, verified locally (signature, issuer, audience, expiry, nonce)
//
// requestToken does the same without verifying. The page runs in an iframe
// in a modal dialog (mode "iframe", the default) or in a popup (mode
// "popup"). Only messages from the issuer's origin and from the window this
// script opened are accepted. Failures reject with a KycvsEmbedError whose
// code is "cancelled", "closed", "timeout", a verifierjs code (ERR_…), or,
// when the page cannot be opened for this site (asked of the issuer's
// /embed/check while the page opens, so a refusal is told at once):
//   ERR_ORIGIN          this page's origin is not registered for clientId
//   ERR_CLIENT_UNKNOWN  the issuer has no verifying entity clientId
//   ERR_UNAVAILABLE     the issuer cannot be reached (down, wrong URL), or
//                       did not answer within checkTimeout (default 10 s)
// Every error carries issuer, clientId and origin (this page's), to name in
// a message.

export class KycvsEmbedError extends Error {
	constructor(code, message, options) {
		super(message, options);
		this.name = "KycvsEmbedError";
		this.code = code;
	}
}

function issuerBase(issuer) {
	return issuer.endsWith("/") ? issuer : issuer + "/";
}

// check asks the issuer whether its page will open for this origin and
// client; it rejects with ERR_ORIGIN, ERR_CLIENT_UNKNOWN or ERR_UNAVAILABLE.
async function check(o) {
	const u = new URL("embed/check", issuerBase(o.issuer));
	u.searchParams.set("client_id", o.clientId);
	u.searchParams.set("origin", location.origin);
	const fail = (code, message, cause) => new KycvsEmbedError(code, message, cause ? { cause } : undefined);
	let res;
	try {
		res = await fetch(u, { cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(o.checkTimeout) });
	} catch (err) {
		throw fail("ERR_UNAVAILABLE", `the issuer ${o.issuer} cannot be reached from ${location.origin}: is it running, and is the URL right?`, err);
	}
	if (res.ok) return;
	let code = "";
	try {
		code = (await res.json()).code || "";
	} catch {}
	if (code === "ERR_ORIGIN") {
		throw fail(code, `${location.origin} is not registered for client "${o.clientId}" at ${o.issuer}: open this page from a registered origin, or register this one (kycvs client add --origin ${location.origin})`);
	}
	if (code === "ERR_CLIENT_UNKNOWN") {
		throw fail(code, `the issuer ${o.issuer} has no client "${o.clientId}": check the client id (kycvs client add registers one)`);
	}
	throw fail(code || "ERR_UNAVAILABLE", `the issuer ${o.issuer} refused to open its page (HTTP ${res.status}${code ? ", " + code : ""})`);
}

function newNonce() {
	const b = crypto.getRandomValues(new Uint8Array(18));
	return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function embedURL(o, mode) {
	const u = new URL("embed", issuerBase(o.issuer));
	u.searchParams.set("client_id", o.clientId);
	u.searchParams.set("nonce", o.nonce);
	if (o.name) u.searchParams.set("name", o.name);
	u.searchParams.set("origin", location.origin);
	u.searchParams.set("mode", mode);
	if (o.lang) u.searchParams.set("lang", o.lang);
	return u;
}

// openDialog shows the page in an iframe inside a modal <dialog>.
function openDialog(url, title) {
	const dialog = document.createElement("dialog");
	dialog.className = "kycvs-dialog";
	dialog.setAttribute("aria-label", title);
	Object.assign(dialog.style, {
		padding: "0", border: "0", borderRadius: "12px", width: "min(480px, 100vw)", maxWidth: "100vw",
		height: "min(720px, 100dvh)", maxHeight: "100dvh", overflow: "hidden", boxShadow: "0 8px 40px rgba(0,0,0,.35)",
	});
	const close = document.createElement("button");
	close.type = "button";
	close.textContent = "×";
	close.setAttribute("aria-label", "Close");
	Object.assign(close.style, {
		position: "absolute", top: "4px", right: "4px", width: "40px", height: "40px", border: "0",
		background: "transparent", fontSize: "24px", cursor: "pointer", zIndex: "1",
	});
	const frame = document.createElement("iframe");
	frame.src = url.href;
	frame.title = title;
	frame.allow = "otp-credentials";
	frame.referrerPolicy = "no-referrer";
	Object.assign(frame.style, { border: "0", width: "100%", height: "100%", display: "block" });
	dialog.append(close, frame);
	document.body.append(dialog);
	dialog.showModal();
	return { dialog, close, frame, window: () => frame.contentWindow };
}

/**
 * Opens the issuer's page and resolves with { token, nonce } once the person
 * has consented. The token is not verified: use requestStatus for that.
 */
export function requestToken(options) {
	const o = Object.assign({ mode: "iframe", timeout: 15 * 60_000, checkTimeout: 10_000, title: "Share your vaccination status" }, options);
	if (!o.issuer || !o.clientId) return Promise.reject(new KycvsEmbedError("ERR_CONFIG", "kycvs-embed: issuer and clientId are required"));
	const where = { issuer: o.issuer, clientId: o.clientId, origin: location.origin };
	o.nonce = o.nonce || newNonce();
	const issuerOrigin = new URL(o.issuer).origin;
	return new Promise((resolve, reject) => {
		let ui = null;
		let popup = null;
		let timer = 0;
		let poll = 0;
		let settled = false;
		const done = (err, value) => {
			if (settled) return;
			settled = true;
			window.removeEventListener("message", onMessage);
			clearTimeout(timer);
			clearInterval(poll);
			if (ui) {
				ui.dialog.close();
				ui.dialog.remove();
			}
			if (popup && !popup.closed) popup.close();
			if (err) reject(Object.assign(err, where));
			else resolve(value);
		};
		const source = () => (ui ? ui.window() : popup);
		const onMessage = (e) => {
			if (e.origin !== issuerOrigin || e.source !== source() || !e.data || typeof e.data !== "object") return;
			if (e.data.type === "kycvs:token" && typeof e.data.token === "string") {
				done(null, { token: e.data.token, nonce: o.nonce });
			} else if (e.data.type === "kycvs:cancel") {
				done(new KycvsEmbedError("cancelled", "the person did not share their status"));
			}
		};
		window.addEventListener("message", onMessage);
		timer = setTimeout(() => done(new KycvsEmbedError("timeout", "no answer in time")), o.timeout);
		// The page opens at once (a popup must open within the click); the
		// check runs beside it and closes it with the reason if it cannot work.
		check(o).catch((err) => done(err));
		if (o.mode === "popup") {
			// A window name of this request's own: a shared name would let a
			// second request navigate the first one's popup, whose token (for
			// the other nonce) the first listener would then take.
			popup = window.open(embedURL(o, "popup").href, `kycvs-${o.nonce}`, "popup,width=480,height=720");
			if (!popup) return done(new KycvsEmbedError("closed", "the popup was blocked"));
			poll = setInterval(() => {
				if (popup.closed) done(new KycvsEmbedError("closed", "the window was closed"));
			}, 500);
		} else {
			ui = openDialog(embedURL(o, "iframe"), o.title);
			ui.close.addEventListener("click", () => done(new KycvsEmbedError("closed", "the dialog was closed")));
			ui.dialog.addEventListener("cancel", (e) => {
				e.preventDefault();
				done(new KycvsEmbedError("closed", "the dialog was closed"));
			});
		}
	});
}

/**
 * Opens the page, then verifies the token with verifierjs before resolving
 * with { token, nonce, result } (result as verifierjs returns it). Give
 * either `verifier` (made with createVerifier for this issuer and clientId)
 * or `createVerifier` (then the issuer's JWKS is fetched).
 */
export async function requestStatus(options) {
	const o = Object.assign({}, options);
	let verifier = o.verifier;
	if (!verifier) {
		if (typeof o.createVerifier !== "function") throw new KycvsEmbedError("ERR_CONFIG", "kycvs-embed: give verifier or createVerifier");
		const jwks = o.jwks || (await (await fetch(new URL(".well-known/jwks.json", issuerBase(o.issuer)))).json());
		verifier = await o.createVerifier({ jwks, issuer: o.issuer, audience: o.clientId, leeway: o.leeway });
	}
	o.nonce = o.nonce || newNonce();
	const { token, nonce } = await requestToken(o);
	let result;
	try {
		result = verifier.verify(token, { nonce });
	} catch (err) {
		throw new KycvsEmbedError(err && err.code ? err.code : "ERR_VERIFY", `the token did not verify: ${err && err.message}`, { cause: err });
	}
	return { token, nonce, result };
}
