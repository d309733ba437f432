// Where the demo finds its issuer. The demo is static: it runs from any
// static host. The issuer is, in order: ?issuer=URL, the one saved in this
// browser, or the page's own origin when the issuer itself serves the demo
// (kycvs serve --demo serves it at /demo/). The verifying entity is
// ?client_id= (default "demo", the entity --demo registers).

const KEY = "kycvs-demo.issuer";

export function settings() {
	const q = new URLSearchParams(location.search);
	let issuer = q.get("issuer") || "";
	if (issuer) {
		try {
			localStorage.setItem(KEY, issuer);
		} catch {}
	} else {
		try {
			issuer = localStorage.getItem(KEY) || "";
		} catch {}
	}
	if (!issuer && location.pathname.startsWith("/demo/")) issuer = location.origin;
	return { issuer: issuer.replace(/\/+$/, ""), clientId: q.get("client_id") || "demo" };
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

// issuerForm wires the "issuer" box every demo page shows.
export function issuerForm(current) {
	const form = document.getElementById("issuer-form");
	if (!form) return;
	const input = form.querySelector("input");
	input.value = current;
	form.addEventListener("submit", (e) => {
		e.preventDefault();
		const u = new URL(location.href);
		u.searchParams.set("issuer", input.value.trim());
		location.href = u.href;
	});
}
