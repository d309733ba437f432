// The demo phone: every SMS the issuer would have sent (kycvs serve --demo
// keeps them, and lets the demo client's registered origins read them).
import { settings } from "./config.js";
import { setup } from "./i18n.js";

const { lang, t } = setup({
	en: {
		title: "SMS inbox (kycvs demo)",
		logo: "Demo phone",
		h1: "SMS inbox",
		lead: "With kycvs serve --demo no SMS leaves the machine: the issuer keeps what it would have sent. Newest first.",
		messages: "Messages",
		none: "No messages yet.",
		count: "{n} messages from {issuer}.",
		unreachable: "Cannot read {issuer}/demo/inbox from here. Is the issuer running with --demo, and is this site ({origin}) registered for client “{client}”? The issuer's own inbox page: {issuer}/demo/inbox.html",
	},
	hi: {
		title: "SMS इनबॉक्स (kycvs डेमो)",
		logo: "डेमो फ़ोन",
		h1: "SMS इनबॉक्स",
		lead: "kycvs serve --demo के साथ कोई SMS इस मशीन से बाहर नहीं जाता: जारीकर्ता वह रख लेता है जो वह भेजता। सबसे नए पहले।",
		messages: "संदेश",
		none: "अभी कोई संदेश नहीं।",
		count: "{issuer} से {n} संदेश।",
		unreachable: "{issuer}/demo/inbox यहाँ से नहीं पढ़ा जा सकता। क्या जारीकर्ता --demo के साथ चल रहा है, और क्या यह साइट ({origin}) client “{client}” के लिए पंजीकृत है? जारीकर्ता का अपना इनबॉक्स पेज: {issuer}/demo/inbox.html",
	},
});
const { issuer, clientId } = settings();
const list = document.getElementById("sms");
const state = document.getElementById("inbox-state");

async function poll() {
	try {
		const res = await fetch(`${issuer}/demo/inbox?client_id=${encodeURIComponent(clientId)}`, { cache: "no-store" });
		if (!res.ok) throw new Error(`HTTP ${res.status}`);
		const { messages } = await res.json();
		list.replaceChildren(...(messages || []).map((m) => {
			const li = document.createElement("li");
			const to = document.createElement("span");
			to.className = "to";
			to.textContent = `${m.to} · ${new Date(m.time).toLocaleString(lang === "hi" ? "hi-IN" : "en-IN")}`;
			li.append(to, document.createTextNode(m.text));
			// An SMS is in the language the person chose, not the page's.
			li.lang = /[\u0900-\u097F]/.test(m.text) ? "hi" : "en";
			to.lang = lang;
			return li;
		}));
		const n = list.children.length;
		const text = n ? t("count", { n, issuer }) : t("none");
		if (state.textContent !== text) state.textContent = text;
		state.dataset.state = "ok";
	} catch {
		list.replaceChildren();
		state.textContent = t("unreachable", { issuer, origin: location.origin, client: clientId });
		state.dataset.state = "unreachable";
	}
	setTimeout(poll, 2000);
}
poll();
