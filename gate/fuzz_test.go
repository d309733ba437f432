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
		{" KYCVS a.b.c", ""}, {" kYCvs", "0"}, {"KYCVS\ta.b.c", "note=x,s=y; kycvs=z"}, {"kycvs\u00a0a.b.c", "kycvs=z"}, {"KYCVS2 x", "a=1;kycvs=2;b=3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, auth, cookie string) {
		r, _ := http.NewRequest("GET", "http://gate.test/", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("Cookie", cookie)
		tok, fromHeader := TokenOf(r)
		if fromHeader {
			// Leading spaces are skipped (a value split off a joined line);
			// the scheme ends at a space or a tab.
			scheme := strings.FieldsFunc(auth, func(r rune) bool { return r == ' ' || r == '\t' })
			if len(scheme) == 0 || !strings.EqualFold(scheme[0], Scheme) || tok != strings.TrimSpace(tok) {
				t.Fatalf("token %q from Authorization %q", tok, auth)
			}
		}
		h := r.Header.Clone()
		stripToken(h)
		// No value that names the scheme is left, readable or not.
		for _, a := range h.Values("Authorization") {
			if namesKYCVS.MatchString(a) {
				t.Fatalf("KYCVS credentials left after stripping: %q", a)
			}
		}
		// Every other cookie is left as Go reads it, and no new one made.
		var before, after []string
		for _, c := range r.Cookies() {
			if c.Name != CookieName {
				before = append(before, c.String())
			}
		}
		for _, c := range (&http.Request{Header: h}).Cookies() {
			if c.Name == CookieName {
				t.Fatalf("kycvs cookie left after stripping %q: %q", cookie, h.Get("Cookie"))
			}
			after = append(after, c.String())
		}
		if !slices.Equal(before, after) {
			t.Fatalf("stripping %q: cookies %q became %q", cookie, before, after)
		}
	})
}

// namesKYCVS matches an Authorization value that names the KYCVS scheme:
// the oracle of stripToken's namesScheme, written another way.
var namesKYCVS = regexp.MustCompile("(?i)^[ \t]*kycvs($|[^a-z0-9!#$%&'*+.^_`|~-])")
