//go:build js && wasm

package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// jsDo makes an outgoing request with the runtime's fetch, directly rather
// than through syumai/workers' fetch package, because that package converts
// headers by splitting every value at commas: a proxied
// "Set-Cookie: id=1; Expires=Wed, 21 Oct 2037 …" came back as two broken
// cookies. Here response headers are copied value by value (Set-Cookie
// through getSetCookie), request and response bodies stay JavaScript
// streams end to end, and redirects are not followed.
func jsDo(r *http.Request) (*http.Response, error) {
	headers := js.Global().Get("Headers").New()
	for k, vs := range r.Header {
		for _, v := range vs {
			headers.Call("append", k, v)
		}
	}
	init := js.Global().Get("Object").New()
	init.Set("method", r.Method)
	init.Set("headers", headers)
	init.Set("redirect", "manual")
	if r.Body != nil && r.Body != http.NoBody {
		if raw, ok := r.Body.(interface{ GetRawJSBody() js.Value }); ok {
			init.Set("body", raw.GetRawJSBody()) // the incoming request's own stream
		} else {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			a := js.Global().Get("Uint8Array").New(len(b))
			js.CopyBytesToJS(a, b)
			init.Set("body", a)
		}
	}
	// Invoke, not Call: under the stock shim js.Global() is a Proxy, and
	// fetch called with it as this throws "Illegal invocation".
	res, err := await(js.Global().Get("fetch").Invoke(r.URL.String(), init))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	it := res.Get("headers").Call("entries")
	for {
		next := it.Call("next")
		if next.Get("done").Bool() {
			break
		}
		kv := next.Get("value")
		k := kv.Index(0).String()
		if k == "set-cookie" {
			continue
		}
		h.Add(k, kv.Index(1).String())
	}
	if gsc := res.Get("headers").Get("getSetCookie"); gsc.Type() == js.TypeFunction {
		cs := res.Get("headers").Call("getSetCookie")
		for i := range cs.Length() {
			h.Add("Set-Cookie", cs.Index(i).String())
		}
	}
	cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil {
		cl = -1
	}
	return &http.Response{
		Status:        strconv.Itoa(res.Get("status").Int()) + " " + res.Get("statusText").String(),
		StatusCode:    res.Get("status").Int(),
		Header:        h,
		Body:          &jsBody{res: res},
		ContentLength: cl,
		Request:       r,
	}, nil
}

// jsBody is a fetch Response's body. Copied into syumai/workers'
// ResponseWriter (io.Copy uses WriteTo), the stream itself becomes the
// answer's body; read from Go (the key set), it is read whole.
type jsBody struct {
	res  js.Value
	buf  *bytes.Reader
	used bool
}

func (b *jsBody) WriteTo(w io.Writer) (int64, error) {
	if rw, ok := w.(interface{ WriteRawJSBody(js.Value) }); ok && b.buf == nil && !b.used {
		b.used = true
		rw.WriteRawJSBody(b.res.Get("body"))
		return 0, nil
	}
	return io.Copy(w, struct{ io.Reader }{b})
}

func (b *jsBody) Read(p []byte) (int, error) {
	if b.buf == nil {
		if b.used {
			return 0, errors.New("body already handed over")
		}
		b.used = true
		ab, err := await(b.res.Call("arrayBuffer"))
		if err != nil {
			return 0, err
		}
		u := js.Global().Get("Uint8Array").New(ab)
		data := make([]byte, u.Length())
		js.CopyBytesToGo(data, u)
		b.buf = bytes.NewReader(data)
	}
	return b.buf.Read(p)
}

func (b *jsBody) Close() error {
	if !b.used {
		b.used = true
		if body := b.res.Get("body"); !body.IsNull() && !body.IsUndefined() {
			body.Call("cancel")
		}
	}
	return nil
}

// await waits for a JavaScript promise.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	then.Release()
	catch.Release()
	return r.v, r.err
}
