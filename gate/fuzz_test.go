package gate

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzTokenOf: any Authorization and Cookie headers give a token only from
// the KYCVS scheme or the kycvs cookie, with no surrounding space, and
// stripping leaves no value naming the KYCVS scheme and no kycvs cookie
// behind, and every other cookie as it was.
func FuzzTokenOf(f *testing.F) {
	for _, s := range [][2]string{{"KYCVS a.b.c", ""}, {"kycvs  a.b.c ", "kycvs=x; a=b"}, {"Bearer x", "kycvs=y"}, {"KYCVS", ""}, {"", "kycvs="}, {"KYCVSa.b.c", "kycvs=1;kycvs=2"},
		{" KYCVS a.b.c", ""}, {" kYCvs", "0"}, {"KYCVS\ta.b.c", "note=x,s=y; kycvs=z"}, {"kycvs\u00a0a.b.c", "kycvs=z"}, {"KYCVS2 x", "a=1;kycvs=2;b=3"},
		{"\u212aYCVS a.b.c", "kycvs=z"}, {"Basic a2V5, KYCVS x", "0\f;kycvs"}, {"Bearer x\nKYCVS y", "a=1\nkycvs=2; b=3"},
		{`Digest username="a, KYCVS b"`, "a=b kycvs=c; \xa0kycvs=d; d=kycvs"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, auth, cookie string) {
		// "\n" separates header lines, as several lines of a request or the
		// pieces a Workers runtime's comma-split value arrives in.
		r, _ := http.NewRequest("GET", "http://gate.test/", nil)
		r.Header["Authorization"] = strings.Split(auth, "\n")
		r.Header["Cookie"] = strings.Split(cookie, "\n")
		tok, fromHeader := TokenOf(r)
		if fromHeader {
			// A line of the KYCVS scheme in ASCII letters, then a space,
			// a tab or the end, after any leading spaces and tabs.
			if !slices.ContainsFunc(r.Header["Authorization"], readsKYCVS.MatchString) || tok != strings.TrimSpace(tok) {
				t.Fatalf("token %q from Authorization %q", tok, auth)
			}
		}
		h := r.Header.Clone()
		stripToken(h)
		// No value that names the scheme is left, readable or not.
		for _, a := range h.Values("Authorization") {
			for e := range strings.SplitSeq(a, ",") {
				if namesKYCVS.MatchString(e) {
					t.Fatalf("KYCVS credentials left after stripping: %q", a)
				}
			}
		}
		// No new cookie is made (what Go reads after is what it read
		// before, less some), and every cookie with no "kycvs" in its name
		// or value is left as Go reads it.
		var before, after []string
		for _, c := range r.Cookies() {
			before = append(before, c.String())
		}
		for _, c := range (&http.Request{Header: h}).Cookies() {
			if c.Name == CookieName {
				t.Fatalf("kycvs cookie left after stripping %q: %q", cookie, h.Values("Cookie"))
			}
			after = append(after, c.String())
		}
		i := 0
		for _, b := range before {
			if i < len(after) && after[i] == b {
				i++
			} else if !strings.Contains(b, CookieName) {
				t.Fatalf("stripping %q: cookie %q lost (%q became %q)", cookie, b, before, after)
			}
		}
		if i != len(after) {
			t.Fatalf("stripping %q: cookies %q became %q", cookie, before, after)
		}
	})
}

// readsKYCVS matches an Authorization line the gate reads as credentials.
var readsKYCVS = regexp.MustCompile(`^[ \t]*[Kk][Yy][Cc][Vv][Ss]([ \t]|$)`)

// namesKYCVS matches an element of an Authorization list that names the
// KYCVS scheme after spaces and tabs, with Unicode case folding (Go's (?i)):
// part of what stripToken's namesScheme removes, written another way.
var namesKYCVS = regexp.MustCompile("(?i)^[ \t]*kycvs($|[^a-z0-9!#$%&'*+.^_`|~-])")
