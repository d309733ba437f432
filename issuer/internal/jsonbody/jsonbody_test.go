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
