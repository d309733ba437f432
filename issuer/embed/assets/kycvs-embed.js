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
// code is "cancelled", "closed", "timeout", or a verifierjs code (ERR_…).

export class KycvsEmbedError extends Error {
	constructor(code, message, options) {
		super(message, options);
		this.name = "KycvsEmbedError";
		this.code = code;
	}
}

function newNonce() {
	const b = crypto.getRandomValues(new Uint8Array(18));
	return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function embedURL(o, mode) {
	const u = new URL("embed", o.issuer.endsWith("/") ? o.issuer : o.issuer + "/");
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
	const o = Object.assign({ mode: "iframe", timeout: 15 * 60_000, title: "Share your vaccination status" }, options);
	if (!o.issuer || !o.clientId) return Promise.reject(new KycvsEmbedError("ERR_CONFIG", "kycvs-embed: issuer and clientId are required"));
	o.nonce = o.nonce || newNonce();
	const issuerOrigin = new URL(o.issuer).origin;
	return new Promise((resolve, reject) => {
		let ui = null;
		let popup = null;
		let timer = 0;
		let poll = 0;
		const done = (err, value) => {
			window.removeEventListener("message", onMessage);
			clearTimeout(timer);
			clearInterval(poll);
			if (ui) {
				ui.dialog.close();
				ui.dialog.remove();
			}
			if (popup && !popup.closed) popup.close();
			if (err) reject(err);
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
		const base = o.issuer.endsWith("/") ? o.issuer : o.issuer + "/";
		const jwks = o.jwks || (await (await fetch(new URL(".well-known/jwks.json", base))).json());
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
