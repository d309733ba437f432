import { settings } from "./config.js";

const { issuer } = settings();
const list = document.getElementById("sms");

async function poll() {
	try {
		const res = await fetch(`${issuer}/demo/inbox`, { cache: "no-store" });
		const { messages } = await res.json();
		list.replaceChildren(...(messages || []).map((m) => {
			const li = document.createElement("li");
			const to = document.createElement("span");
			to.className = "to";
			to.textContent = `${m.to} · ${new Date(m.time).toLocaleString()}`;
			li.append(to, document.createTextNode(m.text));
			return li;
		}));
		if (!list.children.length) list.textContent = "No messages yet.";
	} catch {
		list.textContent = `Cannot read ${issuer}/demo/inbox from here (is the issuer running with --demo?).`;
	}
	setTimeout(poll, 2000);
}
poll();
