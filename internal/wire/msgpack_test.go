package wire

import (
	"math"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// The reader agrees with the msgp runtime (the library the encoder comes
// from) on what one value is and where it ends.
func FuzzSkipAgreesWithMsgp(f *testing.F) {
	seeds := [][]byte{
		msgp.AppendMapStrStr(nil, map[string]string{"a": "b"}),
		msgp.AppendInt64(nil, math.MinInt64),
		msgp.AppendUint64(nil, math.MaxUint64),
		msgp.AppendFloat32(nil, 1.5),
		msgp.AppendBytes(nil, make([]byte, 300)),
		msgp.AppendString(nil, string(make([]byte, 70000))),
		{0xc7, 3, 5, 1, 2, 3}, // ext 8
		{0xd4, 1, 2}, {0xc1}, {0xdf, 0xff, 0xff, 0xff, 0xff},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, ok := mpSkip(b, 0)
		theirs, err := msgp.Skip(b)
		if !ok {
			return // stricter is allowed (depth limit, 0xc1)
		}
		if err != nil {
			t.Fatalf("%x: we skip, msgp: %v", b, err)
		}
		if len(ours) != len(theirs) {
			t.Fatalf("%x: we leave %d bytes, msgp %d", b, len(ours), len(theirs))
		}
	})
}

func TestIntegersAgreeWithMsgp(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64} {
		b := msgp.AppendInt64(nil, v)
		if mpTypeOf(b) != mpInt {
			t.Fatalf("%d: type %d", v, mpTypeOf(b))
		}
		got, rest, ok := mpInt64(b)
		if !ok || got != v || len(rest) != 0 {
			t.Fatalf("%d: got %d %v", v, got, ok)
		}
	}
	for _, v := range []uint64{0, 200, 60000, 1 << 31, 1 << 40, math.MaxUint64} {
		b := msgp.AppendUint64(nil, v)
		var got uint64
		var ok bool
		switch mpTypeOf(b) {
		case mpUint:
			got, _, ok = mpUint64(b)
		case mpInt: // msgp writes small values as fixint
			var i int64
			i, _, ok = mpInt64(b)
			got = uint64(i)
		}
		if !ok || got != v {
			t.Fatalf("%d: got %d", v, got)
		}
	}
}

func TestTruncatedHeads(t *testing.T) {
	for _, b := range [][]byte{{}, {0xd9}, {0xda, 0}, {0xdb, 0, 0, 0}, {0xc7}, {0xc7, 1}, {0xcf, 1, 2}, {0xa3, 'a'}} {
		if _, ok := mpSkip(b, 0); ok {
			t.Errorf("%x skipped", b)
		}
	}
}
