//go:build !js

package main

import (
	"net/http/httptest"
	"testing"
)

// startNative serves the handler with net/http, as the !js build does.
func startNative(t *testing.T, env map[string]string) string {
	p := nativePlatform()
	p.Getenv = func(k string) string { return env[k] }
	srv := httptest.NewServer(NewHandler(p))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestNativePinned(t *testing.T)      { runPinnedCases(t, newFixture(t), startNative) }
func TestNativeConfig(t *testing.T)      { runConfigCases(t, newFixture(t), startNative) }
func TestNativeRotation(t *testing.T)    { runRotationCase(t, newFixture(t), startNative) }
func TestNativeStale(t *testing.T)       { t.Parallel(); runStaleCase(t, newFixture(t), startNative) }
func TestNativeUnreachable(t *testing.T) { runUnreachableCase(t, newFixture(t), startNative) }
