// Package e2e runs the demo site and the embeddable consent page in real
// headless Chromium against the real kycvs binary (serve --demo) on
// loopback: a person with status 0, 1 and 2 goes through the whole flow, a
// wrong OTP shows the tries left, a page on an unregistered origin gets no
// token (framing is refused; a popup it opens posts the token only to the
// registered origin), the token inspector explains each check, and the page
// works in Hindi and on a phone-sized screen. anywhere_test.go adds the
// refusals the booking page explains (ERR_ORIGIN, ERR_CLIENT_UNKNOWN,
// ERR_UNAVAILABLE), the site ./build.sh static writes served from a second
// origin by a plain file server, the whole flow in Hindi, and a 375 px
// phone; axe_test.go runs axe-core (WCAG 2.1 A/AA) on every page and step,
// and any violation fails the test.
//
// ./build.sh test runs it in test_browser_demo (and leaves it out of its
// go test ./..., so it runs once); it needs ./build.sh's verifierjs/kycvs.wasm
// and axe-core (npm ci in demo/e2e, which test_browser_demo runs).
// Chromium is $CHROMIUM or /usr/bin/chromium; under CI=true a missing
// Chromium is a failure. KYCVS_BIN names a built kycvs
// (else the test builds one); KYCVS_SCREENSHOTS names a folder for a PNG of
// each step (docs/screenshots holds the committed set).
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
	for _, f := range []string{"index.js", "remote.js", "wasm_exec.js", "kycvs.wasm"} {
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

// issuerProc is a running kycvs serve --demo.
type issuerProc struct {
	url, data, bin string
	logs           func() string // its log so far
}

// startIssuer runs kycvs serve --demo and returns its URL (also its issuer).
func startIssuer(t *testing.T, bin, demo string, extra ...string) string {
	t.Helper()
	return startIssuerProc(t, bin, demo, extra...).url
}

// startIssuerProc runs kycvs serve --demo. Its log (which has the refusals
// the test provokes, at level WARN) is kept, not printed; the test prints it
// only when it fails.
func startIssuerProc(t *testing.T, bin, demo string, extra ...string) *issuerProc {
	t.Helper()
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	data := t.TempDir()
	cmd := exec.Command(bin, "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", data,
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
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
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
			mu.Lock()
			t.Logf("kycvs serve log (refusals in it are expected):\n%s", logs.String())
			mu.Unlock()
		}
	})
	select {
	case <-listening:
	case <-done:
		t.Fatalf("kycvs serve exited")
	case <-time.After(20 * time.Second):
		t.Fatal("kycvs serve did not start")
	}
	return &issuerProc{url: url, data: data, bin: bin, logs: func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}}
}

// otpRE finds the code in an OTP's SMS, in English or in Hindi.
var otpRE = regexp.MustCompile(`^(\d{6}) (?:is your kycvs code|आपका kycvs कोड है)`)

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

// receipts counts the "status was shared" messages to mobile, in English
// or in Hindi.
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
		if m.To == "+91"+mobile && (strings.Contains(m.Text, "status was shared") || strings.Contains(m.Text, "साझा की गई")) {
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
	t          *testing.T
	ctx        context.Context
	eval       func(expr string) (bool, error) // nil: the browser's
	shots      string
	n          int
	axeChecked int // pages and steps axe has checked
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
		// A page between two documents has no body yet, or no document to
		// ask at all (a click that navigates): not true yet.
		ok, err := b.evalBool(`(() => { try { return !!(` + expr + `); } catch { return false; } })()`)
		if err == nil && ok {
			return
		}
		if err != nil && !navigating(err) {
			b.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// evalBool evaluates a boolean expression in the page (b.eval, when a test
// sets it, instead of the browser).
func (b *browser) evalBool(expr string) (bool, error) {
	if b.eval != nil {
		return b.eval(expr)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
}

// navigating reports whether err is Chromium's answer to a question asked
// of a page while it was being replaced by another (a loaded run once
// failed with the first right after a click that navigates).
func navigating(err error) bool {
	m := err.Error()
	return strings.Contains(m, "Inspected target navigated or closed") || strings.Contains(m, "Execution context was destroyed") ||
		strings.Contains(m, "Cannot find context with specified id")
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
	b.axe("the consent step")
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
	// The name typed at the issuer is the booking's: said as that, not as
	// a registry match.
	if check := get(b, chromedp.AttributeValue(chromedp.CSS("#r-name"), "data-check")).Value; check != "same" {
		b.t.Fatalf("%s: name check %q: %s", p.name, check, get(b, chromedp.Text(chromedp.CSS("#r-name"))))
	}
	if name := get(b, chromedp.Text(chromedp.CSS("#r-name"))); strings.Contains(name, "Match") {
		b.t.Fatalf("%s: the name check reads like a registry match: %q", p.name, name)
	}
	// The booking is the server's decision, behind the gate: fully
	// vaccinated is booked, anything less refused with ERR_STATUS.
	b.waitJS("the server's decision", `document.getElementById("booking-decision").dataset.server !== "asking"`, 10*time.Second)
	server := get(b, chromedp.AttributeValue(chromedp.CSS("#booking-decision"), "data-server")).Value
	code := get(b, chromedp.AttributeValue(chromedp.CSS("#booking-decision"), "data-code")).Value
	if want, wantCode := map[bool]string{true: "accepted", false: "refused"}[p.status == 2], map[bool]string{true: "", false: "ERR_STATUS"}[p.status == 2]; server != want || code != wantCode {
		b.t.Fatalf("%s: the server's decision is %q %q, want %q %q: %s", p.name, server, code, want, wantCode, get(b, chromedp.Text(chromedp.CSS("#booking-decision"))))
	}
	if shot != "" {
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#result details").open = true;
			document.getElementById("result").scrollIntoView({block: "start"})`))
		b.shot(shot)
	}
}

// cheat presses the "try to cheat" buttons after a booking the server
// accepted: the same token again, tampered, and for another booking must
// each be refused by the server with the gate's code.
func (b *browser) cheat(shot string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("cheat").open = true`))
	for _, id := range []string{"cheat-replay", "cheat-tamper", "cheat-nonce"} {
		b.do(chromedp.Click(chromedp.CSS("#" + id)))
		b.waitJS("the server's answer to "+id, fmt.Sprintf(`!!document.querySelector('#cheat-log li[data-cheat=%q]')`, id), 10*time.Second)
	}
	got := get(b, chromedp.Evaluate[string](`[...document.querySelectorAll("#cheat-log li")].map(li => li.dataset.cheat + "=" + li.dataset.status + " " + li.dataset.code).join(", ")`))
	if want := "cheat-replay=409 ERR_REPLAY, cheat-tamper=401 ERR_SIGNATURE, cheat-nonce=401 ERR_NONCE"; got != want {
		b.t.Fatalf("the server answered the cheats %q, want %q", got, want)
	}
	if shot != "" {
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("cheat").scrollIntoView({block: "start"})`))
		b.shot(shot)
	}
}

// popup runs js (which opens the embedded page in a popup) with a user
// gesture, then completes the flow for p in the popup.
func (b *browser) popup(issuer string, p person, js string) {
	b.t.Helper()
	b.inTarget(issuer, p, js, "page")
}

// isolatedFrame runs js (which opens the embedded page in an iframe of
// another site, which Chromium runs out of process), then completes the
// flow for p in that frame.
func (b *browser) isolatedFrame(issuer string, p person, js string) {
	b.t.Helper()
	b.inTarget(issuer, p, js, "iframe")
}

// inTarget completes the flow for p in the embedded page that js opens as
// a target of its own, of type kind.
func (b *browser) inTarget(issuer string, p person, js, kind string) {
	b.t.Helper()
	// The browser's list of targets, before and after: a frame's target is
	// announced to the browser, not to the page.
	embeds := func() map[target.ID]bool {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		ids := map[target.ID]bool{}
		for _, i := range infos {
			if i.Type == kind && strings.Contains(i.URL, "/embed") {
				ids[i.TargetID] = true
			}
		}
		return ids
	}
	old := embeds()
	b.do(chromedp.Evaluate[chromedp.Void](js, func(p *runtime.EvaluateParams) { p.UserGesture = new(true) }))
	var id target.ID
	deadline := time.Now().Add(10 * time.Second)
	for id == "" {
		for i := range embeds() {
			if !old[i] {
				id = i
			}
		}
		if id == "" && time.Now().After(deadline) {
			b.t.Fatalf("no %s with the embedded page opened", kind)
		}
		time.Sleep(100 * time.Millisecond)
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
	pb.waitJS("the "+kind+"'s form", step("start"), 10*time.Second)
	before := len(otps(b.t, issuer, p.mobile))
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""; document.getElementById("name").focus()`),
		chromedp.KeyEvent(p.name),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("mobile").focus()`),
		chromedp.KeyEvent(p.mobile+"\r"))
	pb.waitJS("the "+kind+"'s OTP step", step("otp"), 10*time.Second)
	otp := newOTP(b.t, issuer, p.mobile, before)
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("otp").focus()`),
		chromedp.KeyEvent(otp+"\r"))
	pb.waitJS("the "+kind+"'s consent step", step("consent"), 10*time.Second)
	pb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("share").focus()`),
		chromedp.KeyEvent("\r"))
	// The opener closes the popup when the token reaches it.
}

// TestWaitJSAcrossNavigations: a question asked while the page is being
// replaced by another is "not yet", not a failure (a loaded CI-like run
// failed with "Inspected target navigated or closed (-32000)" right after
// a click that switches the language); any other error still fails.
func TestWaitJSAcrossNavigations(t *testing.T) {
	answers := []error{
		errors.New("Inspected target navigated or closed (-32000)"),
		errors.New("Execution context was destroyed. (-32000)"),
		errors.New("Cannot find context with specified id (-32000)"),
		nil,
	}
	calls := 0
	b := &browser{t: t, eval: func(string) (bool, error) {
		err := answers[calls]
		calls++
		return err == nil, err
	}}
	b.waitJS("the page after a navigation", "true", 10*time.Second)
	if calls != len(answers) {
		t.Errorf("%d questions, want %d", calls, len(answers))
	}
	if navigating(errors.New("Runtime.evaluate: Object reference chain is too long")) {
		t.Error("another error taken for a navigation")
	}
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
	iss := startIssuerProc(t, bin, demo)
	issuer := iss.url

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
		b.do(chromedp.Navigate(issuer+"/demo/"), chromedp.WaitVisible(chromedp.CSS("#passenger")))
		b.waitJS("the booking page's script", `document.documentElement.lang === "en" && !!document.getElementById("client-line").textContent`, 10*time.Second)
		b.axe("the booking page")
		f := b.ask(issuer, p)
		b.axe("the embedded page's first step")
		otp := b.sendMobile(issuer, f, p, "embed-mobile-and-name")
		b.axe("the OTP step")
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
		b.axe("a wrong OTP")
		b.shot("embed-wrong-otp-tries-left")
		b.consent(f, otp, "", "embed-consent")
		b.result(p, "booking-verified-status-2")
		b.axe("the verified result")
		b.cheat("booking-server-refuses-cheats")
		b.axe("the cheats refused")
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
		b.axe("the inspector, a valid token")
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
		b.axe("an expired code")
		b.shot("embed-code-expired")
		b.do(chromedp.Click(chromedp.CSS("#change"), chromedp.FromNode(f)),
			chromedp.WaitVisible(chromedp.CSS("#send"), chromedp.FromNode(f)),
			chromedp.Click(chromedp.CSS("#send"), chromedp.FromNode(f)),
			chromedp.WaitVisible(chromedp.CSS("#error"), chromedp.FromNode(f)))
		msg := get(b, chromedp.Text(chromedp.CSS("#error"), chromedp.FromNode(f)))
		if !regexp.MustCompile(`^Too many requests\. Please wait 0:[0-5]\d and try again\.$`).MatchString(msg) {
			t.Fatalf("a second code within the minute shows %q", msg)
		}
		b.axe("too many requests")
		b.shot("embed-too-many-requests")
	})

	t.Run("refusals explained in the page", func(t *testing.T) {
		b.t = t
		testRefusals(t, b, iss, demo)
	})

	t.Run("static host", func(t *testing.T) {
		b.t = t
		testStaticHost(t, b, iss)
	})

	t.Run("KYCVS_ADDR moves the demo", func(t *testing.T) {
		b.t = t
		testMovedDemo(t, b, bin)
	})

	t.Run("Hindi", func(t *testing.T) {
		b.t = t
		testHindi(t, b, iss)
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
		testPhone(t, b, iss)
	})
	if !t.Failed() {
		t.Logf("axe checked %d pages and steps: no WCAG 2.1 A/AA violation", b.axeChecked)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
