// Package e2e runs the demo site and the embeddable consent page in real
// headless Chromium against the real kycvs binary (serve --demo) on
// loopback: a person with status 0, 1 and 2 goes through the whole flow, a
// wrong OTP shows the tries left, a page on an unregistered origin gets no
// token (framing is refused; a popup it opens posts the token only to the
// registered origin), the token inspector explains each check, and the page
// works in Hindi and on a phone-sized screen.
//
// ./build.sh test runs it in test_browser_demo (and leaves it out of its
// go test ./..., so it runs once); it needs ./build.sh's verifierjs/kycvs.wasm.
// Chromium is $CHROMIUM or /usr/bin/chromium; under CI=true a missing
// Chromium is a failure. KYCVS_BIN names a built kycvs
// (else the test builds one); KYCVS_SCREENSHOTS names a folder for a PNG of
// each step (docs/screenshots holds the committed set).
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not at %s", root)
	}
	return root
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// demoDir assembles the static demo as a host would publish it: demo/ plus
// the verifierjs copy that ./build.sh puts in demo/vendor/kycvs-verifier.
func demoDir(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join(root, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(root, "demo", e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	vjs := filepath.Join(root, "verifierjs")
	if _, err := os.Stat(filepath.Join(vjs, "kycvs.wasm")); err != nil {
		t.Fatalf("verifierjs/kycvs.wasm is missing: run ./build.sh first")
	}
	for _, f := range []string{"index.js", "wasm_exec.js", "kycvs.wasm"} {
		copyFile(t, filepath.Join(vjs, f), filepath.Join(dir, "vendor", "kycvs-verifier", f))
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startIssuer runs kycvs serve --demo and returns its URL (also its issuer).
func startIssuer(t *testing.T, bin, demo string, extra ...string) string {
	t.Helper()
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", t.TempDir(),
		"--issuer", url, "--demo-dir", demo, "--otp-cooldown", "0", "--rate-ip", "-1")
	cmd.Args = append(cmd.Args, extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	var logs strings.Builder
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var l struct{ Msg string }
			if !once && json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" {
				once = true
				close(listening)
			}
		}
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
		if t.Failed() {
			t.Logf("kycvs serve log:\n%s", logs.String())
		}
	})
	select {
	case <-listening:
	case <-done:
		t.Fatalf("kycvs serve exited")
	case <-time.After(20 * time.Second):
		t.Fatal("kycvs serve did not start")
	}
	return url
}

var otpRE = regexp.MustCompile(`^(\d{6}) is your kycvs code`)

// otps returns the OTPs the demo inbox holds for mobile, newest first.
func otps(t *testing.T, issuer, mobile string) []string {
	t.Helper()
	res, err := http.Get(issuer + "/demo/inbox")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var in struct {
		Messages []struct{ To, Text string }
	}
	if err := json.NewDecoder(res.Body).Decode(&in); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range in.Messages {
		if s := otpRE.FindStringSubmatch(m.Text); s != nil && m.To == "+91"+mobile {
			out = append(out, s[1])
		}
	}
	return out
}

// receipts counts the "status was shared" messages to mobile.
func receipts(t *testing.T, issuer, mobile string) int {
	t.Helper()
	res, err := http.Get(issuer + "/demo/inbox")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var in struct {
		Messages []struct{ To, Text string }
	}
	if err := json.NewDecoder(res.Body).Decode(&in); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range in.Messages {
		if m.To == "+91"+mobile && strings.Contains(m.Text, "status was shared") {
			n++
		}
	}
	return n
}

// newOTP waits for an OTP to mobile beyond the first `before` ones.
func newOTP(t *testing.T, issuer, mobile string, before int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if o := otps(t, issuer, mobile); len(o) > before {
			return o[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new OTP for %s in the demo inbox", mobile)
	return ""
}

type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
	n     int
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// shot writes a PNG of the viewport as NN-name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	b.n++
	b.do(chromedp.Sleep(150 * time.Millisecond))
	png := get(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitJS polls a JavaScript expression until it is true.
func (b *browser) waitJS(what, expr string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if get(b, chromedp.Evaluate[bool](expr)) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const frameSel = "dialog.kycvs-dialog iframe"

// frameStep is true when the embedded page shows the given step.
func frameStep(step string) string {
	return fmt.Sprintf(`(() => { const f = document.querySelector(%q); const d = f && f.contentDocument;
		const s = d && d.getElementById("step-%s"); return !!s && !s.hidden; })()`, frameSel, step)
}

// frame returns the iframe node, for queries inside it.
func (b *browser) frame() *chromedp.Node {
	b.t.Helper()
	return get(b, chromedp.Nodes(chromedp.CSS(frameSel)))[0]
}

type person struct {
	name, mobile string
	status       int
	words        string
}

// ask opens the booking page for p and waits for the embedded page.
func (b *browser) ask(issuer string, p person) *chromedp.Node {
	b.t.Helper()
	b.do(chromedp.Navigate(issuer+"/demo/"),
		chromedp.WaitVisible(chromedp.CSS("#passenger")),
		chromedp.Clear(chromedp.CSS("#passenger")),
		chromedp.SendKeys(chromedp.CSS("#passenger"), p.name),
		chromedp.Click(chromedp.CSS("#check")))
	b.waitJS("the embedded page", frameStep("start"), 20*time.Second)
	f := b.frame()
	prefilled := get(b, chromedp.Value(chromedp.CSS("#name"), chromedp.FromNode(f)))
	if prefilled != p.name {
		b.t.Fatalf("name in the embedded page = %q, want %q (pre-filled)", prefilled, p.name)
	}
	return f
}

// sendMobile types the mobile number, submits with Enter and returns the OTP.
func (b *browser) sendMobile(issuer string, f *chromedp.Node, p person, shot string) string {
	b.t.Helper()
	before := len(otps(b.t, issuer, p.mobile))
	b.do(chromedp.SendKeys(chromedp.CSS("#mobile"), p.mobile, chromedp.FromNode(f)))
	if shot != "" {
		b.shot(shot)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#mobile"), "\r", chromedp.FromNode(f)))
	b.waitJS("the OTP step", frameStep("otp"), 15*time.Second)
	return newOTP(b.t, issuer, p.mobile, before)
}

func (b *browser) consent(f *chromedp.Node, otp string, shots ...string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS("#otp"), otp, chromedp.FromNode(f)))
	if len(shots) > 0 && shots[0] != "" {
		b.shot(shots[0])
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#otp"), "\r", chromedp.FromNode(f)))
	b.waitJS("the consent step", frameStep("consent"), 10*time.Second)
	text := get(b, chromedp.Text(chromedp.CSS("#step-consent"), chromedp.FromNode(f)))
	for _, want := range []string{"Demo Railways will learn", "0 not vaccinated", "Your mobile number", "Which vaccine"} {
		if !strings.Contains(text, want) {
			b.t.Fatalf("consent screen lacks %q:\n%s", want, text)
		}
	}
	if len(shots) > 1 {
		b.shot(shots[1])
	}
	b.do(chromedp.Click(chromedp.CSS("#share"), chromedp.FromNode(f)))
}

func (b *browser) result(p person, shot string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS("#result")))
	status := get(b, chromedp.AttributeValue(chromedp.CSS("#result"), "data-status")).Value
	words := get(b, chromedp.Text(chromedp.CSS("#status-words")))
	if status != fmt.Sprint(p.status) || words != p.words {
		b.t.Fatalf("%s: booking page shows status %q %q, want %d %q", p.name, status, words, p.status, p.words)
	}
	name := get(b, chromedp.Text(chromedp.CSS("#r-name")))
	if !strings.HasPrefix(name, "Matches") {
		b.t.Fatalf("%s: name check says %q", p.name, name)
	}
	if shot != "" {
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#result details").open = true;
			document.getElementById("result").scrollIntoView({block: "start"})`))
		b.shot(shot)
	}
}

// popup runs js (which opens the embedded page in a popup) with a user
// gesture, then completes the flow for p in the popup.
func (b *browser) popup(issuer string, p person, js string) {
	b.t.Helper()
	ch := chromedp.WaitNewTarget(b.ctx, func(info *target.Info) bool { return strings.Contains(info.URL, "/embed") })
	b.do(chromedp.Evaluate[chromedp.Void](js, func(p *runtime.EvaluateParams) { p.UserGesture = new(true) }))
	var id target.ID
	select {
	case id = <-ch:
	case <-time.After(10 * time.Second):
		b.t.Fatal("no popup opened")
	}
	pctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	defer cancel()
	pb := &browser{t: b.t, ctx: pctx}
	if err := chromedp.Do(pctx); err != nil { // attach, for the life of pctx
		b.t.Fatal(err)
	}
	// A target attached after its page loaded: drive it with the keyboard
	// and scripts rather than DOM queries.
	step := func(name string) string { return `!document.getElementById("step-` + name + `").hidden` }
	pb.waitJS("the popup's form", step("start"), 10*time.Second)
	before := len(otps(b.t, issuer, p.mobile))
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""; document.getElementById("name").focus()`),
		chromedp.KeyEvent(p.name),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("mobile").focus()`),
		chromedp.KeyEvent(p.mobile+"\r"))
	pb.waitJS("the popup's OTP step", step("otp"), 10*time.Second)
	otp := newOTP(b.t, issuer, p.mobile, before)
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("otp").focus()`),
		chromedp.KeyEvent(otp+"\r"))
	pb.waitJS("the popup's consent step", step("consent"), 10*time.Second)
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("share").focus()`),
		chromedp.KeyEvent("\r"))
	// The opener closes the popup when the token reaches it.
}

func TestBrowserDemo(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: .ci/run installs Debian's chromium", chromium)
		}
		t.Skipf("no %s (apt-get install chromium); CI=true makes this a failure", chromium)
	}
	root := repoRoot(t)
	bin := os.Getenv("KYCVS_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "kycvs")
		run(t, root, nil, "go", "build", "-o", bin, "./issuer/cmd/kycvs")
	}
	demo := demoDir(t, root)
	issuer := startIssuer(t, bin, demo)

	shots := os.Getenv("KYCVS_SCREENSHOTS")
	if shots != "" {
		if !filepath.IsAbs(shots) {
			shots = filepath.Join(root, shots)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(shots, "*.png"))
		for _, f := range old {
			os.Remove(f)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1024, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	b := &browser{t: t, ctx: ctx, shots: shots}
	// The first call starts the browser, which lives as long as its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	version := get(b, chromedp.Evaluate[string](`navigator.userAgent`))
	t.Logf("browser: %s; issuer %s", version, issuer)

	t.Run("status 2, wrong OTP first", func(t *testing.T) {
		b.t = t
		p := person{"Asha Devi", "9999900000", 2, "Fully vaccinated"}
		f := b.ask(issuer, p)
		otp := b.sendMobile(issuer, f, p, "embed-mobile-and-name")
		b.shot("embed-otp-countdown")
		countdown := get(b, chromedp.Text(chromedp.CSS("#countdown"), chromedp.FromNode(f)))
		if !strings.Contains(countdown, "expires in") {
			t.Fatalf("no countdown: %q", countdown)
		}
		wrong := fmt.Sprintf("%06d", (atoi(otp)+1)%1000000)
		// The code is checked before consent: the wrong one is told on
		// the code step itself.
		b.do(chromedp.SendKeys(chromedp.CSS("#otp"), wrong+"\r", chromedp.FromNode(f)))
		b.waitJS("the wrong-OTP message", frameStep("otp"), 10*time.Second)
		b.do(chromedp.WaitVisible(chromedp.CSS("#error"), chromedp.FromNode(f)))
		msg := get(b, chromedp.Text(chromedp.CSS("#error"), chromedp.FromNode(f)))
		if msg != "That code is not right. You have 4 tries left." {
			t.Fatalf("wrong OTP shows %q", msg)
		}
		b.shot("embed-wrong-otp-tries-left")
		b.consent(f, otp, "", "embed-consent")
		b.result(p, "booking-verified-status-2")
	})

	t.Run("status 1", func(t *testing.T) {
		b.t = t
		p := person{"Fatima Khan", "9999900002", 1, "Partially vaccinated"}
		f := b.ask(issuer, p)
		otp := b.sendMobile(issuer, f, p, "")
		b.consent(f, otp)
		b.result(p, "booking-verified-status-1")
	})

	t.Run("status 0, in Hindi", func(t *testing.T) {
		b.t = t
		p := person{"Meera Kumar", "9999900000", 0, "Not vaccinated"}
		f := b.ask(issuer, p)
		b.do(chromedp.Click(chromedp.CSS("#lang-switch"), chromedp.FromNode(f)))
		h1 := get(b, chromedp.Text(chromedp.CSS("#step-start h1"), chromedp.FromNode(f)))
		if !strings.Contains(h1, "टीकाकरण") {
			t.Fatalf("after the language switch the heading is %q", h1)
		}
		b.shot("embed-hindi")
		b.do(chromedp.Click(chromedp.CSS("#lang-switch"), chromedp.FromNode(f)))
		otp := b.sendMobile(issuer, f, p, "")
		b.consent(f, otp)
		b.result(p, "booking-verified-status-0")
	})

	t.Run("token inspector", func(t *testing.T) {
		b.t = t
		// The booking page links its last token to the inspector, which
		// checks it at once.
		href := get(b, chromedp.AttributeValue(chromedp.CSS("#inspect-link"), "href")).Value
		b.do(chromedp.Navigate(href))
		verdict := func() string {
			b.waitJS("the verdict", `!!document.getElementById("verdict").dataset.code`, 20*time.Second)
			return get(b, chromedp.AttributeValue(chromedp.CSS("#verdict"), "data-code")).Value
		}
		if v := verdict(); v != "OK" {
			t.Fatalf("inspector verdict %q for a good token", v)
		}
		results := func() string {
			return get(b, chromedp.Evaluate[string](`[...document.querySelectorAll("#checks tr")].map(r => r.dataset.code + "=" + r.dataset.result).join(" ")`))
		}
		if r := results(); strings.Contains(r, "fail") || strings.Contains(r, "skip") || !strings.Contains(r, "ERR_NONCE=pass") {
			t.Fatalf("checks of a good token: %s", r)
		}
		b.shot("inspector-valid")
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("verdict").dataset.code = ""`),
			chromedp.Clear(chromedp.CSS("#aud")),
			chromedp.SendKeys(chromedp.CSS("#aud"), "another-entity"),
			chromedp.Click(chromedp.CSS("#run")))
		if v := verdict(); v != "ERR_AUDIENCE" {
			t.Fatalf("inspector verdict %q for another audience", v)
		}
		r := results()
		for _, want := range []string{"ERR_SIGNATURE=pass", "ERR_ISSUER=pass", "ERR_AUDIENCE=fail", "ERR_EXPIRED=skip"} {
			if !strings.Contains(r, want) {
				t.Fatalf("checks for another audience lack %s: %s", want, r)
			}
		}
		b.do(chromedp.ScrollIntoView(chromedp.CSS("#report")))
		b.shot("inspector-wrong-audience")
	})

	t.Run("expired code, then too many requests", func(t *testing.T) {
		b.t = t
		// An issuer whose codes live 3 s and which sends one code a minute
		// to a number.
		issuer := startIssuer(t, bin, demo, "--otp-ttl", "3s", "--otp-cooldown", "60s")
		p := person{"Ravi Kumar", "9999900000", 1, "Partially vaccinated"}
		f := b.ask(issuer, p)
		b.sendMobile(issuer, f, p, "")
		b.waitJS("the expiry", `(() => { const d = document.querySelector("`+frameSel+`").contentDocument;
			return d.getElementById("countdown").textContent.includes("expired") && d.getElementById("otp-next").disabled; })()`, 10*time.Second)
		b.shot("embed-code-expired")
		b.do(chromedp.Click(chromedp.CSS("#change"), chromedp.FromNode(f)),
			chromedp.WaitVisible(chromedp.CSS("#send"), chromedp.FromNode(f)),
			chromedp.Click(chromedp.CSS("#send"), chromedp.FromNode(f)),
			chromedp.WaitVisible(chromedp.CSS("#error"), chromedp.FromNode(f)))
		msg := get(b, chromedp.Text(chromedp.CSS("#error"), chromedp.FromNode(f)))
		if !regexp.MustCompile(`^Too many requests\. Please wait 0:[0-5]\d and try again\.$`).MatchString(msg) {
			t.Fatalf("a second code within the minute shows %q", msg)
		}
		b.shot("embed-too-many-requests")
	})

	t.Run("unregistered origin gets no token", func(t *testing.T) {
		b.t = t
		// The same static demo on another origin, which the demo entity
		// never registered.
		other := httptest.NewServer(http.FileServer(http.Dir(demo)))
		defer other.Close()
		b.do(chromedp.Navigate(other.URL+"/index.html?issuer="+issuer),
			chromedp.WaitVisible(chromedp.CSS("#passenger")),
			chromedp.SendKeys(chromedp.CSS("#passenger"), "Asha Devi"),
			chromedp.Click(chromedp.CSS("#check")))
		b.waitJS("the iframe", `!!document.querySelector("`+frameSel+`")`, 20*time.Second)
		time.Sleep(3 * time.Second)
		b.shot("unregistered-origin-blocked")
		got := get(b, chromedp.Evaluate[bool](`window.kycvsLastToken !== undefined || !document.getElementById("result").hidden`))
		if got {
			t.Fatal("a page on an unregistered origin got a token")
		}
		// The issuer refuses it too, whatever the browser does: a 403 page
		// whose CSP lets only the registered origin frame it.
		res, err := http.Get(issuer + "/embed?client_id=demo&nonce=abcdefgh12&origin=" + other.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != 403 || !strings.HasSuffix(csp, "frame-ancestors "+issuer) {
			t.Fatalf("embed for an unregistered origin: %d, CSP %q", res.StatusCode, csp)
		}
	})

	t.Run("popup", func(t *testing.T) {
		b.t = t
		// From the registered origin (the demo on the issuer), the popup's
		// token arrives and verifies.
		b.do(chromedp.Navigate(issuer + "/demo/"))
		p := person{"Kavya Iyer", "9999900003", 2, ""}
		b.popup(issuer, p, `import(location.origin + "/demo/vendor/kycvs-verifier/index.js").then(async (v) => {
			const m = await import(location.origin + "/embed/kycvs-embed.js");
			const r = await m.requestStatus({ issuer: location.origin, clientId: "demo", name: "Kavya Iyer", mode: "popup", createVerifier: v.createVerifier });
			window.got = [String(r.result.status)];
		}).catch((e) => { window.got = ["error " + e.code + " " + e.message]; })`)
		b.waitJS("the popup's token", `Array.isArray(window.got)`, 10*time.Second)
		if got := get(b, chromedp.Evaluate[[]string](`window.got`)); len(got) != 1 || got[0] != "2" {
			t.Fatalf("popup from the registered origin: %q", got)
		}

		// A page on another origin that opens the page in a popup and
		// claims the registered origin: the person completes the flow, the
		// page posts the token to the registered origin only, and the
		// browser does not deliver it here.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><title>not registered</title><p>another site</p>`)
		}))
		defer evil.Close()
		b.do(chromedp.Navigate(evil.URL))
		shared := receipts(t, issuer, p.mobile)
		b.popup(issuer, p, `window.got = []; addEventListener("message", (e) => window.got.push(JSON.stringify(e.data)));
			window.open(`+"`"+issuer+`/embed?client_id=demo&nonce=abcdefgh12345&mode=popup&origin=`+issuer+"`"+`, "kycvs", "popup"); null`)
		// The issuer did sign a token (the person gets the receipt)...
		deadline := time.Now().Add(10 * time.Second)
		for receipts(t, issuer, p.mobile) == shared {
			if time.Now().After(deadline) {
				t.Fatal("the popup's flow did not complete")
			}
			time.Sleep(100 * time.Millisecond)
		}
		// ...and the page that opened the popup did not get it.
		time.Sleep(time.Second)
		if got := get(b, chromedp.Evaluate[[]string](`window.got`)); len(got) != 0 {
			t.Fatalf("a page on an unregistered origin received %q", got)
		}
	})

	t.Run("on a phone", func(t *testing.T) {
		b.t = t
		// Last: the emulation stays for the rest of the tab's life.
		b.do(chromedp.EmulateViewport(390, 780, chromedp.EmulateMobile))
		p := person{"Arjun Singh", "9999900001", 2, "Fully vaccinated"}
		f := b.ask(issuer, p)
		otp := b.sendMobile(issuer, f, p, "phone-embed")
		b.consent(f, otp, "", "phone-consent")
		b.result(p, "")
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
