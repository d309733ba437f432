// Package wire holds the token's wire format: the MessagePack claims map
// (generated encoder, strict hand-checked decoder) and the JWS header.
package wire

// The generated encoder is for the signer only: it is built with !js so that
// the msgp runtime (and the fmt, reflect and encoding/json it brings) stays
// out of the WebAssembly verifier, which decodes with msgpack.go.
//go:generate go tool msgp -file claims.go -o claims_gen.go -io=false -tests=false
//go:generate sed -i -e "1s|^|//go:build !js\\n\\n|" claims_gen.go

// Claims is the MessagePack payload of a token. Its generated MarshalMsg
// writes the map the signer signs; DecodeClaims reads it strictly.
type Claims struct {
	Iss   string `msg:"iss"`
	Sub   string `msg:"sub"`
	Aud   string `msg:"aud"`
	Iat   int64  `msg:"iat"`
	Exp   int64  `msg:"exp"`
	Jti   string `msg:"jti"`
	Nonce string `msg:"nonce"`
	Vs    int64  `msg:"vs"`
	Nmh   []byte `msg:"nmh,omitempty"`
}
