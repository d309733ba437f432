package main

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

// BenchmarkDecide is the Go side of the fast path for one request, without
// the shim: run it under GOOS=js GOARCH=wasm (go test -exec
// go_js_wasm_exec) to see what it costs in V8, as in workerd.
func BenchmarkDecide(b *testing.B) {
	// A token of the shared vectors (the signer is not in the js build).
	raw, err := os.ReadFile("../../testdata/vectors/ok-status-2.json")
	if err != nil {
		b.Fatal(err)
	}
	var v struct {
		JWKS, Issuer, Audience, Token string
		Now                           int64
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"KYCVS_ISSUER": v.Issuer, "KYCVS_AUDIENCE": v.Audience, "KYCVS_MIN_STATUS": "1",
		"KYCVS_JWKS": v.JWKS, "KYCVS_ORIGIN": "http://127.0.0.1:9/app", "KYCVS_REPLAY": "off"} // the same token again and again
	h := NewHandler(Platform{Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return time.Unix(v.Now, 0) }})
	tok := v.Token
	host := "127.0.0.1:8787"
	authz := "KYCVS " + tok
	for _, c := range []struct {
		name  string
		authz *string
		want  bool // forwarded
	}{{"no token", nil, false}, {"valid", &authz, true}} {
		q := FastRequest{Method: "GET", URL: "http://127.0.0.1:8787/bench", Host: &host, Authorization: c.authz}
		b.Run(c.name, func(b *testing.B) {
			var out []byte
			for b.Loop() {
				a := h.Decide(q)
				if a.Forward != c.want {
					b.Fatalf("%+v", a)
				}
				out = a.Encode(out[:0])
			}
		})
	}
	b.Run("WriteProblem", func(b *testing.B) {
		for b.Loop() {
			gate.WriteProblem(&recorder{header: http.Header{}}, 401, kycvs.CodeTokenMissing, "send a kycvs token", nil)
		}
	})
}
