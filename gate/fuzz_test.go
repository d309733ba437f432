package gate

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzTokenOf: any Authorization and Cookie headers give a token only from
// the KYCVS scheme or the kycvs cookie, with no surrounding space, and
// stripping leaves no KYCVS credentials and no kycvs cookie behind.
func FuzzTokenOf(f *testing.F) {
	for _, s := range [][2]string{{"KYCVS a.b.c", ""}, {"kycvs  a.b.c ", "kycvs=x; a=b"}, {"Bearer x", "kycvs=y"}, {"KYCVS", ""}, {"", "kycvs="}, {"KYCVSa.b.c", "kycvs=1;kycvs=2"},
		{" KYCVS a.b.c", ""}, {" kYCvs", "0"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, auth, cookie string) {
		r, _ := http.NewRequest("GET", "http://gate.test/", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("Cookie", cookie)
		tok, fromHeader := TokenOf(r)
		if fromHeader {
			// Leading spaces are skipped (a value split off a joined line).
			scheme, _, _ := strings.Cut(strings.TrimLeft(auth, " \t"), " ")
			if !strings.EqualFold(scheme, Scheme) || tok != strings.TrimSpace(tok) {
				t.Fatalf("token %q from Authorization %q", tok, auth)
			}
		}
		h := r.Header.Clone()
		stripToken(h)
		for _, a := range h.Values("Authorization") {
			if _, ok := credentials(a); ok {
				t.Fatalf("KYCVS credentials left after stripping: %q", a)
			}
		}
		r2 := &http.Request{Header: h}
		for _, c := range r2.Cookies() {
			if c.Name == CookieName {
				t.Fatalf("kycvs cookie left after stripping %q: %q", cookie, h.Get("Cookie"))
			}
		}
	})
}
