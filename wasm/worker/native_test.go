//go:build !js

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// startNative serves the handler with net/http, as the !js build does.
func startNative(t *testing.T, env map[string]string) string {
	p := nativePlatform()
	p.Getenv = func(k string) string { return env[k] }
	var mu sync.Mutex
	var logs bytes.Buffer
	p.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&logs, format+"\n", args...)
	}
	srv := httptest.NewServer(NewHandler(p))
	t.Cleanup(srv.Close)
	serverLogs.Store(srv.URL, func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	})
	t.Cleanup(func() { serverLogs.Delete(srv.URL) })
	return srv.URL
}

func TestNativePinned(t *testing.T)      { runPinnedCases(t, newFixture(t), startNative) }
func TestNativeConfig(t *testing.T)      { runConfigCases(t, newFixture(t), startNative) }
func TestNativeRotation(t *testing.T)    { runRotationCase(t, newFixture(t), startNative) }
func TestNativeStale(t *testing.T)       { t.Parallel(); runStaleCase(t, newFixture(t), startNative) }
func TestNativeUnreachable(t *testing.T) { runUnreachableCase(t, newFixture(t), startNative) }

// TestOriginFailure: what the log says of a failed origin request keeps
// neither the client's path nor its query, whether the error is Go's (a
// *url.Error naming the URL) or a runtime's message quoting it.
func TestOriginFailure(t *testing.T) {
	const target = "https://origin.example/app/9876543210?name=Asha"
	for _, err := range []error{
		&url.Error{Op: "Get", URL: target, Err: errors.New("dial tcp: connection refused")},
		errors.New("TypeError: Fetch API cannot load: " + target),
	} {
		if got := originFailure(err, target); strings.Contains(got, "9876543210") || strings.Contains(got, "Asha") {
			t.Errorf("%v: logged as %q", err, got)
		}
	}
}
