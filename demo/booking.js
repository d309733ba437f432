// The booking page: asks for the passenger's vaccination status through the
// issuer's embeddable page (kycvs-embed.js, served by the issuer), verifies
// the token here with verifierjs, and shows what it says. When the issuer's
// page cannot open here, it says why and how to fix it.
import { settings, discover, loadVerifierJS, issuerForm } from "./config.js";
import { decodeToken, nameHash } from "./claims.js";
import { setup } from "./i18n.js";

const TEXTS = {
	en: {
		title: "Demo Railways — book a ticket (kycvs demo)",
		logo: "Demo Railways",
		h1: "Book a ticket",
		lead: "Travel needs your COVID-19 vaccination status. We ask the issuer for it with your consent and check the signed answer here, in your browser: we learn 0, 1 or 2, and nothing else.",
		passenger: "Passenger name",
		from: "From",
		to: "To",
		date: "Date",
		train: "Train",
		check: "Check vaccination status",
		checkHint: "Opens the issuer's page. You type your mobile number there; this site never sees it.",
		rPassenger: "Passenger",
		rJourney: "Journey",
		rIssuer: "Issued by",
		rExpires: "Expires",
		rName: "Name typed at the issuer",
		rVerified: "Verified",
		rVerifiedText: "Also here, in this browser, by verifierjs (the kycvs Go core in WebAssembly), for your feedback only: signature, issuer, audience, expiry and this booking's nonce.",
		claimsSummary: "Decoded claims",
		claim: "Claim",
		value: "Value",
		meaning: "Meaning",
		inspectLink: "Open this token in the inspector",
		peopleTitle: "Demo people",
		name: "Name",
		mobile: "Mobile",
		status: "Status",
		peopleHint: "Any other name or number gets status 0: the issuer never reveals which numbers are registered.",
		phoneTitle: "Demo phone: newest SMS",
		allSMS: "All messages in the SMS inbox",
		clientLine: "Verifying entity (client id): {client}. Another: add ?client_id=… to the address.",
		noSMS: "No messages yet.",
		inboxUnreachable: "The SMS inbox of {issuer} cannot be read from here. Open the inbox page on the issuer: {issuer}/demo/inbox.html",
		enterName: "Enter the passenger's name.",
		waiting: "Waiting for the passenger to share their status…",
		serverAsking: "Asking Demo Railways' server to book…",
		confirmed: "Booked by Demo Railways' server (booking {id}): it verified the token itself, and fully vaccinated passengers may travel.",
		onHold: "The server did not book it: this journey needs a fully vaccinated passenger (status 2), and the token says {status}.",
		serverRefused: "The server refused the booking: {detail} ({code}).",
		serverDown: "The booking server cannot be reached: {message}",
		rDecided: "Decided by",
		rDecidedText: "Demo Railways' server, behind the kycvs gate (the same code as the edge worker): it verifies the token again, checks the nonce it gave this booking, and accepts a token once. This page's own check cannot stop anyone who edits the page; the server's can.",
		cheatTitle: "Try to cheat",
		cheatHint: "Each button sends this token the way a cheat would. The server must refuse each one.",
		cheatReplay: "Send the same token again",
		cheatTamper: "Send it with one character changed",
		cheatNonce: "Use it for another booking",
		cheatAnswer: "{what} → {status} {code}",
		inMin: "in {n} min",
		nameNone: "No name binding in this token.",
		nameNoCrypto: "Cannot compute here (WebCrypto needs https).",
		nameSame: "Same as the passenger name on this booking. (This checks what was typed, not the registry: the status above is the registry's answer for that number and name.)",
		nameOther: "Not the passenger name on this booking: the person typed another name.",
		cancelled: "The passenger chose not to share their status.",
		closed: "The window was closed before the status was shared.",
		timeout: "No answer in time.",
		whatHappened: "What happened",
		howToFix: "How to fix it",
		code: "Code: {code}",
		ERR_ORIGIN: "The issuer's page refused to open here: this site, {origin}, is not registered for the verifying entity “{client}” at {issuer}.",
		ERR_ORIGIN_fix: "Open the demo from a registered origin (with ./build.sh run: {issuer}/demo/), or register this one as a new entity and open this page with its client id: kycvs client add --data .data --id my-site --name \"My site\" --origin {origin}, then add ?client_id=my-site to the address.",
		ERR_CLIENT_UNKNOWN: "The issuer {issuer} has no verifying entity “{client}”, so its page cannot open for this site ({origin}).",
		ERR_CLIENT_UNKNOWN_fix: "Check client_id in this page's address, or register it: kycvs client add --data .data --id {client} --name \"My site\" --origin {origin}.",
		ERR_UNAVAILABLE: "The issuer {issuer} cannot be reached from this page ({origin}), so nothing was asked.",
		ERR_UNAVAILABLE_fix: "Start it (./build.sh run; KYCVS_ADDR=host:port moves it), or give its URL in the box below.",
		ERR_CONFIG: "No issuer is set for this page.",
		ERR_CONFIG_fix: "Give the issuer's URL in the box below, or open this page from kycvs serve --demo at /demo/.",
		verifyFailed: "The token did not verify: {message} ({code}).",
		mIss: "the issuer (its base URL)",
		mSub: "a pseudonym for this person, the same for this site only",
		mAud: "who the answer is for: this site's client id",
		mIat: "issued at",
		mExp: "expires at",
		mJti: "the token's unique id",
		mNonce: "this request's random value: the token answers this request only",
		mVs: "vaccination status: 0, 1 or 2",
		mNmh: "name binding: a hash of the nonce and the name typed, not the name",
	},
	hi: {
		title: "डेमो रेलवे — टिकट बुक करें (kycvs डेमो)",
		logo: "डेमो रेलवे",
		h1: "टिकट बुक करें",
		lead: "यात्रा के लिए आपकी COVID-19 टीकाकरण स्थिति चाहिए। हम आपकी सहमति से जारीकर्ता से पूछते हैं और हस्ताक्षरित उत्तर यहीं, आपके ब्राउज़र में जाँचते हैं: हमें केवल 0, 1 या 2 पता चलता है, और कुछ नहीं।",
		passenger: "यात्री का नाम",
		from: "कहाँ से",
		to: "कहाँ तक",
		date: "तारीख",
		train: "ट्रेन",
		check: "टीकाकरण स्थिति जाँचें",
		checkHint: "जारीकर्ता का पेज खुलता है। मोबाइल नंबर आप वहीं लिखते हैं; यह साइट उसे कभी नहीं देखती।",
		rPassenger: "यात्री",
		rJourney: "यात्रा",
		rIssuer: "जारीकर्ता",
		rExpires: "समाप्ति",
		rName: "जारीकर्ता के पेज पर लिखा नाम",
		rVerified: "जाँचा गया",
		rVerifiedText: "यहाँ, इस ब्राउज़र में भी, verifierjs (WebAssembly में kycvs का Go कोर) द्वारा, केवल आपकी जानकारी के लिए: हस्ताक्षर, जारीकर्ता, ऑडियंस, समाप्ति और इस बुकिंग का nonce।",
		claimsSummary: "टोकन के दावे (claims)",
		claim: "दावा",
		value: "मान",
		meaning: "अर्थ",
		inspectLink: "यह टोकन जाँच पेज में खोलें",
		peopleTitle: "डेमो लोग",
		name: "नाम",
		mobile: "मोबाइल",
		status: "स्थिति",
		peopleHint: "कोई और नाम या नंबर स्थिति 0 पाता है: जारीकर्ता कभी नहीं बताता कि कौन से नंबर पंजीकृत हैं।",
		phoneTitle: "डेमो फ़ोन: नए SMS",
		allSMS: "SMS इनबॉक्स में सभी संदेश",
		clientLine: "सत्यापन करने वाली संस्था (client id): {client}। कोई और: पते में ?client_id=… जोड़ें।",
		noSMS: "अभी कोई संदेश नहीं।",
		inboxUnreachable: "{issuer} का SMS इनबॉक्स यहाँ से नहीं पढ़ा जा सकता। जारीकर्ता पर इनबॉक्स पेज खोलें: {issuer}/demo/inbox.html",
		enterName: "यात्री का नाम दर्ज करें।",
		waiting: "यात्री द्वारा स्थिति साझा करने की प्रतीक्षा…",
		serverAsking: "डेमो रेलवे के सर्वर से बुकिंग कराई जा रही है…",
		confirmed: "डेमो रेलवे के सर्वर ने बुक किया (बुकिंग {id}): उसने टोकन स्वयं जाँचा, और पूर्ण रूप से टीका लगे यात्री यात्रा कर सकते हैं।",
		onHold: "सर्वर ने बुक नहीं किया: इस यात्रा के लिए पूर्ण रूप से टीका लगा यात्री (स्थिति 2) चाहिए, और टोकन {status} बताता है।",
		serverRefused: "सर्वर ने बुकिंग अस्वीकार की: {detail} ({code})।",
		serverDown: "बुकिंग सर्वर तक नहीं पहुँचा जा सका: {message}",
		rDecided: "निर्णय किसने लिया",
		rDecidedText: "डेमो रेलवे का सर्वर, kycvs गेट के पीछे (एज वर्कर जैसा ही कोड): वह टोकन फिर से जाँचता है, इस बुकिंग को दिया गया nonce मिलाता है, और एक टोकन एक ही बार मानता है। इस पेज की अपनी जाँच पेज बदलने वाले को नहीं रोक सकती; सर्वर की जाँच रोकती है।",
		cheatTitle: "धोखा देकर देखें",
		cheatHint: "हर बटन यह टोकन वैसे भेजता है जैसे कोई धोखेबाज़ भेजता। सर्वर को हर एक को अस्वीकार करना चाहिए।",
		cheatReplay: "वही टोकन फिर भेजें",
		cheatTamper: "एक अक्षर बदलकर भेजें",
		cheatNonce: "किसी दूसरी बुकिंग के लिए उपयोग करें",
		cheatAnswer: "{what} → {status} {code}",
		inMin: "{n} मिनट में",
		nameNone: "इस टोकन में नाम की जाँच नहीं है।",
		nameNoCrypto: "यहाँ गणना नहीं हो सकती (WebCrypto के लिए https चाहिए)।",
		nameSame: "इस बुकिंग के यात्री के नाम जैसा ही। (यह लिखे गए नाम की जाँच है, रजिस्ट्री की नहीं: ऊपर की स्थिति उस नंबर और नाम के लिए रजिस्ट्री का उत्तर है।)",
		nameOther: "इस बुकिंग के यात्री का नाम नहीं: व्यक्ति ने कोई और नाम लिखा।",
		cancelled: "यात्री ने अपनी स्थिति साझा न करना चुना।",
		closed: "स्थिति साझा होने से पहले विंडो बंद कर दी गई।",
		timeout: "समय पर कोई उत्तर नहीं मिला।",
		whatHappened: "क्या हुआ",
		howToFix: "कैसे ठीक करें",
		code: "कोड: {code}",
		ERR_ORIGIN: "जारीकर्ता का पेज यहाँ नहीं खुला: यह साइट, {origin}, {issuer} पर संस्था “{client}” के लिए पंजीकृत नहीं है।",
		ERR_ORIGIN_fix: "डेमो किसी पंजीकृत origin से खोलें (./build.sh run के साथ: {issuer}/demo/), या इसे नई संस्था के रूप में पंजीकृत करें और उसकी client id से यह पेज खोलें: kycvs client add --data .data --id my-site --name \"My site\" --origin {origin}, फिर पते में ?client_id=my-site जोड़ें।",
		ERR_CLIENT_UNKNOWN: "जारीकर्ता {issuer} के पास कोई संस्था “{client}” नहीं है, इसलिए उसका पेज इस साइट ({origin}) के लिए नहीं खुल सकता।",
		ERR_CLIENT_UNKNOWN_fix: "इस पेज के पते में client_id जाँचें, या उसे पंजीकृत करें: kycvs client add --data .data --id {client} --name \"My site\" --origin {origin}।",
		ERR_UNAVAILABLE: "जारीकर्ता {issuer} तक इस पेज ({origin}) से नहीं पहुँचा जा सका, इसलिए कुछ नहीं पूछा गया।",
		ERR_UNAVAILABLE_fix: "उसे चालू करें (./build.sh run; KYCVS_ADDR=host:port से पता बदलता है), या नीचे के बॉक्स में उसका URL दें।",
		ERR_CONFIG: "इस पेज के लिए कोई जारीकर्ता तय नहीं है।",
		ERR_CONFIG_fix: "नीचे के बॉक्स में जारीकर्ता का URL दें, या यह पेज kycvs serve --demo से /demo/ पर खोलें।",
		verifyFailed: "टोकन की जाँच सफल नहीं हुई: {message} ({code})।",
		mIss: "जारीकर्ता (उसका मूल URL)",
		mSub: "इस व्यक्ति का एक छद्म नाम, केवल इस साइट के लिए एक जैसा",
		mAud: "उत्तर किसके लिए है: इस साइट की client id",
		mIat: "जारी होने का समय",
		mExp: "समाप्ति का समय",
		mJti: "टोकन की अनोखी id",
		mNonce: "इस अनुरोध का यादृच्छिक मान: टोकन केवल इसी अनुरोध का उत्तर है",
		mVs: "टीकाकरण स्थिति: 0, 1 या 2",
		mNmh: "नाम की जाँच: nonce और लिखे गए नाम का हैश, नाम नहीं",
	},
};

const { lang, t } = setup(TEXTS);
const $ = (id) => document.getElementById(id);
const config = settings();
const { issuer: issuerURL, clientId } = config;
issuerForm(config, t("issuerAsked", { issuer: config.askedIssuer }));
$("client-line").textContent = t("clientLine", { client: clientId });
$("date").valueAsDate = new Date(Date.now() + 7 * 86400e3);

const MEANING = { iss: "mIss", sub: "mSub", aud: "mAud", iat: "mIat", exp: "mExp", jti: "mJti", nonce: "mNonce", vs: "mVs", nmh: "mNmh" };
const statusWords = (s) => t(`status${s}`);

function progress(text) {
	$("progress").hidden = !text;
	$("progress").textContent = text || "";
}

// showError says what happened and, when there is one, how to fix it.
function showError(code, what, fix) {
	$("result").hidden = true;
	const el = $("result-error");
	el.dataset.code = code;
	const parts = [];
	const para = (cls, text) => {
		const p = document.createElement("p");
		p.className = cls;
		p.textContent = text;
		return p;
	};
	if (fix) {
		const h = (text) => Object.assign(document.createElement("h2"), { textContent: text });
		parts.push(h(t("whatHappened")), para("what", what), h(t("howToFix")), para("fix", fix));
	} else {
		parts.push(para("what", what));
	}
	parts.push(para("code", t("code", { code })));
	el.replaceChildren(...parts);
	el.hidden = false;
}

const EXPLAINED = new Set(["ERR_ORIGIN", "ERR_CLIENT_UNKNOWN", "ERR_UNAVAILABLE", "ERR_CONFIG"]);

// explain shows err: a refusal with its cause and fix, naming this page's
// origin, the client id and the issuer.
function explain(err) {
	const code = (err && err.code) || "error";
	const vars = { origin: location.origin, client: clientId, issuer: issuerURL || "?" };
	if (EXPLAINED.has(code)) return showError(code, t(code, vars), t(`${code}_fix`, vars));
	if (["cancelled", "closed", "timeout"].includes(code)) return showError(code, t(code));
	showError(code, code.startsWith("ERR_") ? t("verifyFailed", { message: err.message, code }) : String(err && err.message));
}

class DemoError extends Error {
	constructor(code, message, options) {
		super(message, options);
		this.code = code;
	}
}

// ready: the issuer's metadata, its embed script, and a verifier for its
// keys and this site's client id.
let ready = null;
async function prepare() {
	if (!issuerURL) throw new DemoError("ERR_CONFIG", "no issuer");
	let meta, embed;
	try {
		meta = await discover(issuerURL);
		embed = await import(`${issuerURL}/embed/kycvs-embed.js`);
	} catch (err) {
		throw new DemoError("ERR_UNAVAILABLE", `cannot reach ${issuerURL}`, { cause: err });
	}
	const vjs = await loadVerifierJS();
	const jwks = await (await fetch(meta.jwks_uri)).json();
	const verifier = await vjs.createVerifier({ jwks, issuer: meta.issuer, audience: clientId });
	return { meta, embed, verifier };
}

async function check(e) {
	e.preventDefault();
	const passenger = $("passenger").value.trim();
	if (!passenger) {
		$("passenger").focus();
		return showError("input", t("enterName"));
	}
	$("result-error").hidden = true;
	$("result").hidden = true;
	$("check").disabled = true;
	progress(t("waiting"));
	try {
		ready = ready || (await prepare());
		const { meta, embed, verifier } = ready;
		// The server starts the booking and gives its nonce: the token will
		// answer this booking only. If the booking server cannot be reached,
		// the issuer's page still opens (and explains a refused origin); the
		// booking is then refused for want of a server.
		const booking = await bookings.start().catch((err) => ({ error: err }));
		const { token, nonce, result } = await embed.requestStatus({ issuer: meta.issuer, clientId, name: passenger, verifier, lang, nonce: booking.nonce });
		window.kycvsLastToken = token;
		await show({ meta, token, nonce, result, passenger });
		await decide(booking, token, passenger);
	} catch (err) {
		ready = null;
		explain(err);
	} finally {
		progress("");
		$("check").disabled = false;
	}
}

async function show({ meta, token, nonce, result, passenger }) {
	const { payload } = decodeToken(token);
	const status = result.status;
	const res = $("result");
	res.dataset.status = String(status);
	$("status-badge").textContent = String(status);
	$("status-badge").className = `badge s${status}`;
	$("status-words").textContent = statusWords(status);
	$("booking-decision").textContent = t("serverAsking");
	$("booking-decision").dataset.server = "asking";
	$("cheat").hidden = true;
	$("cheat-log").replaceChildren();
	$("r-passenger").textContent = passenger;
	$("r-journey").textContent = `${$("from").value} → ${$("to").value}, ${$("date").value}, ${$("train").value}`;
	$("r-issuer").textContent = meta.issuer;
	const exp = new Date(result.exp * 1000);
	const locale = lang === "hi" ? "hi-IN" : "en-IN";
	$("r-expires").textContent = `${exp.toLocaleString(locale)} (${t("inMin", { n: Math.round((result.exp * 1000 - Date.now()) / 60000) })})`;
	const want = await nameHash(nonce, passenger);
	const r = $("r-name");
	r.dataset.check = !result.nmh ? "none" : !want ? "unknown" : want === result.nmh ? "same" : "other";
	r.textContent = t({ none: "nameNone", unknown: "nameNoCrypto", same: "nameSame", other: "nameOther" }[r.dataset.check]);
	const body = $("claims");
	body.replaceChildren();
	for (const [k, v] of Object.entries(payload)) {
		const tr = document.createElement("tr");
		let shown = String(v);
		if (k === "iat" || k === "exp") shown = `${v} (${new Date(v * 1000).toISOString()})`;
		if (k === "vs") shown = `${v} (${statusWords(v)})`;
		[k, shown, MEANING[k] ? t(MEANING[k]) : ""].forEach((text, i) => {
			const td = document.createElement(i === 0 ? "th" : "td");
			if (i === 0) td.scope = "row";
			td.textContent = text;
			tr.append(td);
		});
		body.append(tr);
	}
	const link = new URL("inspect.html", location.href);
	link.hash = new URLSearchParams({ token, issuer: meta.issuer, audience: clientId, nonce }).toString();
	$("inspect-link").href = link.href;
	res.hidden = false;
	res.focus();
}

// The demo's booking API (kycvs serve --demo): what Demo Railways' own
// server runs, behind the kycvs gate. It starts a booking (and its nonce),
// then books it only for a token it verifies itself.
const bookings = {
	base: () => `${issuerURL}/demo/api/${encodeURIComponent(clientId)}/bookings`,
	async start() {
		let res;
		try {
			res = await fetch(this.base(), { method: "POST" });
		} catch (err) {
			throw new DemoError("ERR_UNAVAILABLE", `cannot reach ${issuerURL}`, { cause: err });
		}
		if (!res.ok) throw new DemoError((await problem(res)).code, `the booking server answered ${res.status}`);
		return res.json();
	},
	// book sends the token as the gate expects it; the answer is
	// {status: HTTP status, body}.
	async book(id, token, passenger) {
		const res = await fetch(`${this.base()}/${encodeURIComponent(id)}`, {
			method: "POST",
			headers: { Authorization: `KYCVS ${token}`, "Content-Type": "application/json" },
			body: JSON.stringify({ passenger, journey: `${$("from").value} → ${$("to").value}, ${$("date").value}, ${$("train").value}` }),
		});
		return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? await res.json() : {} };
	},
};

async function problem(res) {
	try {
		return await res.json();
	} catch {
		return { code: `HTTP ${res.status}` };
	}
}

// decide asks the server to book, and says what it answered: the server's
// word is the booking, not this page's check.
async function decide(booking, token, passenger) {
	const el = $("booking-decision");
	let answer;
	try {
		if (booking.error) throw booking.error;
		answer = await bookings.book(booking.id, token, passenger);
	} catch (err) {
		el.dataset.server = "down";
		el.textContent = t("serverDown", { message: err.message });
		return;
	}
	const { status, body } = answer;
	el.dataset.server = status === 201 ? "accepted" : "refused";
	el.dataset.code = status === 201 ? "" : body.code || "";
	if (status === 201) el.textContent = t("confirmed", { id: body.booking.id });
	else if (body.code === "ERR_STATUS") el.textContent = t("onHold", { status: body.vaccination_status });
	else el.textContent = t("serverRefused", { detail: body.detail || "", code: body.code || status });
	cheats = { booking, token, passenger };
	$("cheat").hidden = false;
}

// The "try to cheat" buttons: what someone who edits this page could send.
let cheats = null;
const CHEATS = {
	"cheat-replay": async ({ booking, token, passenger }) => bookings.book(booking.id, token, passenger),
	"cheat-tamper": async ({ booking, token, passenger }) => {
		const i = token.lastIndexOf(".") + 1;
		return bookings.book(booking.id, token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1), passenger);
	},
	"cheat-nonce": async ({ token, passenger }) => bookings.book((await bookings.start()).id, token, passenger),
};
for (const [id, send] of Object.entries(CHEATS)) {
	$(id).addEventListener("click", async () => {
		if (!cheats) return;
		const { status, body } = await send(cheats).catch((err) => ({ status: "—", body: { code: err.message } }));
		const li = document.createElement("li");
		li.dataset.cheat = id;
		li.dataset.status = String(status);
		li.dataset.code = body.code || "";
		li.textContent = t("cheatAnswer", { what: $(id).textContent, status, code: body.code || "" });
		$("cheat-log").append(li);
	});
}

$("booking").addEventListener("submit", check);

// The demo phone: the newest messages of the issuer's inbox (kycvs serve
// --demo lets the demo client's registered origins read it).
async function pollInbox() {
	try {
		const res = await fetch(`${issuerURL}/demo/inbox?client_id=${encodeURIComponent(clientId)}`, { cache: "no-store" });
		if (!res.ok) throw new Error();
		const { messages } = await res.json();
		const list = $("sms");
		list.replaceChildren();
		for (const m of (messages || []).slice(0, 2)) {
			const li = document.createElement("li");
			const to = document.createElement("span");
			to.className = "to";
			to.textContent = `${m.to} · ${new Date(m.time).toLocaleTimeString(lang === "hi" ? "hi-IN" : "en-IN")}`;
			const text = document.createElement("span");
			text.textContent = m.text;
			li.append(to, text);
			list.append(li);
		}
		if (!list.children.length) {
			const li = document.createElement("li");
			li.className = "hint";
			li.textContent = t("noSMS");
			list.append(li);
		}
		setTimeout(pollInbox, 1500);
	} catch {
		const li = document.createElement("li");
		li.className = "hint";
		li.textContent = t("inboxUnreachable", { issuer: issuerURL });
		$("sms").replaceChildren(li);
		$("inbox-link").href = `${issuerURL}/demo/inbox.html`;
	}
}
if (issuerURL) pollInbox();
