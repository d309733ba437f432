// Package wire holds the token's wire format: the MessagePack claims map
// (generated encoder, strict hand-checked decoder) and the JWS header.
package wire

//go:generate go run github.com/tinylib/msgp -file claims.go -o claims_gen.go -io=false -tests=false

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
