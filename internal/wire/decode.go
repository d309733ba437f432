package wire

import "unicode/utf8"

// Limits of the claims map (SPEC.md §4).
const (
	MaxLifetime = 3600      // exp - iat, seconds
	MaxTime     = 1<<53 - 1 // iat and exp stay exact in a JavaScript number
	NmhSize     = 16
	MinNonce    = 8
	MaxNonce    = 128
)

// A ClaimsError says why a payload is not a valid claims map.
type ClaimsError string

func (e ClaimsError) Error() string { return string(e) }

// Key bits, for the required-keys and duplicate checks.
const (
	keyIss = 1 << iota
	keySub
	keyAud
	keyIat
	keyExp
	keyJti
	keyNonce
	keyVs
	keyNmh
	keysRequired = keyIss | keySub | keyAud | keyIat | keyExp | keyJti | keyNonce | keyVs
)

// DecodeClaims decodes b as exactly one MessagePack map of claims, strictly:
// non-empty UTF-8 string keys, no duplicate keys (known or unknown), every required key with
// its type (any integer width for int, never a float), non-empty UTF-8
// strings, vs in {0,1,2}, nmh exactly 16 bytes, 0 <= iat < exp <= iat+3600
// and both below 2^53, a well-formed nonce, and no trailing bytes. Unknown
// keys are skipped. Declared lengths are checked against the remaining input
// before anything is read, and nothing is allocated but the result.
func DecodeClaims(b []byte) (Claims, error) {
	var c Claims
	if mpTypeOf(b) != mpMap {
		return c, ClaimsError("payload is not a MessagePack map")
	}
	n, rest, ok := mpMapHeader(b)
	if !ok {
		return c, ClaimsError("truncated map header")
	}
	if n*2 > uint64(len(rest)) {
		return c, ClaimsError("map declares more entries than the payload holds")
	}
	var err error
	var seen uint32
	var unknown []string // copies, so that b never escapes
	for i := uint64(0); i < n; i++ {
		if mpTypeOf(rest) != mpStr {
			return c, ClaimsError("map key is not a string")
		}
		var key []byte
		if key, rest, ok = mpBytes(rest); !ok {
			return c, ClaimsError("truncated map key")
		}
		// Every key, known or unknown, is a non-empty UTF-8 string.
		if len(key) == 0 {
			return c, ClaimsError("empty map key")
		}
		if !utf8.Valid(key) {
			return c, ClaimsError("map key is not valid UTF-8")
		}
		bit := keyBit(key)
		if bit == 0 {
			for _, k := range unknown {
				if k == string(key) {
					return c, ClaimsError("duplicate key " + string(key))
				}
			}
			unknown = append(unknown, string(key))
			if rest, ok = mpSkip(rest, 0); !ok {
				return c, ClaimsError("truncated or invalid value of an unknown key")
			}
			continue
		}
		if seen&bit != 0 {
			return c, ClaimsError("duplicate key " + string(key))
		}
		seen |= bit
		switch bit {
		case keyIss:
			c.Iss, rest, err = readStr(rest, "iss")
		case keySub:
			c.Sub, rest, err = readStr(rest, "sub")
		case keyAud:
			c.Aud, rest, err = readStr(rest, "aud")
		case keyJti:
			c.Jti, rest, err = readStr(rest, "jti")
		case keyNonce:
			c.Nonce, rest, err = readStr(rest, "nonce")
		case keyIat:
			c.Iat, rest, err = readInt(rest, "iat")
		case keyExp:
			c.Exp, rest, err = readInt(rest, "exp")
		case keyVs:
			c.Vs, rest, err = readInt(rest, "vs")
		case keyNmh:
			if mpTypeOf(rest) != mpBin {
				return c, ClaimsError("nmh is not bin")
			}
			var nmh []byte
			if nmh, rest, ok = mpBytes(rest); !ok {
				return c, ClaimsError("truncated nmh")
			}
			// Present means exactly 16 bytes: an empty bin is not "absent".
			if len(nmh) != NmhSize {
				return c, ClaimsError("nmh is not 16 bytes")
			}
			c.Nmh = append([]byte(nil), nmh...)
		}
		if err != nil {
			return c, err
		}
	}
	if len(rest) != 0 {
		return c, ClaimsError("trailing bytes after the claims map")
	}
	if seen&keysRequired != keysRequired {
		return c, ClaimsError("missing required key " + missing(seen))
	}
	return c, c.Check()
}

// Check applies the value rules of the claims map (everything but the
// encoding) to c. The signer runs it before signing, the decoder after
// decoding, so both sides hold the same rules.
func (c *Claims) Check() error {
	for _, f := range [...]struct{ name, v string }{{"iss", c.Iss}, {"sub", c.Sub}, {"aud", c.Aud}, {"jti", c.Jti}, {"nonce", c.Nonce}} {
		if f.v == "" {
			return ClaimsError(f.name + " is empty")
		}
		if !utf8.ValidString(f.v) {
			return ClaimsError(f.name + " is not valid UTF-8")
		}
	}
	if !ValidNonce(c.Nonce) {
		return ClaimsError("nonce is not 8-128 characters of [A-Za-z0-9_-]")
	}
	if c.Vs < 0 || c.Vs > 2 {
		return ClaimsError("vs is not 0, 1 or 2")
	}
	if c.Iat < 0 || c.Iat > MaxTime || c.Exp < 0 || c.Exp > MaxTime {
		return ClaimsError("iat or exp out of range")
	}
	if c.Exp <= c.Iat || c.Exp-c.Iat > MaxLifetime {
		return ClaimsError("exp is not within (iat, iat+3600]")
	}
	if c.Nmh != nil && len(c.Nmh) != NmhSize {
		return ClaimsError("nmh is not 16 bytes")
	}
	return nil
}

// ValidNonce reports whether s is 8–128 characters of [A-Za-z0-9_-].
func ValidNonce(s string) bool {
	if len(s) < MinNonce || len(s) > MaxNonce {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func keyBit(k []byte) uint32 {
	switch string(k) {
	case "iss":
		return keyIss
	case "sub":
		return keySub
	case "aud":
		return keyAud
	case "iat":
		return keyIat
	case "exp":
		return keyExp
	case "jti":
		return keyJti
	case "nonce":
		return keyNonce
	case "vs":
		return keyVs
	case "nmh":
		return keyNmh
	}
	return 0
}

func missing(seen uint32) string {
	for i, name := range [...]string{"iss", "sub", "aud", "iat", "exp", "jti", "nonce", "vs"} {
		if seen&(1<<i) == 0 {
			return name
		}
	}
	return ""
}

func readStr(b []byte, name string) (string, []byte, error) {
	if mpTypeOf(b) != mpStr {
		return "", b, ClaimsError(name + " is not a string")
	}
	s, rest, ok := mpBytes(b)
	if !ok {
		return "", b, ClaimsError("truncated " + name)
	}
	return string(s), rest, nil
}

func readInt(b []byte, name string) (int64, []byte, error) {
	switch mpTypeOf(b) {
	case mpInt:
		v, rest, ok := mpInt64(b)
		if !ok {
			return 0, b, ClaimsError("truncated " + name)
		}
		return v, rest, nil
	case mpUint:
		v, rest, ok := mpUint64(b)
		if !ok {
			return 0, b, ClaimsError("truncated " + name)
		}
		if v > MaxTime {
			return 0, b, ClaimsError(name + " out of range")
		}
		return int64(v), rest, nil
	}
	return 0, b, ClaimsError(name + " is not an integer")
}
