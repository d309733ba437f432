package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axe-core (demo/e2e/package.json; build.sh runs npm ci) checks pages for
// WCAG 2.1 A and AA violations. It runs in an isolated world of the frame
// (the page's CSP does not apply there and the page's scripts cannot see
// it), on the top document and on the embedded page.
var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

const axeRun = `axe.run(document, {
	runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
	resultTypes: ["violations"], iframes: false,
}).then((r) => r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " +
	v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | ")))`

func loadAxe(b *browser) string {
	axeOnce.Do(func() {
		var src []byte
		src, axeErr = os.ReadFile(filepath.Join(repoRoot(b.t), "demo", "e2e", "node_modules", "axe-core", "axe.min.js"))
		axeSrc = string(src)
	})
	if axeErr != nil {
		b.t.Fatalf("axe-core is missing (./build.sh test runs npm ci in demo/e2e): %v", axeErr)
	}
	return axeSrc
}

// axeIn runs axe in frame (the top document when frame is "") and returns
// its violations.
func (b *browser) axeIn(frame cdp.FrameID) []string {
	b.t.Helper()
	src := loadAxe(b)
	act := func(ctx context.Context, t *chromedp.Target) ([]string, error) {
		if frame == "" {
			tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return nil, err
			}
			frame = tree.FrameTree.Frame.ID
		}
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame, WorldName: "kycvs-axe"})
		if err != nil {
			return nil, err
		}
		yes := true
		if r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: src, ContextID: w.ExecutionContextID}); err != nil || r.ExceptionDetails != nil {
			if err == nil {
				err = &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails}
			}
			return nil, err
		}
		r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: axeRun, ContextID: w.ExecutionContextID, AwaitPromise: &yes, ReturnByValue: &yes})
		if err != nil {
			return nil, err
		}
		if r.ExceptionDetails != nil {
			return nil, &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails}
		}
		var out []string
		err = json.Unmarshal([]byte(r.Result.Value), &out)
		return out, err
	}
	return get(b, chromedp.Action[[]string](act))
}

// axe fails the test on any WCAG 2.1 A/AA violation in the page, and in the
// embedded page when it is open, or on a text missing from the page's
// language. Every call is one "page or step" checked.
func (b *browser) axe(what string) {
	b.t.Helper()
	b.do(chromedp.Sleep(100 * time.Millisecond)) // let the step's text settle
	var bad []string
	for _, v := range b.axeIn("") {
		bad = append(bad, "page: "+v)
	}
	if get(b, chromedp.Evaluate[bool](`(() => { const f = document.querySelector("`+frameSel+`");
		try { return !!f && !!f.contentDocument; } catch { return false; } })()`)) {
		for _, v := range b.axeIn(b.frame().FrameID) {
			bad = append(bad, "embedded page: "+v)
		}
	}
	// And no text is missing from the page's language: a missing key shows
	// as the key itself.
	for _, k := range get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-t]")].filter((e) => e.textContent === e.dataset.t).map((e) => e.dataset.t)`)) {
		bad = append(bad, "page: no text for "+k+" in "+get(b, chromedp.Evaluate[string](`document.documentElement.lang`)))
	}
	// In Hindi, every text is in Devanagari (but for names kept in English).
	for _, k := range get(b, chromedp.Evaluate[[]string](`document.documentElement.lang !== "hi" ? [] :
		[...document.querySelectorAll("[data-t]")].filter((e) => !/[\u0900-\u097F]/.test(e.textContent) && !["jwks", "jwksURL"].includes(e.dataset.t)).map((e) => e.dataset.t + ": " + e.textContent)`)) {
		bad = append(bad, "page: not in Hindi: "+k)
	}
	b.axeChecked++
	if len(bad) > 0 {
		b.t.Fatalf("axe (WCAG 2.1 A/AA), %s:\n%s", what, strings.Join(bad, "\n"))
	}
}
