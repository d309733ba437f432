package gate

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/kycvs/kycvs"
)

// TestProblemJSONIsMarshal: WriteProblem's own encoder writes exactly what
// json.Marshal of the same map writes, for details and extras that need
// escaping and for members that are neither strings nor ints.
func TestProblemJSONIsMarshal(t *testing.T) {
	details := []string{"", "plain detail", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\x00\x1f\x7f\b\f\r\x01",
		"invalid \xff\xfe utf-8", "line\u2028para\u2029", "unicode é ✓ 😀", "KYCVS realm=\"kycvs\""}
	extras := []map[string]any{nil, {"vaccination_status": 0, "min_status": 2}, {"code": "taken", "zeta": "<z>", "a\u2028": -7},
		{"nested": map[string]any{"x": 1}}, {"float": 1.5}, {"list": []int{1, 2}}}
	for c := range 0x80 { // every ASCII byte
		details = append(details, "a"+string(rune(c))+"z")
	}
	for _, d := range details {
		for _, e := range extras {
			w := httptest.NewRecorder()
			WriteProblem(w, 418, kycvs.CodeStatusLow, d, e)
			body := map[string]any{"type": "about:blank", "title": "I'm a teapot", "status": 418, "code": string(kycvs.CodeStatusLow), "detail": d}
			for k, v := range e {
				if _, taken := body[k]; !taken {
					body[k] = v
				}
			}
			want, _ := json.Marshal(body)
			if got := w.Body.String(); got != string(want) {
				t.Errorf("detail %q extra %v:\n got %s\nwant %s", d, e, got, want)
			}
		}
	}
}
