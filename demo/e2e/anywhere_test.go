package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The demo anywhere: refusals explained in the page, the static site that
// ./build.sh static writes served from a second origin by a plain static
// file server, and Hindi.

// refusal opens the booking page at url, asks for status and waits for the
// explained refusal; it returns its code and text.
func (b *browser) refusal(url string) (code, text string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	u, err := neturl.Parse(url)
	if err != nil {
		b.t.Fatal(err)
	}
	if issuer := u.Query().Get("issuer"); issuer != "" {
		b.chooseIssuer(issuer)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS("#passenger")),
		chromedp.SendKeys(chromedp.CSS("#passenger"), "Asha Devi"),
		chromedp.Click(chromedp.CSS("#check")),
		chromedp.WaitVisible(chromedp.CSS("#result-error")))
	code = get(b, chromedp.AttributeValue(chromedp.CSS("#result-error"), "data-code")).Value
	text = get(b, chromedp.Text(chromedp.CSS("#result-error")))
	if get(b, chromedp.Evaluate[bool](`!!document.querySelector("dialog.kycvs-dialog")`)) {
		b.t.Fatalf("the dialog stays open after the refusal %s", code)
	}
	return code, text
}

// crossOriginFrame waits until the embedded page, on another origin than the
// page (so out of reach of scripts), shows sel, and returns the frame node.
func (b *browser) crossOriginFrame(sel string) *chromedp.Node {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if get(b, chromedp.Evaluate[bool](`!!document.querySelector("`+frameSel+`")`)) {
			f := b.frame()
			ctx, cancel := context.WithTimeout(b.ctx, 500*time.Millisecond)
			err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel), chromedp.FromNode(f)))
			cancel()
			if err == nil {
				return f
			}
		}
		if time.Now().After(deadline) {
			b.shot("failed-embedded-page")
			b.t.Fatalf("the embedded page did not show %s; the page says: %s", sel, get(b, chromedp.Evaluate[string](`(() => {
				const f = document.querySelector("`+frameSel+`"), e = document.getElementById("result-error");
				return "frame " + (f ? f.src : "none") + "; error " + (e && !e.hidden ? e.textContent : "none"); })()`)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// crossOriginFlow completes the flow for p in the embedded page that the
// page has opened on another origin (out of reach of the page's scripts).
func (b *browser) crossOriginFlow(issuer string, p person) {
	b.t.Helper()
	f := b.crossOriginFrame("#mobile")
	before := len(otps(b.t, issuer, p.mobile))
	b.do(chromedp.SendKeys(chromedp.CSS("#mobile"), p.mobile+"\r", chromedp.FromNode(f)),
		chromedp.WaitVisible(chromedp.CSS("#otp"), chromedp.FromNode(f)))
	otp := newOTP(b.t, issuer, p.mobile, before)
	b.do(chromedp.SendKeys(chromedp.CSS("#otp"), otp+"\r", chromedp.FromNode(f)),
		chromedp.WaitVisible(chromedp.CSS("#share"), chromedp.FromNode(f)))
	b.do(chromedp.Click(chromedp.CSS("#share"), chromedp.FromNode(f)))
	b.result(p, "")
}

// chooseIssuer: the page was opened by a link with ?issuer=; the issuer is
// not used (its script would run in the page) until the person presses
// "Use this issuer".
func (b *browser) chooseIssuer(issuer string) {
	b.t.Helper()
	b.waitJS("the issuer box", `document.getElementById("issuer-url").value !== ""`, 10*time.Second)
	if get(b, chromedp.Evaluate[bool](`document.getElementById("issuer-note").hidden && document.getElementById("issuer-url").value === "`+issuer+`"`)) {
		return // chosen before, in this browser
	}
	note := get(b, chromedp.Text(chromedp.CSS("#issuer-note")))
	if !strings.Contains(note, issuer) {
		b.t.Fatalf("the note does not name the link's issuer %s: %q", issuer, note)
	}
	b.do(chromedp.Click(chromedp.CSS(`#issuer-form button[type="submit"]`)))
	b.waitJS("the chosen issuer", `!new URLSearchParams(location.search).has("issuer") && document.getElementById("issuer-url").value === "`+issuer+`" && document.getElementById("issuer-note").hidden`, 10*time.Second)
}

func wantAll(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

// testRefusals: an origin the client did not register, a client id the
// issuer does not know, an issuer that is down. Each is said in the page at
// once (the embed script asks /embed/check while the page opens), with the
// origin, the client id and the fix; the issuer logs the refused origin once.
func testRefusals(t *testing.T, b *browser, iss *issuerProc, demo string) {
	other := httptest.NewServer(http.FileServer(http.Dir(demo)))
	defer other.Close()

	code, text := b.refusal(other.URL + "/index.html?client_id=demo&issuer=" + iss.url)
	if code != "ERR_ORIGIN" {
		t.Fatalf("unregistered origin: code %q:\n%s", code, text)
	}
	wantAll(t, "the unregistered-origin message", text, other.URL, "“demo”", "kycvs client add", "--origin "+other.URL, "How to fix it")
	if get(b, chromedp.Evaluate[bool](`window.kycvsLastToken !== undefined || !document.getElementById("result").hidden`)) {
		t.Fatal("a page on an unregistered origin got a token")
	}
	b.axe("the unregistered-origin message")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#result-error")))
	b.shot("refused-origin-explained")
	b.refusal(other.URL + "/index.html?client_id=demo&issuer=" + iss.url) // again: still logged once
	if n := strings.Count(iss.logs(), `"origin":"`+other.URL+`"`); n != 1 {
		t.Fatalf("the refused origin %s is logged %d times, want once:\n%s", other.URL, n, iss.logs())
	}

	code, text = b.refusal(iss.url + "/demo/index.html?client_id=no-such-client")
	if code != "ERR_CLIENT_UNKNOWN" {
		t.Fatalf("unknown client: code %q:\n%s", code, text)
	}
	wantAll(t, "the unknown-client message", text, "“no-such-client”", iss.url, "kycvs client add")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#result-error")))
	b.shot("refused-unknown-client")

	down := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	code, text = b.refusal(other.URL + "/index.html?client_id=demo&issuer=" + down)
	if code != "ERR_UNAVAILABLE" {
		t.Fatalf("issuer down: code %q:\n%s", code, text)
	}
	wantAll(t, "the issuer-down message", text, down, other.URL, "./build.sh run")
	b.axe("the issuer-down message")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#result-error")))
	b.shot("refused-issuer-down")

	// The issuer refuses the page itself too, whatever the browser does: a
	// 403 page whose CSP lets only the registered origins frame it.
	res, err := http.Get(iss.url + "/embed?client_id=demo&nonce=abcdefgh12&origin=" + other.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 403 || !strings.Contains(csp, "frame-ancestors "+iss.url) {
		t.Fatalf("embed for an unregistered origin: %d, CSP %q", res.StatusCode, csp)
	}
	// The demo inbox is readable cross-origin only by a registered origin.
	if acao := inboxCORS(t, iss.url, "demo", other.URL); acao != "" {
		t.Fatalf("the inbox grants an unregistered origin: %q", acao)
	}
	// A link that names another issuer does not make the page run that
	// issuer's script: the page keeps its issuer until the person chooses.
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `window.pwned = true; export function requestStatus() { window.pwned = true; }`)
	}))
	defer evil.Close()
	b.do(chromedp.Navigate(iss.url+"/demo/index.html?client_id=demo&issuer="+evil.URL),
		chromedp.WaitVisible(chromedp.CSS("#passenger")))
	b.waitJS("the note about the link's issuer", `!document.getElementById("issuer-note").hidden`, 10*time.Second)
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#issuer-form")))
	b.axe("the note about a link's issuer")
	b.shot("link-issuer-not-used")
	b.do(chromedp.SendKeys(chromedp.CSS("#passenger"), "Asha Devi"), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS("the embedded page", `!!document.querySelector("`+frameSel+`")`, 20*time.Second)
	if src := get(b, chromedp.AttributeValue(chromedp.CSS(frameSel), "src")).Value; !strings.HasPrefix(src, iss.url+"/embed?") {
		t.Fatalf("the page opened %s, not its own issuer's page", src)
	}
	b.do(chromedp.Click(chromedp.CSS("dialog.kycvs-dialog > button")), chromedp.WaitVisible(chromedp.CSS("#result-error")))
	if n := evilHits.Load(); n != 0 || get(b, chromedp.Evaluate[bool](`window.pwned === true`)) {
		t.Fatalf("a link's issuer was used without the person choosing it: %d requests to it", n)
	}

	// Back on the registered origin, with the demo client.
	b.do(chromedp.Navigate(iss.url + "/demo/index.html?client_id=demo"))
}

func inboxCORS(t *testing.T, issuer, client, origin string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", issuer+"/demo/inbox?client_id="+client, nil)
	req.Header.Set("Origin", origin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Access-Control-Allow-Origin")
}

// testStaticHost: ./build.sh static writes the site; a plain static file
// server serves it on a second origin, which kycvs client add registers for
// a new client; the flow completes there, the issuer and the client id
// survive navigation, and the inbox page reads the inbox cross-origin.
func testStaticHost(t *testing.T, b *browser, iss *issuerProc) {
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "site")
	const client = "static-demo"
	cmd := exec.Command("./build.sh", "static", dir, "--issuer", iss.url, "--client-id", client)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("./build.sh static: %v\n%s", err, out)
	}
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	run(t, root, nil, iss.bin, "client", "add", "--data", iss.data, "--id", client, "--name", "Demo Railways (static)", "--origin", site.URL)
	if acao := inboxCORS(t, iss.url, client, site.URL); acao != site.URL {
		t.Fatalf("the inbox does not grant the registered static origin: %q", acao)
	}

	// A fresh tab state: no saved issuer or client id from earlier pages.
	b.do(chromedp.Navigate(site.URL+"/index.html"), chromedp.Evaluate[chromedp.Void](`localStorage.clear(); sessionStorage.clear()`))
	p := person{"Kavya Iyer", "9999900003", 2, "Fully vaccinated"}
	b.do(chromedp.Navigate(site.URL+"/index.html"),
		chromedp.WaitVisible(chromedp.CSS("#passenger")),
		chromedp.SendKeys(chromedp.CSS("#passenger"), p.name),
		chromedp.Click(chromedp.CSS("#check")))
	b.crossOriginFlow(iss.url, p)
	if aud := get(b, chromedp.Evaluate[string](`[...document.querySelectorAll("#claims tr")].find((r) => r.cells[0].textContent === "aud").cells[1].textContent`)); aud != client {
		t.Fatalf("the static site's token is for %q, want %q", aud, client)
	}
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#result details").open = true;
		document.getElementById("result").scrollIntoView({block: "start"})`))
	b.shot("static-host-verified")
	b.axe("the static site's result")

	// Navigation keeps the issuer and the client id: the inspector is filled
	// from them, and the inbox page reads the issuer's inbox cross-origin.
	b.do(chromedp.Click(chromedp.CSS(`nav a[href*="inspect.html"]`)), chromedp.WaitVisible(chromedp.CSS("#aud")))
	b.waitJS("the inspector's issuer", `document.getElementById("iss").value !== ""`, 10*time.Second)
	aud := get(b, chromedp.Value(chromedp.CSS("#aud")))
	issv := get(b, chromedp.Value(chromedp.CSS("#iss")))
	if aud != client || issv != iss.url {
		t.Fatalf("after navigating, the inspector has audience %q and issuer %q, want %q and %q", aud, issv, client, iss.url)
	}
	b.do(chromedp.Click(chromedp.CSS(`nav a[href*="inbox.html"]`)), chromedp.WaitVisible(chromedp.CSS("#sms")))
	b.waitJS("the inbox", `document.getElementById("inbox-state").dataset.state === "ok" && document.querySelectorAll("#sms li").length > 0`, 10*time.Second)
	b.shot("static-host-inbox")
	b.axe("the static site's inbox")
}

// testHindi: the whole flow with the booking page in Hindi: the embedded
// page follows it, and every step passes axe.
func testHindi(t *testing.T, b *browser, iss *issuerProc) {
	// A browser whose language is Hindi gets Hindi demo pages, with no
	// switch pressed (navigator.languages); the issuer's page then follows
	// the booking page's language (and Accept-Language: issuer/embed tests).
	b.do(chromedp.Navigate(iss.url+"/demo/inbox.html"), chromedp.Evaluate[chromedp.Void](`localStorage.removeItem("kycvs-demo.lang")`))
	ua := get(b, chromedp.Evaluate[string](`navigator.userAgent`))
	acceptLanguage := func(langs string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: langs})
			return chromedp.Void{}, err
		}
	}
	b.do(acceptLanguage("hi-IN,hi;q=0.9,en;q=0.5"), chromedp.Navigate(iss.url+"/demo/inbox.html"))
	b.waitJS("the inbox in Hindi, from the browser's language", `document.documentElement.lang === "hi" && document.querySelector("h1").textContent === "SMS इनबॉक्स"`, 10*time.Second)
	b.do(acceptLanguage("en-US,en"))

	p := person{"Ravi Kumar", "9999900000", 1, "आंशिक रूप से टीका लगा"}
	b.do(chromedp.Navigate(iss.url + "/demo/index.html?client_id=demo"))
	b.waitJS("the booking page's script", `document.getElementById("lang-switch").textContent === "हिन्दी"`, 10*time.Second)
	b.do(chromedp.Click(chromedp.CSS("#lang-switch")))
	b.waitJS("the booking page in Hindi", `new URLSearchParams(location.search).get("lang") === "hi" && document.documentElement.lang === "hi"`, 10*time.Second)
	if h1 := get(b, chromedp.Text(chromedp.CSS("h1"))); h1 != "टिकट बुक करें" {
		t.Fatalf("after the switch the booking page's heading is %q", h1)
	}
	if lang := get(b, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "hi" {
		t.Fatalf("html lang = %q", lang)
	}
	b.axe("the booking page in Hindi")
	b.shot("hi-booking")
	b.do(chromedp.SendKeys(chromedp.CSS("#passenger"), p.name), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS("the embedded page", frameStep("start"), 20*time.Second)
	f := b.frame()
	if h1 := get(b, chromedp.Text(chromedp.CSS("#step-start h1"), chromedp.FromNode(f))); !strings.Contains(h1, "टीकाकरण") {
		t.Fatalf("the embedded page is not in Hindi: %q", h1)
	}
	b.axe("the embedded page's first step, in Hindi")
	before := len(otps(t, iss.url, p.mobile))
	b.do(chromedp.SendKeys(chromedp.CSS("#mobile"), p.mobile, chromedp.FromNode(f)))
	b.shot("hi-embed-mobile-and-name")
	b.do(chromedp.SendKeys(chromedp.CSS("#mobile"), "\r", chromedp.FromNode(f)))
	b.waitJS("the OTP step", frameStep("otp"), 15*time.Second)
	otp := newOTP(t, iss.url, p.mobile, before)
	b.axe("the OTP step, in Hindi")
	b.shot("hi-embed-otp")
	b.do(chromedp.SendKeys(chromedp.CSS("#otp"), otp+"\r", chromedp.FromNode(f)))
	b.waitJS("the consent step", frameStep("consent"), 10*time.Second)
	b.axe("the consent step, in Hindi")
	b.shot("hi-embed-consent")
	b.do(chromedp.Click(chromedp.CSS("#share"), chromedp.FromNode(f)))
	b.result(p, "hi-booking-verified")
	b.axe("the verified result, in Hindi")
	for _, pg := range []string{"inspect.html", "inbox.html"} {
		b.do(chromedp.Click(chromedp.CSS(`nav a[href*="` + pg + `"]`)))
		b.waitJS(pg+" in Hindi after navigating", `location.pathname.endsWith("/`+pg+`") && document.documentElement.lang === "hi" && document.getElementById("lang-switch").textContent === "English"`, 10*time.Second)
		if pg == "inbox.html" {
			// The person's SMS texts came in Hindi too: the code (first,
			// for autofill) and the receipt.
			b.waitJS("the Hindi code and receipt in the inbox", `(() => { const sms = [...document.querySelectorAll("#sms li")].filter((li) => li.textContent.includes("+91`+p.mobile+`"));
				return sms.some((li) => li.lang === "hi" && li.textContent.includes("`+otp+` आपका kycvs कोड है")) &&
					sms.some((li) => li.lang === "hi" && li.textContent.includes("kycvs: आपकी COVID-19 टीकाकरण स्थिति")); })()`, 10*time.Second)
		}
		b.axe(pg + " in Hindi")
		b.shot("hi-" + strings.TrimSuffix(pg, ".html"))
	}
	// Back to English for the rest.
	b.do(chromedp.Click(chromedp.CSS("#lang-switch")))
	b.waitJS("English again", `new URLSearchParams(location.search).get("lang") === "en" && document.documentElement.lang === "en" && document.getElementById("lang-switch").textContent === "हिन्दी"`, 10*time.Second)
}

// noOverflow fails if anything in the page (or the embedded page, when it
// is open and same-origin) sticks out of the viewport sideways, or if a
// select is too narrow for its longest option.
func (b *browser) noOverflow(what string) {
	b.t.Helper()
	js := `(() => { const bad = [];
		const check = (doc) => { const w = doc.documentElement.clientWidth;
			if (doc.documentElement.scrollWidth > w) bad.push("page scrolls sideways: " + doc.documentElement.scrollWidth + " > " + w);
			for (const el of doc.body.querySelectorAll("*")) { const r = el.getBoundingClientRect();
				if (r.width && r.right > w + 1 && !el.closest(".table-wrap")) bad.push(el.tagName + (el.id ? "#" + el.id : "") + " ends at " + Math.round(r.right) + " > " + w); }
			for (const s of doc.querySelectorAll("select")) { const c = doc.createElement("span");
				c.style.cssText = "position:absolute;visibility:hidden;white-space:nowrap;font:" + getComputedStyle(s).font;
				doc.body.append(c); let widest = 0;
				for (const o of s.options) { c.textContent = o.text; widest = Math.max(widest, c.getBoundingClientRect().width); }
				c.remove(); if (widest + 40 > s.clientWidth) bad.push("select#" + s.id + " cuts its options: " + Math.round(widest) + "px in " + s.clientWidth + "px"); } };
		check(document);
		const f = document.querySelector("` + frameSel + `"); if (f && f.contentDocument) check(f.contentDocument);
		return bad; })()`
	if bad := get(b, chromedp.Evaluate[[]string](js)); len(bad) > 0 {
		b.t.Fatalf("%s at %d px: %s", what, 375, strings.Join(bad, "; "))
	}
}

// onPhone: a 375 px phone: nothing cut, the people table in view at the top
// of the sidebar whatever the SMS count, the claims table wrapped by words,
// and axe passes on every step.
func testPhone(t *testing.T, b *browser, iss *issuerProc) {
	b.do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile),
		chromedp.Navigate(iss.url+"/demo/index.html?client_id=demo"),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("kycvs-demo.lang", "en")`))
	p := person{"Arjun Singh", "9999900001", 2, "Fully vaccinated"}
	f := b.ask(iss.url, p)
	if rows := get(b, chromedp.Evaluate[int](`new Set([...document.querySelectorAll("header.site nav a")].map((a) => a.offsetTop)).size`)); rows != 1 {
		t.Fatalf("on a phone the nav wraps onto %d lines", rows)
	}
	b.noOverflow("the booking page with the embedded page")
	b.axe("the embedded page on a phone")
	otp := b.sendMobile(iss.url, f, p, "phone-embed")
	b.noOverflow("the OTP step")
	b.axe("the OTP step on a phone")
	b.consent(f, otp, "", "phone-consent")
	b.result(p, "phone-result")
	b.noOverflow("the result")
	// The facts read as lines, not as a column of single words.
	narrow := get(b, chromedp.Evaluate[[]string](`(() => { const card = document.getElementById("result").clientWidth;
		return [...document.querySelectorAll("dl.facts dd")].filter((dd) => dd.clientWidth < card * 0.6).map((dd) => dd.id + " " + dd.clientWidth + "px"); })()`))
	if len(narrow) > 0 {
		t.Fatalf("on a phone the result's facts are squeezed into a narrow column: %q", narrow)
	}
	b.axe("the result on a phone")
	if n := get(b, chromedp.Evaluate[int](`document.querySelectorAll("#sms li").length`)); n > 2 {
		t.Fatalf("the sidebar lists %d SMS; it shows the newest two, so the people table stays in view", n)
	}
	if order := get(b, chromedp.Evaluate[bool](`!!(document.querySelector("table.people").compareDocumentPosition(document.getElementById("sms")) & Node.DOCUMENT_POSITION_FOLLOWING)`)); !order {
		t.Fatal("the SMS list comes before the people table")
	}
	// Claim names are never split inside a word.
	split := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#claims th")].filter((th) => {
		const r = document.createRange(); r.selectNodeContents(th); return r.getClientRects().length > 1; }).map((th) => th.textContent)`))
	if len(split) > 0 {
		t.Fatalf("claim names wrapped: %q", split)
	}
	// A phone user's own words: the long values wrap, the meanings by word.
	for _, pg := range []string{"inspect.html", "inbox.html"} {
		b.do(chromedp.Click(chromedp.CSS(`nav a[href*="` + pg + `"]`)))
		b.waitJS(pg, `location.pathname.endsWith("/`+pg+`") && document.getElementById("lang-switch").textContent === "हिन्दी"`, 10*time.Second)
		b.noOverflow(pg)
		b.axe(pg + " on a phone")
		b.shot("phone-" + strings.TrimSuffix(pg, ".html"))
	}
}

// testMovedDemo: KYCVS_ADDR alone moves ./build.sh run (address, issuer
// URL, printed URL, the demo client's origins), over a data directory left
// by a run on another address; the demo then works opened as localhost.
func testMovedDemo(t *testing.T, b *browser, bin string) {
	root := repoRoot(t)
	data := t.TempDir()
	// An old .data/: the demo client registered for another address.
	run(t, root, nil, bin, "client", "add", "--data", data, "--id", "demo", "--name", "Demo Railways", "--origin", "http://127.0.0.1:8080")
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command("./build.sh", "run")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KYCVS_ADDR="+addr, "KYCVS_DATA="+data, "KYCVS_ISSUER=")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("./build.sh run:\n%s", out.String())
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(90 * time.Second) // it builds first
	for !strings.Contains(out.String(), `"msg":"listening"`) {
		if time.Now().After(deadline) {
			t.Fatal("./build.sh run did not start")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if want := "==> demo: open " + url + "/demo/"; !strings.Contains(out.String(), want) {
		t.Fatalf("./build.sh run does not print %q:\n%s", want, out.String())
	}
	localhost := fmt.Sprintf("http://localhost:%d", port)
	for origin, want := range map[string]int{url: 200, localhost: 200, "http://127.0.0.1:8080": 403} {
		res, err := http.Get(url + "/embed/check?client_id=demo&origin=" + origin)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("after the move, the demo client's origin %s: %d, want %d", origin, res.StatusCode, want)
		}
	}
	// The demo opened as localhost: the whole flow (the issuer's page is at
	// its URL, 127.0.0.1, another origin for the page).
	// localhost and 127.0.0.1 are two sites, so Chromium runs the issuer's
	// page in a process of its own (site isolation): the test drives it as
	// a target of its own, as it does a popup.
	p := person{"Fatima Khan", "9999900002", 1, "Partially vaccinated"}
	b.do(chromedp.Navigate(localhost+"/demo/"), chromedp.WaitVisible(chromedp.CSS("#passenger")),
		chromedp.SendKeys(chromedp.CSS("#passenger"), p.name))
	b.isolatedFrame(url, p, `document.getElementById("check").click()`)
	b.result(p, "")
	if iss := get(b, chromedp.Text(chromedp.CSS("#r-issuer"))); iss != url {
		t.Fatalf("the token's issuer is %q, want %q", iss, url)
	}
}

// syncBuffer is a bytes.Buffer that a process and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
