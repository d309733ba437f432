// The token inspector: runs verifierjs on a pasted token and shows each step
// of the verification order as passed, failed (with its code explained) or
// not reached. Verifiers stop at the first failure, so the steps after it
// are not reached.
import { settings, discover, loadVerifierJS, issuerForm } from "./config.js";
import { decodeToken, STEPS, SETUP_CODES } from "./claims.js";
import { setup } from "./i18n.js";

const { t } = setup({
	en: {
		title: "Token inspector (kycvs demo)",
		logo: "Token inspector",
		h1: "Token inspector",
		lead: "Paste a kycvs token and give the issuer's key set: every check runs here, in this browser, in the kycvs Go core compiled to WebAssembly (verifierjs). Nothing is sent anywhere except the request for a JWKS URL.",
		token: "Token",
		jwks: "Key set (JWKS)",
		jwksURL: "URL",
		jwksText: "or its text (used when not empty)",
		iss: "Expected issuer",
		aud: "Expected audience (client id)",
		nonce: "Expected nonce (optional)",
		now: "Check at (optional, Unix seconds)",
		run: "Check",
		colCheck: "Check",
		colResult: "Result",
		colCode: "Code",
		colMeans: "What it means",
		decoded: "Decoded (for reading; trust only what passed)",
		issuerBox: "Issuer URL (fills the JWKS URL and the expected issuer)",
		pass: "✓ pass",
		fail: "✗ fail",
		skip: "– not reached",
		off: "– not checked",
		setup: "Key set and settings",
		setupOK: "The key set is a usable JWKS; issuer and audience are given.",
		noNonce: "No nonce given.",
		valid: "Valid: {words} (vs = {status})",
		invalid: "Not valid: {code}",
		cannotDecode: "cannot decode: {message}",
		result: "verifierjs result:",
	},
	hi: {
		title: "टोकन जाँच (kycvs डेमो)",
		logo: "टोकन जाँच",
		h1: "टोकन जाँच",
		lead: "एक kycvs टोकन चिपकाएँ और जारीकर्ता का key set दें: हर जाँच यहीं, इस ब्राउज़र में, WebAssembly में बने kycvs Go कोर (verifierjs) में चलती है। JWKS URL के अनुरोध के सिवा कुछ भी कहीं नहीं भेजा जाता।",
		token: "टोकन",
		jwks: "Key set (JWKS)",
		jwksURL: "URL",
		jwksText: "या उसका पाठ (खाली न हो तो यही उपयोग होता है)",
		iss: "अपेक्षित जारीकर्ता",
		aud: "अपेक्षित ऑडियंस (client id)",
		nonce: "अपेक्षित nonce (वैकल्पिक)",
		now: "इस समय पर जाँचें (वैकल्पिक, Unix सेकंड)",
		run: "जाँचें",
		colCheck: "जाँच",
		colResult: "परिणाम",
		colCode: "कोड",
		colMeans: "इसका अर्थ",
		decoded: "डिकोड किया हुआ (पढ़ने के लिए; केवल पास हुई जाँचों पर भरोसा करें)",
		issuerBox: "जारीकर्ता URL (JWKS URL और अपेक्षित जारीकर्ता भरता है)",
		pass: "✓ पास",
		fail: "✗ विफल",
		skip: "– नहीं पहुँची",
		off: "– जाँची नहीं गई",
		setup: "Key set और सेटिंग्स",
		setupOK: "Key set उपयोग योग्य JWKS है; जारीकर्ता और ऑडियंस दिए गए हैं।",
		noNonce: "कोई nonce नहीं दिया गया।",
		valid: "मान्य: {words} (vs = {status})",
		invalid: "मान्य नहीं: {code}",
		cannotDecode: "डिकोड नहीं हो सकता: {message}",
		result: "verifierjs परिणाम:",
		ERR_TOO_LARGE: ["आकार", "टोकन अधिकतम 4096 बाइट का है।"],
		ERR_MALFORMED: ["प्रारूप", "तीन सख़्त base64url खंड; हेडर ठीक {alg, kid, typ} है।"],
		ERR_ALG: ["एल्गोरिद्म", "alg अनुमति-सूची (EdDSA) में है।"],
		ERR_TYPE: ["प्रकार", 'typ ठीक "kycvs+msgpack" है।'],
		ERR_KID_UNKNOWN: ["Key id", "kid, key set की किसी key का नाम है।"],
		ERR_SIGNATURE: ["हस्ताक्षर", "उस key से Ed25519 हस्ताक्षर सही है।"],
		ERR_CLAIMS: ["दावे", "payload एक MessagePack map है जिसमें हर आवश्यक दावा सही प्रकार का है; vs 0, 1 या 2 है; iat < exp ≤ iat + 3600।"],
		ERR_ISSUER: ["जारीकर्ता", "iss अपेक्षित जारीकर्ता के बाइट-दर-बाइट बराबर है।"],
		ERR_AUDIENCE: ["ऑडियंस", "aud अपेक्षित ऑडियंस (संस्था की client id) के बराबर है।"],
		ERR_EXPIRED: ["समाप्त नहीं", "now ≤ exp + leeway (60 s)।"],
		ERR_NOT_YET_VALID: ["मान्य हो चुका", "now ≥ iat − leeway (60 s)।"],
		ERR_NONCE: ["Nonce", "nonce इस लेन-देन के nonce के बराबर है (केवल तब जाँचा जाता है जब कोई अपेक्षित हो)।"],
		ERR_JWKS: ["", "Key set उपयोग योग्य JWKS नहीं है (JSON नहीं, कोई उपयोगी Ed25519 key नहीं, दोहराया kid, निजी सामग्री, गलत बिंदु, …)।"],
		ERR_CONFIG: ["", "Verifier नहीं बन सकता: जारीकर्ता या ऑडियंस नहीं दिया गया, या verifier लोड नहीं हो सका।"],
	},
});
// step returns the check's name and explanation in the page's language.
const step = (s) => {
	const hi = t(s.code);
	return Array.isArray(hi) ? { check: hi[0], explain: hi[1] } : s;
};
const setupText = (code) => {
	const hi = t(code);
	return Array.isArray(hi) ? hi[1] : SETUP_CODES[code];
};

const $ = (id) => document.getElementById(id);
const config = settings();
const { issuer: issuerURL, clientId } = config;
issuerForm(config, t("issuerAsked", { issuer: config.askedIssuer }));

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
	const cells = [check, t(result), code, explain];
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
		body.append(row(t("setup"), "fail", failed, setupText(failed)));
		for (const s of STEPS) body.append(row(step(s).check, "skip", s.code, step(s).explain));
	} else {
		if (failed || result) body.append(row(t("setup"), "pass", "ERR_JWKS / ERR_CONFIG", t("setupOK")));
		let reached = true;
		for (const s0 of STEPS) {
			const s = { ...s0, ...step(s0) };
			if (s.code === "ERR_NONCE" && !nonce) {
				body.append(row(s.check, "off", s.code, `${s.explain} ${t("noNonce")}`));
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
	$("verdict").textContent = result ? t("valid", { words: t(`status${result.status}`), status: result.status }) : t("invalid", { code: failed });
	$("verdict").dataset.code = result ? "OK" : failed;
	$("detail").textContent = message;
	let decoded;
	try {
		decoded = JSON.stringify(decodeToken(token), null, 2);
	} catch (err) {
		decoded = t("cannotDecode", { message: err.message });
	}
	$("decoded").textContent = decoded + (result ? `\n\n${t("result")}\n${JSON.stringify(result, null, 2)}` : "");
}

$("inspect").addEventListener("submit", run);
prefill();
