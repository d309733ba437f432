// The token inspector: runs verifierjs on a pasted token and shows each step
// of the verification order as passed, failed (with its code explained) or
// not reached. Verifiers stop at the first failure, so the steps after it
// are not reached.
import { settings, discover, loadVerifierJS, issuerForm } from "./config.js";
import { decodeToken, STEPS, SETUP_CODES, STATUS_WORDS } from "./claims.js";

const $ = (id) => document.getElementById(id);
const { issuer: issuerURL, clientId } = settings();
issuerForm(issuerURL);

async function prefill() {
	const h = new URLSearchParams(location.hash.slice(1));
	$("token").value = h.get("token") || "";
	$("aud").value = h.get("audience") || clientId;
	$("nonce").value = h.get("nonce") || "";
	$("iss").value = h.get("issuer") || issuerURL;
	if (issuerURL) {
		$("jwks-url").value = `${issuerURL}/.well-known/jwks.json`;
		try {
			const meta = await discover(issuerURL);
			$("jwks-url").value = meta.jwks_uri;
			if (!h.get("issuer")) $("iss").value = meta.issuer;
		} catch {}
	}
	if ($("token").value) run();
}

function row(check, result, code, explain) {
	const tr = document.createElement("tr");
	tr.dataset.code = code;
	tr.dataset.result = result;
	const cells = [check, { pass: "✓ pass", fail: "✗ fail", skip: "– not reached", off: "– not checked" }[result], code, explain];
	cells.forEach((text, i) => {
		const td = document.createElement("td");
		td.textContent = text;
		if (i === 1) td.className = result === "pass" ? "pass" : result === "fail" ? "fail" : "skip";
		tr.append(td);
	});
	return tr;
}

async function run(e) {
	e?.preventDefault();
	const token = $("token").value.trim();
	const nonce = $("nonce").value.trim();
	const nowText = $("now").value.trim();
	const body = $("checks");
	body.replaceChildren();
	$("report").hidden = false;
	$("detail").textContent = "";
	let failed = "";
	let message = "";
	let result = null;
	try {
		const { createVerifier } = await loadVerifierJS();
		let jwks = $("jwks-text").value.trim();
		if (!jwks) {
			const url = $("jwks-url").value.trim();
			if (!url) throw Object.assign(new Error("give a JWKS URL or its text"), { code: "ERR_JWKS" });
			try {
				jwks = await (await fetch(url)).text();
			} catch (err) {
				throw Object.assign(new Error(`cannot fetch ${url}: ${err.message}`), { code: "ERR_JWKS" });
			}
		}
		// An inspector may look at a token without its nonce: it opts out of
		// the nonce check by name when the field is empty, and says so below.
		const verifier = await createVerifier({ jwks, issuer: $("iss").value.trim(), audience: $("aud").value.trim(), checkNonce: nonce !== "" });
		result = verifier.verify(token, { nonce, now: nowText ? Number(nowText) : undefined });
	} catch (err) {
		failed = err.code || "ERR_CONFIG";
		message = err.message;
	}
	if (SETUP_CODES[failed]) {
		body.append(row("Key set and settings", "fail", failed, SETUP_CODES[failed]));
		for (const s of STEPS) body.append(row(s.check, "skip", s.code, s.explain));
	} else {
		if (failed || result) body.append(row("Key set and settings", "pass", "ERR_JWKS / ERR_CONFIG", "The key set is a usable JWKS; issuer and audience are given."));
		let reached = true;
		for (const s of STEPS) {
			if (s.code === "ERR_NONCE" && !nonce) {
				body.append(row(s.check, "off", s.code, s.explain + " No nonce given."));
				continue;
			}
			if (!reached) {
				body.append(row(s.check, "skip", s.code, s.explain));
			} else if (s.code === failed) {
				body.append(row(s.check, "fail", s.code, s.explain));
				reached = false;
			} else {
				body.append(row(s.check, "pass", s.code, s.explain));
			}
		}
	}
	$("verdict").textContent = result ? `Valid: ${STATUS_WORDS[result.status]} (vs = ${result.status})` : `Not valid: ${failed}`;
	$("verdict").dataset.code = result ? "OK" : failed;
	$("detail").textContent = message;
	let decoded;
	try {
		decoded = JSON.stringify(decodeToken(token), null, 2);
	} catch (err) {
		decoded = `cannot decode: ${err.message}`;
	}
	$("decoded").textContent = decoded + (result ? `\n\nverifierjs result:\n${JSON.stringify(result, null, 2)}` : "");
}

$("inspect").addEventListener("submit", run);
prefill();
