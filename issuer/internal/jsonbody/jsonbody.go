// Package jsonbody reads the issuer's JSON request bodies strictly: the
// Content-Type is application/json (charset, if given, utf-8), the body is
// one JSON object no larger than a limit, its member names are spelled
// exactly as expected (no case folding), none appears twice, none is
// unknown, and each has the expected type. Errors speak of the body's
// members, never of Go types.
package jsonbody

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/kycvs/kycvs/internal/strictjson"
)

// Kind is the JSON type a member must have.
type Kind uint8

// Member kinds.
const (
	String Kind = iota
	Bool
)

// Field is one member a body may have.
type Field struct {
	Name string
	Kind Kind
}

// Error is a refused body: Status is 400, 413 or 415.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Object is a decoded body: the members present, by name.
type Object map[string]strictjson.Value

// String returns the string member name and whether it was present.
func (o Object) String(name string) (string, bool) {
	v, ok := o[name]
	return v.Str, ok
}

// Bool returns the boolean member name and whether it was present.
func (o Object) Bool(name string) (bool, bool) {
	v, ok := o[name]
	return v.Bool, ok
}

// Read reads r's body, at most max bytes, as an object with members among
// fields.
func Read(w http.ResponseWriter, r *http.Request, max int64, fields ...Field) (Object, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if cs, ok := params["charset"]; err != nil || mt != "application/json" || (ok && !strings.EqualFold(cs, "utf-8")) {
		return nil, &Error{415, "the body must be JSON, sent with Content-Type: application/json"}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{413, fmt.Sprintf("request body larger than %d bytes", max)}
		}
		return nil, &Error{400, "the body could not be read"}
	}
	return Decode(data, fields...)
}

// Decode decodes data as an object with members among fields.
func Decode(data []byte, fields ...Field) (Object, error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, &Error{400, "body: not valid JSON: " + err.Error()}
	}
	if v.Kind != strictjson.Object {
		return nil, &Error{400, "body: want a JSON object"}
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = `"` + f.Name + `"`
	}
	o := make(Object, len(v.Members))
	for _, m := range v.Members {
		var f *Field
		for i := range fields {
			if fields[i].Name == m.Name {
				f = &fields[i]
			}
		}
		if f == nil {
			return nil, &Error{400, fmt.Sprintf("body: unknown member %q (the members are %s)", m.Name, strings.Join(names, ", "))}
		}
		switch {
		case f.Kind == String && m.Value.Kind != strictjson.String:
			return nil, &Error{400, fmt.Sprintf("body: %q must be a string", m.Name)}
		case f.Kind == Bool && m.Value.Kind != strictjson.Bool:
			return nil, &Error{400, fmt.Sprintf("body: %q must be true or false", m.Name)}
		}
		o[m.Name] = m.Value
	}
	return o, nil
}
