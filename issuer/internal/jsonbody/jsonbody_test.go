package jsonbody

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	fields := []Field{{"txn", String}, {"consent", Bool}}
	for body, want := range map[string]string{
		`{"txn":"x","consent":true}`: "",
		`{}`:                         "",
		`{"TXN":"x"}`:                `unknown member "TXN"`,
		`{"txn":"x","txn":"y"}`:      `duplicate member name "txn"`,
		`{"txn":1}`:                  `"txn" must be a string`,
		`{"consent":"yes"}`:          `"consent" must be true or false`,
		`{"other":null}`:             `unknown member "other"`,
		`[]`:                         "want a JSON object",
		`{"txn":"x"} {}`:             "trailing data",
		"{\"txn\":\"\xff\"}":         "invalid UTF-8",
	} {
		o, err := Decode([]byte(body), fields...)
		var je *Error
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", body, err)
		case want != "" && (!errors.As(err, &je) || je.Status != 400 || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", body, err, want)
		case want == "" && body != "{}":
			if v, ok := o.String("txn"); !ok || v != "x" {
				t.Errorf("%s: txn %q", body, v)
			}
			if v, ok := o.Bool("consent"); !ok || !v {
				t.Errorf("%s: consent %v", body, v)
			}
		}
	}
}

// FuzzDecode: any bytes are a body whose members are all allowed, each of
// its kind, or a 400 — never a panic, never an unknown member let through.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"txn":"x","consent":true}`, `{}`, `{"TXN":"x"}`, `{"txn":"x","txn":"y"}`, `{"t\u0078n":"x"}`, `[]`, `{"txn":"x"} {}`, "{\"txn\":\"\xff\"}", `{"consent":null}`} {
		f.Add([]byte(s))
	}
	fields := []Field{{"txn", String}, {"consent", Bool}}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := Decode(body, fields...)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) || je.Status != 400 {
				t.Fatalf("%q: %v, want a 400 *Error", body, err)
			}
			return
		}
		for name := range o {
			switch name {
			case "txn":
				if _, ok := o.String(name); !ok {
					t.Fatalf("%q: txn is not a string", body)
				}
			case "consent":
				if _, ok := o.Bool(name); !ok {
					t.Fatalf("%q: consent is not a bool", body)
				}
			default:
				t.Fatalf("%q: unknown member %q let through", body, name)
			}
		}
	})
}
