// Command consumer is a program outside the kycvs repository that uses it
// as people do: the module through a go.mod replace, the remote key set,
// the remote verifier and the gate middleware. The e2e test writes tokens
// and nonces on its stdin, one pair a line, and reads one answer a line.
//
//	consumer verify JWKS_URL ISSUER AUDIENCE   → "ok STATUS KID" or "fail CODE"; at EOF "fetches N"
//	consumer gate JWKS_URL ISSUER AUDIENCE MIN → "HTTP_STATUS CODE_OR_STATUS"
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/gate"
)

func main() {
	mode, jwksURL, issuer, audience := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	keys, err := kycvs.NewRemoteKeySet(jwksURL)
	if err != nil {
		panic(err)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 8192), 8192)
	switch mode {
	case "verify":
		v, err := kycvs.NewRemoteVerifier(keys, issuer, audience)
		if err != nil {
			panic(err)
		}
		for in.Scan() {
			token, nonce, _ := strings.Cut(in.Text(), " ")
			tok, err := v.Verify(context.Background(), token, nonce)
			if err != nil {
				fmt.Println("fail", kycvs.CodeOf(err), err)
				continue
			}
			fmt.Println("ok", int(tok.Status), tok.KeyID)
		}
		fmt.Println("fetches", keys.Fetches())
	case "gate":
		min, _ := strconv.Atoi(os.Args[5])
		g, err := gate.New(gate.Config{Issuer: issuer, Audience: audience, Remote: keys,
			MinStatus: kycvs.Status(min), AdmitAnyStatus: min == 0})
		if err != nil {
			panic(err)
		}
		app := httptest.NewServer(g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := gate.TokenFrom(r.Context())
			if tok.Nonce != r.URL.Query().Get("nonce") { // the gate cannot check it; the application does
				http.Error(w, "nonce", http.StatusForbidden)
				return
			}
			w.Write([]byte(r.Header.Get(gate.StatusHeader)))
		})))
		defer app.Close()
		for in.Scan() {
			token, nonce, _ := strings.Cut(in.Text(), " ")
			req, _ := http.NewRequest("GET", app.URL+"/book?nonce="+nonce, nil)
			if token != "-" {
				req.Header.Set("Authorization", "KYCVS "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				panic(err)
			}
			var body struct{ Code string }
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			answer := strings.TrimSpace(string(raw))
			if json.Unmarshal(raw, &body) == nil && body.Code != "" {
				answer = body.Code
			}
			fmt.Println(res.StatusCode, answer)
		}
	}
}
