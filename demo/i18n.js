// The demo's two languages, English and Hindi, like the issuer's page. The
// language is ?lang=en|hi, else the one chosen with the switch in this
// browser, else the browser's languages (Accept-Language). Static text
// carries data-t="key" (its English text stays in the HTML as a fallback);
// scripts use t(key, {vars}).

const LANG_KEY = "kycvs-demo.lang";

const COMMON = {
	en: {
		switchTo: "हिन्दी",
		switchLabel: "हिन्दी में देखें (view in Hindi)",
		navLabel: "Demo pages",
		navBook: "Book a ticket",
		navInspect: "Token inspector",
		navInbox: "SMS inbox",
		issuerURL: "Issuer URL",
		useIssuer: "Use this issuer",
		issuerAsked: "This link asks to use the issuer {issuer}. This page would run that issuer's script, so it is used only when you press “Use this issuer”.",
		status0: "Not vaccinated",
		status1: "Partially vaccinated",
		status2: "Fully vaccinated",
	},
	hi: {
		switchTo: "English",
		switchLabel: "View in English (अंग्रेज़ी में देखें)",
		navLabel: "डेमो पेज",
		navBook: "टिकट बुक करें",
		navInspect: "टोकन जाँच",
		navInbox: "SMS इनबॉक्स",
		issuerURL: "जारीकर्ता (issuer) URL",
		useIssuer: "यह जारीकर्ता उपयोग करें",
		issuerAsked: "यह लिंक जारीकर्ता {issuer} उपयोग करने को कहता है। यह पेज उस जारीकर्ता की स्क्रिप्ट चलाएगा, इसलिए वह तभी उपयोग होगा जब आप “यह जारीकर्ता उपयोग करें” दबाएँगे।",
		status0: "टीका नहीं लगा",
		status1: "आंशिक रूप से टीका लगा",
		status2: "पूर्ण रूप से टीका लगा",
	},
};

// pickLang returns "en" or "hi".
export function pickLang() {
	const q = new URLSearchParams(location.search).get("lang");
	if (q === "en" || q === "hi") return q;
	try {
		const saved = localStorage.getItem(LANG_KEY);
		if (saved === "en" || saved === "hi") return saved;
	} catch {}
	for (const l of navigator.languages || [navigator.language || "en"]) {
		const base = l.toLowerCase().split("-")[0];
		if (base === "hi") return "hi";
		if (base === "en") return "en";
	}
	return "en";
}

// setup translates the page with COMMON and the page's own texts, wires the
// language switch (#lang-switch), and returns { lang, t }.
export function setup(texts) {
	const lang = pickLang();
	const dict = Object.assign({}, COMMON.en, texts.en, lang === "hi" ? COMMON.hi : {}, lang === "hi" ? texts.hi : {});
	const t = (key, vars = {}) => {
		const v = dict[key] ?? key;
		return typeof v !== "string" ? v : v.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
	};
	document.documentElement.lang = lang;
	if (dict.title) document.title = dict.title;
	for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
	for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
	for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
	const sw = document.getElementById("lang-switch");
	if (sw) {
		const other = lang === "hi" ? "en" : "hi";
		sw.textContent = t("switchTo");
		sw.lang = other;
		sw.setAttribute("aria-label", t("switchLabel"));
		sw.addEventListener("click", () => {
			try {
				localStorage.setItem(LANG_KEY, other);
			} catch {}
			const u = new URL(location.href);
			u.searchParams.set("lang", other);
			location.href = u.href;
		});
	}
	return { lang, t };
}
