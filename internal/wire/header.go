package wire

import (
	"errors"

	"github.com/kycvs/kycvs/internal/strictjson"
)

// Header is the JWS protected header of a token.
type Header struct {
	Alg, Kid, Typ string
}

// TokenType is the typ every token carries, compared exactly.
const TokenType = "kycvs+msgpack"

// ParseHeader parses the decoded protected header: a JSON object with
// exactly the members alg, kid and typ, each a string, in any order, no
// duplicates and nothing else.
func ParseHeader(b []byte) (Header, error) {
	v, err := strictjson.Parse(b)
	if err != nil {
		return Header{}, err
	}
	if v.Kind != strictjson.Object || len(v.Members) != 3 {
		return Header{}, errors.New("header is not an object of exactly alg, kid and typ")
	}
	var h Header
	for _, m := range v.Members {
		if m.Value.Kind != strictjson.String {
			return Header{}, errors.New("header member " + m.Name + " is not a string")
		}
		switch m.Name {
		case "alg":
			h.Alg = m.Value.Str
		case "kid":
			h.Kid = m.Value.Str
		case "typ":
			h.Typ = m.Value.Str
		default:
			return Header{}, errors.New("header has a member other than alg, kid and typ")
		}
	}
	return h, nil
}
