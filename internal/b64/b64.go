// Package b64 is strict base64url without padding (RFC 4648 §5, RFC 7515
// §2): only the characters A–Z a–z 0–9 - _, no padding, no whitespace, no
// length of 1 mod 4, and zero unused bits in the last character, so that
// every byte string has exactly one accepted encoding.
package b64

import "encoding/base64"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xFF
	}
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// DecodedLen returns the length of the bytes an n-character encoding
// decodes to, or -1 if n is not a possible length.
func DecodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + [4]int{0, 0, 1, 2}[n%4]
}

// Decode decodes s into dst, which must hold at least DecodedLen(len(s))
// bytes. It returns the number of bytes written and false if s is not a
// canonical encoding.
func Decode[S ~string | ~[]byte](dst []byte, s S) (int, bool) {
	n := DecodedLen(len(s))
	if n < 0 || len(dst) < n {
		return 0, false
	}
	di, si := 0, 0
	for ; si+4 <= len(s); si += 4 {
		a, b, c, d := decodeMap[s[si]], decodeMap[s[si+1]], decodeMap[s[si+2]], decodeMap[s[si+3]]
		if a|b|c|d == 0xFF {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(s) - si {
	case 2:
		a, b := decodeMap[s[si]], decodeMap[s[si+1]]
		if a|b == 0xFF || b&0x0F != 0 {
			return 0, false
		}
		dst[di] = a<<2 | b>>4
		di++
	case 3:
		a, b, c := decodeMap[s[si]], decodeMap[s[si+1]], decodeMap[s[si+2]]
		if a|b|c == 0xFF || c&0x03 != 0 {
			return 0, false
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		dst[di], dst[di+1] = byte(v>>10), byte(v>>2)
		di += 2
	}
	return di, true
}

// DecodeString decodes s into a new slice.
func DecodeString(s string) ([]byte, bool) {
	n := DecodedLen(len(s))
	if n < 0 {
		return nil, false
	}
	dst := make([]byte, n)
	_, ok := Decode(dst, s)
	return dst, ok
}

// Valid reports whether s uses only the base64url alphabet.
func Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		if decodeMap[s[i]] == 0xFF {
			return false
		}
	}
	return true
}

// Encode returns the unpadded base64url encoding of b.
func Encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
