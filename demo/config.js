// Where the demo finds its issuer and who it is. The demo is static: it runs
// from any static host. The issuer is the one chosen in this browser (the
// "Issuer URL" box), else site.js (written by ./build.sh static), else the
// page's own origin when the issuer itself serves the demo (kycvs serve
// --demo serves it at /demo/). The page imports the issuer's script, so a
// link's ?issuer=URL is not used by itself: it fills the box, and the person
// presses "Use this issuer". The verifying entity is ?client_id=, the one
// saved in this tab, site.js, or "demo" (the entity --demo registers). Both
// survive navigation: they are saved, and the nav links carry client_id.
import { site } from "./site.js";

const KEY = "kycvs-demo.issuer";
const CLIENT_KEY = "kycvs-demo.client_id";

function load(storage, key) {
	try {
		return storage.getItem(key) || "";
	} catch {
		return "";
	}
}

function save(storage, key, value) {
	try {
		storage.setItem(key, value);
	} catch {}
}

const trim = (u) => u.replace(/\/+$/, "");

// settings returns { issuer, clientId, askedIssuer }: askedIssuer is a
// link's ?issuer= that is not the issuer in use (not used until chosen).
export function settings() {
	const q = new URLSearchParams(location.search);
	let issuer = load(localStorage, KEY) || site.issuer;
	if (!issuer && location.pathname.startsWith("/demo/")) issuer = location.origin;
	issuer = trim(issuer);
	const asked = trim(q.get("issuer") || "");
	let clientId = q.get("client_id") || "";
	if (clientId) save(sessionStorage, CLIENT_KEY, clientId);
	else clientId = load(sessionStorage, CLIENT_KEY) || site.clientId || "demo";
	carry({ client_id: q.get("client_id"), lang: q.get("lang") });
	return { issuer, clientId, askedIssuer: asked !== issuer ? asked : "" };
}

// carry adds the given query parameters to the links between demo pages.
function carry(params) {
	for (const a of document.querySelectorAll("a[data-carry]")) {
		const u = new URL(a.getAttribute("href"), location.href);
		for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
		a.href = u.href;
	}
}

// discover reads the issuer's metadata: its exact identifier (the iss of its
// tokens) and its JWKS URL.
export async function discover(issuerURL) {
	const res = await fetch(`${issuerURL}/.well-known/kycvs-configuration`);
	if (!res.ok) throw new Error(`${issuerURL}/.well-known/kycvs-configuration: HTTP ${res.status}`);
	return res.json();
}

// loadVerifierJS imports the copy of verifierjs next to the demo (./build.sh
// puts it in vendor/kycvs-verifier/).
export async function loadVerifierJS() {
	try {
		return await import("./vendor/kycvs-verifier/index.js");
	} catch (err) {
		throw new Error("verifierjs is missing from demo/vendor/kycvs-verifier/: run ./build.sh first", { cause: err });
	}
}

// issuerForm wires the "Issuer URL" box every demo page shows: choosing
// an issuer saves it in this browser. A link's ?issuer= only fills the box,
// with a note (text) saying why it waits for the person.
export function issuerForm({ issuer, askedIssuer }, note) {
	const form = document.getElementById("issuer-form");
	if (!form) return;
	const input = form.querySelector("input");
	input.value = askedIssuer || issuer;
	const p = document.getElementById("issuer-note");
	if (askedIssuer && p) {
		p.textContent = note;
		p.hidden = false;
	}
	form.addEventListener("submit", (e) => {
		e.preventDefault();
		save(localStorage, KEY, trim(input.value.trim()));
		const u = new URL(location.href);
		u.searchParams.delete("issuer");
		location.href = u.href;
	});
}
