package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e-3`, `"x"`,
		`{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00\n\"\\\/"}`,
		" \t\r\n{ \"a\" : 1 } \n",
	} {
		v, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var any any
		if err := json.Unmarshal([]byte(s), &any); err != nil {
			t.Fatalf("encoding/json rejects %q", s)
		}
		if v.Kind == String && v.Str != any.(string) {
			t.Fatalf("%q: %q vs %q", s, v.Str, any)
		}
	}
	v, _ := Parse([]byte(`{"c":"\u00e9\ud83d\ude00"}`))
	if v.Get("c").Str != "é😀" {
		t.Fatalf("got %q", v.Get("c").Str)
	}
}

func TestRejects(t *testing.T) {
	for _, s := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `+1`, `1e`, `tru`, `nul`,
		`{"a":1,"a":2}`,      // duplicate
		`{"a":1,"\u0061":2}`, // duplicate after unescaping
		`"\ud800"`,           // lone high surrogate
		`"\udc00"`,           // lone low surrogate
		`"\ud800\u0041"`,     // high surrogate and no low one
		"\"\xff\"",           // invalid UTF-8
		"\"a\nb\"",           // control character
		`"\x"`,               // bad escape
		`{} {}`,              // two values
		`{}x`,                // trailing data
		strings.Repeat("[", 33) + strings.Repeat("]", 33), // too deep
	} {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("[", 32) + strings.Repeat("]", 32))); err != nil {
		t.Errorf("32 levels rejected: %v", err)
	}
}

func TestManyMembersDuplicate(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 40; i++ {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	b.WriteString(`"kxxxxx":2}`) // a duplicate after the map takes over
	if _, err := Parse([]byte(b.String())); err == nil {
		t.Fatal("duplicate among many members accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"alg":"EdDSA","kid":"k","typ":"kycvs+msgpack"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := Parse([]byte(s)); err != nil {
			return
		}
		// What we accept, encoding/json accepts too (numbers kept as text,
		// as we keep them).
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("we accept %q, encoding/json: %v", s, err)
		}
	})
}
