// The kycvs embeddable page: mobile and name, OTP, consent, then the token
// goes to the verifying entity's registered origin by postMessage. The
// server put everything this script needs on #app; it talks only to its own
// origin (/embed/otp, /embed/confirm) with the page token in X-KYCVS-Page.

const T = {
	en: {
		switchTo: "हिन्दी",
		loading: "Loading…",
		fatalTitle: "This page cannot be used",
		badLink: "The link that opened this page is not complete. Go back to the site and try again.",
		unknownClient: "The site that opened this page is not registered with the issuer.",
		unregisteredOrigin: "This site is not registered to ask for your vaccination status. No information will be shared.",
		unavailable: "The service is not available right now. Please try again later.",
		notEmbedded: "Open this page from the site that asks for your vaccination status.",
		startTitle: "Share your vaccination status with {entity}",
		startIntro: "We will send a code by SMS to your mobile number. Then you decide whether to share.",
		mobileLabel: "Mobile number",
		mobileHint: "The 10-digit number you used to register for vaccination.",
		nameLabel: "Full name",
		nameHint: "As on your vaccination certificate.",
		sendCode: "Send code",
		cancel: "Cancel",
		otpTitle: "Enter the code",
		otpSent: "We sent a 6-digit code by SMS to +91 ••••••{last4}.",
		otpLabel: "6-digit code",
		continue: "Continue",
		resend: "Send a new code",
		resendIn: "Send a new code in {time}",
		expiresIn: "The code expires in {time}.",
		expired: "This code has expired. Ask for a new code.",
		changeNumber: "Change the number or name",
		codeSent: "Code sent.",
		consentTitle: "Share your status with {entity}?",
		willLearn: "{entity} will learn:",
		learnStatus: "Your COVID-19 vaccination status, as one number: 0 not vaccinated, 1 partially vaccinated, or 2 fully vaccinated.",
		learnBound: "That this answer is for this request only: it cannot be reused for another.",
		learnExpiry: "The answer is valid for {minutes} minutes.",
		learnPseudonym: "A code that is the same each time you share with {entity}, and different for every other site.",
		learnName: "Whether the name you typed matches the name they know (a check value, not your name).",
		wontLearn: "{entity} will not learn:",
		wontMobile: "Your mobile number",
		wontName: "Your name as registered",
		wontDates: "The dates of your doses",
		wontVaccine: "Which vaccine you had",
		receipt: "You will get an SMS when your status is shared.",
		share: "Share my status",
		decline: "Don't share",
		doneTitle: "Your status was shared with {entity}",
		doneText: "You can close this window.",
		declinedTitle: "Nothing was shared",
		mobileInvalid: "Enter a 10-digit Indian mobile number, like 98765 43210.",
		nameMissing: "Enter your full name.",
		otpInvalidFormat: "Enter the 6 digits from the SMS.",
		wrongOTP: "That code is not right. You have {n} tries left.",
		wrongOTPLast: "That code is not right. You have 1 try left.",
		noTries: "That code is not right, and there are no tries left. Ask for a new code.",
		otpExpired: "This code has expired. Ask for a new code.",
		txnUnknown: "This request is no longer valid. Start again.",
		rateLimited: "Too many requests. Please wait {time} and try again.",
		rateLimitedNoTime: "Too many requests. Please wait a little and try again.",
		pageExpired: "This page has expired. Close it and start again from the site.",
		network: "Could not reach the service. Check your connection and try again.",
		badRequest: "Something in the request was not accepted. Check the number and the name.",
		sharing: "Sharing…",
		sending: "Sending…",
	},
	hi: {
		switchTo: "English",
		loading: "लोड हो रहा है…",
		fatalTitle: "इस पेज का उपयोग नहीं किया जा सकता",
		badLink: "जिस लिंक से यह पेज खुला वह अधूरा है। साइट पर वापस जाकर फिर से प्रयास करें।",
		unknownClient: "जिस साइट ने यह पेज खोला वह जारीकर्ता के पास पंजीकृत नहीं है।",
		unregisteredOrigin: "यह साइट आपकी टीकाकरण स्थिति पूछने के लिए पंजीकृत नहीं है। कोई जानकारी साझा नहीं की जाएगी।",
		unavailable: "सेवा अभी उपलब्ध नहीं है। कृपया बाद में फिर से प्रयास करें।",
		notEmbedded: "यह पेज उस साइट से खोलें जो आपकी टीकाकरण स्थिति पूछ रही है।",
		startTitle: "{entity} के साथ अपनी टीकाकरण स्थिति साझा करें",
		startIntro: "हम आपके मोबाइल नंबर पर SMS से एक कोड भेजेंगे। फिर आप तय करेंगे कि साझा करना है या नहीं।",
		mobileLabel: "मोबाइल नंबर",
		mobileHint: "वह 10 अंकों का नंबर जिससे आपने टीकाकरण के लिए पंजीकरण किया था।",
		nameLabel: "पूरा नाम",
		nameHint: "जैसा आपके टीकाकरण प्रमाणपत्र पर है।",
		sendCode: "कोड भेजें",
		cancel: "रद्द करें",
		otpTitle: "कोड दर्ज करें",
		otpSent: "हमने +91 ••••••{last4} पर SMS से 6 अंकों का कोड भेजा है।",
		otpLabel: "6 अंकों का कोड",
		continue: "आगे बढ़ें",
		resend: "नया कोड भेजें",
		resendIn: "{time} में नया कोड भेजें",
		expiresIn: "कोड {time} में समाप्त हो जाएगा।",
		expired: "यह कोड समाप्त हो गया है। नया कोड मँगाएँ।",
		changeNumber: "नंबर या नाम बदलें",
		codeSent: "कोड भेज दिया गया।",
		consentTitle: "क्या {entity} के साथ अपनी स्थिति साझा करें?",
		willLearn: "{entity} को पता चलेगा:",
		learnStatus: "आपकी COVID-19 टीकाकरण स्थिति, एक अंक के रूप में: 0 टीका नहीं लगा, 1 आंशिक रूप से टीका लगा, या 2 पूर्ण रूप से टीका लगा।",
		learnBound: "कि यह उत्तर केवल इसी अनुरोध के लिए है: इसे किसी दूसरे अनुरोध के लिए दोबारा उपयोग नहीं किया जा सकता।",
		learnExpiry: "यह उत्तर {minutes} मिनट तक मान्य है।",
		learnPseudonym: "एक कोड जो हर बार {entity} के साथ साझा करने पर एक जैसा रहता है, और हर दूसरी साइट के लिए अलग होता है।",
		learnName: "क्या आपका लिखा नाम उनके पास के नाम से मेल खाता है (एक जाँच मान, आपका नाम नहीं)।",
		wontLearn: "{entity} को पता नहीं चलेगा:",
		wontMobile: "आपका मोबाइल नंबर",
		wontName: "पंजीकृत नाम",
		wontDates: "आपकी खुराकों की तारीखें",
		wontVaccine: "आपको कौन सा टीका लगा",
		receipt: "स्थिति साझा होने पर आपको एक SMS मिलेगा।",
		share: "मेरी स्थिति साझा करें",
		decline: "साझा न करें",
		doneTitle: "आपकी स्थिति {entity} के साथ साझा की गई",
		doneText: "अब आप यह विंडो बंद कर सकते हैं।",
		declinedTitle: "कुछ भी साझा नहीं किया गया",
		mobileInvalid: "10 अंकों का भारतीय मोबाइल नंबर दर्ज करें, जैसे 98765 43210।",
		nameMissing: "अपना पूरा नाम दर्ज करें।",
		otpInvalidFormat: "SMS में आए 6 अंक दर्ज करें।",
		wrongOTP: "यह कोड सही नहीं है। आपके पास {n} प्रयास बचे हैं।",
		wrongOTPLast: "यह कोड सही नहीं है। आपके पास 1 प्रयास बचा है।",
		noTries: "यह कोड सही नहीं है, और कोई प्रयास नहीं बचा। नया कोड मँगाएँ।",
		otpExpired: "यह कोड समाप्त हो गया है। नया कोड मँगाएँ।",
		txnUnknown: "यह अनुरोध अब मान्य नहीं है। फिर से शुरू करें।",
		rateLimited: "बहुत अधिक अनुरोध। कृपया {time} रुककर फिर से प्रयास करें।",
		rateLimitedNoTime: "बहुत अधिक अनुरोध। कृपया थोड़ा रुककर फिर से प्रयास करें।",
		pageExpired: "यह पेज समाप्त हो गया है। इसे बंद करें और साइट से फिर से शुरू करें।",
		network: "सेवा तक नहीं पहुँच सके। अपना कनेक्शन जाँचें और फिर से प्रयास करें।",
		badRequest: "अनुरोध का कुछ हिस्सा स्वीकार नहीं हुआ। नंबर और नाम जाँचें।",
		sharing: "साझा किया जा रहा है…",
		sending: "भेजा जा रहा है…",
	},
};

const app = document.getElementById("app");
const cfg = app.dataset;
const $ = (id) => document.getElementById(id);
let lang = cfg.lang === "hi" ? "hi" : "en";
const state = { step: "loading", txn: "", otp: "", mobile: "", expiresAt: 0, resendAt: 0, errorKey: "", errorVars: null, fatalKey: "", doneKey: "doneTitle" };

function t(key, vars) {
	let s = (T[lang] && T[lang][key]) || T.en[key] || key;
	const v = Object.assign({ entity: cfg.clientName }, vars);
	return s.replace(/\{(\w+)\}/g, (_, k) => (v[k] !== undefined ? String(v[k]) : ""));
}

function mmss(seconds) {
	const s = Math.max(0, Math.ceil(seconds));
	return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// render puts every string of the current language in place.
function render() {
	document.documentElement.lang = lang;
	document.title = state.step === "start" || state.step === "loading" ? t("startTitle") : t(state.step === "consent" ? "consentTitle" : state.step === "otp" ? "otpTitle" : state.step === "done" ? state.doneKey : "fatalTitle");
	for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
	const sw = $("lang-switch");
	sw.textContent = t("switchTo");
	sw.lang = lang === "hi" ? "en" : "hi";
	$("consent-title").textContent = t("consentTitle");
	$("learn-expiry").textContent = t("learnExpiry", { minutes: Math.round(Number(cfg.tokenTtl || 300) / 60) });
	$("done-title").textContent = t(state.doneKey);
	$("otp-sent").textContent = t("otpSent", { last4: state.mobile.slice(-4) });
	$("fatal-text").textContent = state.fatalKey ? t(state.fatalKey) : "";
	const err = $("error");
	err.hidden = !state.errorKey;
	err.textContent = state.errorKey ? t(state.errorKey, state.errorVars) : "";
	tick();
}

function show(step) {
	state.step = step;
	for (const id of ["loading", "fatal", "start", "otp", "consent", "done"]) $(`step-${id}`).hidden = id !== step;
	render();
	const h = $(`step-${step}`).querySelector("h1");
	if (h) h.focus();
}

function setError(key, vars, field) {
	state.errorKey = key || "";
	state.errorVars = vars || null;
	for (const id of ["mobile", "name", "otp"]) $(id).removeAttribute("aria-invalid");
	if (field) {
		$(field).setAttribute("aria-invalid", "true");
		$(field).focus();
	}
	render();
}

function fatal(key) {
	state.fatalKey = key;
	state.errorKey = "";
	show("fatal");
}

// The window the token goes to: the parent frame, or the opener of a popup.
function target() {
	if (cfg.mode === "popup") return window.opener;
	return window.parent !== window ? window.parent : null;
}

function send(message) {
	const w = target();
	// The registered origin only: if the embedding page is anywhere else,
	// the browser drops the message.
	if (w) w.postMessage(message, cfg.origin);
}

async function call(path, body) {
	let res;
	try {
		res = await fetch(path, {
			method: "POST",
			headers: { "Content-Type": "application/json", "X-KYCVS-Page": cfg.pageToken },
			body: JSON.stringify(body),
			credentials: "same-origin",
			cache: "no-store",
		});
	} catch {
		return { error: "network" };
	}
	let data = {};
	try {
		data = await res.json();
	} catch {}
	if (res.ok) return { data };
	return { problem: data, status: res.status, retryAfter: Number(res.headers.get("Retry-After")) || 0 };
}

// problemKey turns a problem+json answer into a message key and its values.
function problemKey(r) {
	if (r.error) return ["network"];
	const p = r.problem || {};
	switch (p.code) {
		case "ERR_OTP_INVALID":
			if (p.tries_left === 0) return ["noTries"];
			if (p.tries_left === 1) return ["wrongOTPLast"];
			return ["wrongOTP", { n: p.tries_left }];
		case "ERR_OTP_EXPIRED":
			return ["otpExpired"];
		case "ERR_TXN_UNKNOWN":
			return ["txnUnknown"];
		case "ERR_RATE_LIMITED":
			return r.retryAfter > 0 ? ["rateLimited", { time: mmss(r.retryAfter) }] : ["rateLimitedNoTime"];
		case "ERR_UNAUTHORIZED":
			return ["pageExpired"];
		case "ERR_BAD_REQUEST":
			return ["badRequest"];
		default:
			return ["unavailable"];
	}
}

function normalizeMobile(s) {
	let d = s.replace(/[\s-]/g, "");
	if (d.startsWith("+91")) d = d.slice(3);
	else if (d.length === 11 && d.startsWith("0")) d = d.slice(1);
	return /^[6-9][0-9]{9}$/.test(d) ? d : "";
}

let busy = false;

async function requestOTP() {
	if (busy) return;
	const mobile = normalizeMobile($("mobile").value);
	const name = $("name").value.trim();
	if (!mobile) return setError("mobileInvalid", null, "mobile");
	if (!name) return setError("nameMissing", null, "name");
	busy = true;
	$("live").textContent = t("sending");
	// The SMS texts come in the page's language.
	const r = await call("/embed/otp", { mobile, name, lang });
	busy = false;
	if (!r.data) {
		const [key, vars] = problemKey(r);
		if (key === "pageExpired") return fatal(key);
		return setError(key, vars, state.step === "start" ? "mobile" : null);
	}
	state.mobile = mobile;
	state.txn = r.data.txn;
	const now = Date.now();
	state.expiresAt = now + r.data.expires_in * 1000;
	state.resendAt = now + (r.data.resend_in || 0) * 1000;
	state.errorKey = "";
	$("otp").value = "";
	show("otp");
	$("live").textContent = t("codeSent");
	$("otp").focus();
}

// tick updates the countdown and the resend button.
function tick() {
	if (state.step !== "otp") return;
	const now = Date.now();
	const left = (state.expiresAt - now) / 1000;
	$("countdown").textContent = left > 0 ? t("expiresIn", { time: mmss(left) }) : t("expired");
	const wait = (state.resendAt - now) / 1000;
	const resend = $("resend");
	resend.disabled = wait > 0;
	resend.textContent = wait > 0 ? t("resendIn", { time: mmss(wait) }) : t("resend");
	$("otp-next").disabled = left <= 0;
}
setInterval(tick, 1000);

// toConsent checks the code with the issuer first: a wrong code is told
// here, with the tries left, before the person is asked to consent.
async function toConsent() {
	if (busy) return;
	const otp = $("otp").value.replace(/\s/g, "");
	if (!/^[0-9]{6}$/.test(otp)) return setError("otpInvalidFormat", null, "otp");
	if (Date.now() >= state.expiresAt) return setError("otpExpired", null, "otp");
	busy = true;
	$("otp-next").disabled = true;
	const r = await call("/embed/verify", { txn: state.txn, otp });
	busy = false;
	$("otp-next").disabled = false;
	if (r.data && r.data.verified) {
		state.otp = otp;
		state.errorKey = "";
		show("consent");
		return;
	}
	failed(r);
}

async function share() {
	if (busy) return;
	busy = true;
	$("share").disabled = true;
	$("live").textContent = t("sharing");
	const r = await call("/embed/confirm", { txn: state.txn, otp: state.otp, consent: true });
	busy = false;
	$("share").disabled = false;
	if (r.data && r.data.token) {
		send({ type: "kycvs:token", token: r.data.token });
		state.otp = "";
		state.errorKey = "";
		state.doneKey = "doneTitle";
		show("done");
		return;
	}
	failed(r);
}

// failed shows a refused code or transaction on the step that fits it.
function failed(r) {
	const [key, vars] = problemKey(r);
	if (key === "pageExpired") return fatal(key);
	state.otp = "";
	$("otp").value = "";
	if (key === "txnUnknown") {
		state.errorKey = key;
		show("start");
		return;
	}
	if (key === "otpExpired" || key === "noTries") state.expiresAt = Date.now();
	state.errorKey = key;
	state.errorVars = vars;
	show("otp");
	$("otp").setAttribute("aria-invalid", "true");
	$("otp").focus();
}

function cancel() {
	send({ type: "kycvs:cancel" });
	state.errorKey = "";
	state.doneKey = "declinedTitle";
	show("done");
}

$("step-start").addEventListener("submit", (e) => {
	e.preventDefault();
	requestOTP();
});
$("step-otp").addEventListener("submit", (e) => {
	e.preventDefault();
	toConsent();
});
$("resend").addEventListener("click", () => requestOTP());
$("change").addEventListener("click", () => {
	state.errorKey = "";
	show("start");
	$("mobile").focus();
});
$("share").addEventListener("click", share);
$("decline").addEventListener("click", cancel);
for (const b of document.querySelectorAll(".cancel")) b.addEventListener("click", cancel);
$("lang-switch").addEventListener("click", () => {
	lang = lang === "hi" ? "en" : "hi";
	render();
});
$("otp").addEventListener("input", (e) => {
	e.target.value = e.target.value.replace(/[^0-9]/g, "").slice(0, 6);
});
document.addEventListener("keydown", (e) => {
	if (e.key === "Escape" && state.step !== "done" && state.step !== "fatal") cancel();
});

if (cfg.mode !== "popup") document.body.classList.add("framed");
if (cfg.error) {
	fatal(cfg.error);
} else if (!target()) {
	fatal("notEmbedded");
} else {
	show("start");
	$("mobile").focus();
	send({ type: "kycvs:ready" });
}
