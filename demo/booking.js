// The booking page: asks for the passenger's vaccination status through the
// issuer's embeddable page (kycvs-embed.js, served by the issuer), verifies
// the token here with verifierjs, and shows what it says.
import { settings, discover, loadVerifierJS, issuerForm } from "./config.js";
import { decodeToken, nameHash, STATUS_WORDS } from "./claims.js";

const $ = (id) => document.getElementById(id);
const { issuer: issuerURL, clientId } = settings();
issuerForm(issuerURL);
$("date").valueAsDate = new Date(Date.now() + 7 * 86400e3);

const MEANING = {
	iss: "the issuer (its base URL)",
	sub: "a pseudonym for this person, the same for this site only",
	aud: "who the answer is for: this site's client id",
	iat: "issued at",
	exp: "expires at",
	jti: "the token's unique id",
	nonce: "this request's random value: the token answers this request only",
	vs: "vaccination status: 0, 1 or 2",
	nmh: "name binding: a hash of the nonce and the name typed, not the name",
};

function progress(text) {
	$("progress").hidden = !text;
	$("progress").textContent = text || "";
}

function showError(code, text) {
	$("result").hidden = true;
	const el = $("result-error");
	el.hidden = false;
	el.dataset.code = code;
	el.textContent = text;
}

// ready: the issuer's metadata, its embed script, and a verifier for its
// keys and this site's client id.
let ready = null;
async function prepare() {
	if (!issuerURL) throw new Error("No issuer: give one below (or open this page from kycvs serve --demo at /demo/).");
	const meta = await discover(issuerURL);
	const [embed, vjs] = await Promise.all([import(`${issuerURL}/embed/kycvs-embed.js`), loadVerifierJS()]);
	const jwks = await (await fetch(meta.jwks_uri)).json();
	const verifier = await vjs.createVerifier({ jwks, issuer: meta.issuer, audience: clientId });
	return { meta, embed, verifier };
}

async function check(e) {
	e.preventDefault();
	const passenger = $("passenger").value.trim();
	if (!passenger) {
		$("passenger").focus();
		return showError("input", "Enter the passenger's name.");
	}
	$("result-error").hidden = true;
	$("result").hidden = true;
	$("check").disabled = true;
	progress("Waiting for the passenger to share their status…");
	try {
		ready = ready || (await prepare());
		const { meta, embed, verifier } = ready;
		const { token, nonce, result } = await embed.requestStatus({ issuer: meta.issuer, clientId, name: passenger, verifier });
		window.kycvsLastToken = token;
		await show({ meta, token, nonce, result, passenger });
	} catch (err) {
		ready = err && err.code && String(err.code).startsWith("ERR_") ? null : ready;
		const code = (err && err.code) || "error";
		const words = { cancelled: "The passenger chose not to share their status.", closed: "The window was closed before the status was shared.", timeout: "No answer in time." };
		showError(code, words[code] || `${err && err.message}${code.startsWith("ERR_") ? ` (${code})` : ""}`);
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
	$("status-words").textContent = STATUS_WORDS[status];
	$("booking-decision").textContent = status === 2
		? "Booking confirmed: fully vaccinated passengers may travel."
		: "Booking on hold: this demo's rule lets only fully vaccinated passengers travel.";
	$("r-passenger").textContent = passenger;
	$("r-journey").textContent = `${$("from").value} → ${$("to").value}, ${$("date").value}, ${$("train").value}`;
	$("r-issuer").textContent = meta.issuer;
	const exp = new Date(result.exp * 1000);
	$("r-expires").textContent = `${exp.toLocaleString()} (in ${Math.round((result.exp * 1000 - Date.now()) / 60000)} min)`;
	const want = await nameHash(nonce, passenger);
	$("r-name").textContent = !result.nmh ? "No name binding in this token."
		: !want ? "Cannot compute here (WebCrypto needs https)."
		: want === result.nmh ? "Matches the passenger name on this booking."
		: "Does not match the passenger name on this booking: the person typed another name.";
	const body = $("claims");
	body.replaceChildren();
	for (const [k, v] of Object.entries(payload)) {
		const tr = document.createElement("tr");
		let shown = String(v);
		if (k === "iat" || k === "exp") shown = `${v} (${new Date(v * 1000).toISOString()})`;
		if (k === "vs") shown = `${v} (${STATUS_WORDS[v]})`;
		for (const text of [k, shown, MEANING[k] || ""]) {
			const td = document.createElement("td");
			td.textContent = text;
			tr.append(td);
		}
		body.append(tr);
	}
	const link = new URL("inspect.html", location.href);
	link.hash = new URLSearchParams({ token, issuer: meta.issuer, audience: clientId, nonce }).toString();
	$("inspect-link").href = link.href;
	res.hidden = false;
	res.focus();
}

$("booking").addEventListener("submit", check);

// The demo phone: the issuer's inbox, when it is reachable from here.
async function pollInbox() {
	try {
		const res = await fetch(`${issuerURL}/demo/inbox`, { cache: "no-store" });
		if (!res.ok) throw new Error();
		const { messages } = await res.json();
		const list = $("sms");
		list.replaceChildren();
		for (const m of (messages || []).slice(0, 6)) {
			const li = document.createElement("li");
			const to = document.createElement("span");
			to.className = "to";
			to.textContent = `${m.to} · ${new Date(m.time).toLocaleTimeString()}`;
			const text = document.createElement("span");
			text.textContent = m.text;
			li.append(to, text);
			list.append(li);
		}
		if (!list.children.length) {
			const li = document.createElement("li");
			li.className = "hint";
			li.textContent = "No messages yet.";
			list.append(li);
		}
		setTimeout(pollInbox, 1500);
	} catch {
		const li = document.createElement("li");
		li.className = "hint";
		li.textContent = "The inbox is not reachable from this origin: open it on the issuer (/demo/inbox).";
		$("sms").replaceChildren(li);
	}
}
if (issuerURL) pollInbox();
