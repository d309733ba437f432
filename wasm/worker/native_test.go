//go:build !js

package main

import (
	"bytes"
	"fmt"
	"net/http/httptest"
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
