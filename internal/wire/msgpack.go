package wire

// A small, strict MessagePack reader: just what DecodeClaims needs. It is
// written here rather than taken from the msgp runtime because that runtime
// brings fmt, reflect and encoding/json into the WebAssembly verifier (a
// quarter of its compressed size). Every read checks the declared length
// against the input that remains before it slices anything.

type mpType uint8

const (
	mpInvalid mpType = iota // no input, or the never-used byte 0xc1
	mpNil
	mpBool
	mpInt  // positive and negative fixint, int 8/16/32/64
	mpUint // uint 8/16/32/64
	mpFloat
	mpStr
	mpBin
	mpArray
	mpMap
	mpExt
)

// maxSkipDepth bounds the nesting of unknown values that mpSkip walks.
const maxSkipDepth = 64

// mpTypeOf returns the type of the value that starts b.
func mpTypeOf(b []byte) mpType {
	if len(b) == 0 {
		return mpInvalid
	}
	switch c := b[0]; {
	case c <= 0x7f || c >= 0xe0:
		return mpInt
	case c <= 0x8f:
		return mpMap
	case c <= 0x9f:
		return mpArray
	case c <= 0xbf:
		return mpStr
	}
	switch b[0] {
	case 0xc0:
		return mpNil
	case 0xc2, 0xc3:
		return mpBool
	case 0xc4, 0xc5, 0xc6:
		return mpBin
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return mpExt
	case 0xca, 0xcb:
		return mpFloat
	case 0xcc, 0xcd, 0xce, 0xcf:
		return mpUint
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return mpInt
	case 0xd9, 0xda, 0xdb:
		return mpStr
	case 0xdc, 0xdd:
		return mpArray
	case 0xde, 0xdf:
		return mpMap
	}
	return mpInvalid
}

// mpHead reads the head of the value that starts b: hdr is the number of
// bytes before its payload, n the payload's length in bytes (str, bin, ext,
// numbers) or its count of entries (array: items, map: pairs).
func mpHead(b []byte) (hdr int, n uint64, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 1, 0, true
	case c <= 0x8f:
		return 1, uint64(c & 0x0f), true
	case c <= 0x9f:
		return 1, uint64(c & 0x0f), true
	case c <= 0xbf:
		return 1, uint64(c & 0x1f), true
	}
	// be reads an n-byte big-endian length after the first byte.
	be := func(w int) (int, uint64, bool) {
		if len(b) < 1+w {
			return 0, 0, false
		}
		var v uint64
		for _, x := range b[1 : 1+w] {
			v = v<<8 | uint64(x)
		}
		return 1 + w, v, true
	}
	switch c {
	case 0xc4, 0xd9: // bin 8, str 8
		return be(1)
	case 0xc5, 0xda, 0xdc, 0xde: // bin 16, str 16, array 16, map 16
		return be(2)
	case 0xc6, 0xdb, 0xdd, 0xdf: // bin 32, str 32, array 32, map 32
		return be(4)
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32: length, then a type byte
		h, v, ok := be(1 << (c - 0xc7))
		if !ok || len(b) < h+1 {
			return 0, 0, false
		}
		return h + 1, v, true
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16: a type byte
		if len(b) < 2 {
			return 0, 0, false
		}
		return 2, 1 << (c - 0xd4), true
	case 0xca, 0xd2, 0xce: // float 32, int 32, uint 32
		return 1, 4, true
	case 0xcb, 0xd3, 0xcf: // float 64, int 64, uint 64
		return 1, 8, true
	case 0xcc, 0xd0: // uint 8, int 8
		return 1, 1, true
	case 0xcd, 0xd1: // uint 16, int 16
		return 1, 2, true
	}
	return 0, 0, false // 0xc1
}

// mpMapHeader reads a map head and returns its count of pairs.
func mpMapHeader(b []byte) (uint64, []byte, bool) {
	if mpTypeOf(b) != mpMap {
		return 0, b, false
	}
	h, n, ok := mpHead(b)
	if !ok {
		return 0, b, false
	}
	return n, b[h:], true
}

// mpBytes reads a str or bin and returns its payload without copying.
func mpBytes(b []byte) ([]byte, []byte, bool) {
	h, n, ok := mpHead(b)
	if !ok || n > uint64(len(b)-h) {
		return nil, b, false
	}
	end := h + int(n)
	return b[h:end], b[end:], true
}

// mpNumber reads the big-endian payload of an int or uint head.
func mpNumber(b []byte) (h int, v uint64, rest []byte, ok bool) {
	h, n, ok := mpHead(b)
	if !ok {
		return 0, 0, b, false
	}
	if h == 1 && n == 0 { // fixint: the value is the byte
		return 1, uint64(b[0]), b[1:], true
	}
	if n > uint64(len(b)-h) {
		return 0, 0, b, false
	}
	for _, x := range b[h : h+int(n)] {
		v = v<<8 | uint64(x)
	}
	return h, v, b[h+int(n):], true
}

// mpInt64 reads a signed integer (mpTypeOf == mpInt).
func mpInt64(b []byte) (int64, []byte, bool) {
	_, v, rest, ok := mpNumber(b)
	if !ok {
		return 0, b, false
	}
	switch c := b[0]; {
	case c >= 0xe0:
		return int64(int8(c)), rest, true
	case c == 0xd0:
		return int64(int8(v)), rest, true
	case c == 0xd1:
		return int64(int16(v)), rest, true
	case c == 0xd2:
		return int64(int32(v)), rest, true
	}
	return int64(v), rest, true // positive fixint, int 64
}

// mpUint64 reads an unsigned integer (mpTypeOf == mpUint).
func mpUint64(b []byte) (uint64, []byte, bool) {
	_, v, rest, ok := mpNumber(b)
	return v, rest, ok
}

// mpSkip skips one well-formed value of any type, nested at most
// maxSkipDepth deep.
func mpSkip(b []byte, depth int) ([]byte, bool) {
	if depth > maxSkipDepth {
		return b, false
	}
	t := mpTypeOf(b)
	h, n, ok := mpHead(b)
	if t == mpInvalid || !ok {
		return b, false
	}
	rest := b[h:]
	switch t {
	case mpMap, mpArray:
		if t == mpMap {
			n *= 2
		}
		if n > uint64(len(rest)) { // every item takes at least a byte
			return b, false
		}
		for i := uint64(0); i < n; i++ {
			if rest, ok = mpSkip(rest, depth+1); !ok {
				return b, false
			}
		}
		return rest, true
	case mpNil, mpBool:
		return rest, true
	}
	if h == 1 && n == 0 && t == mpInt { // fixint
		return rest, true
	}
	if n > uint64(len(rest)) {
		return b, false
	}
	return rest[n:], true
}
