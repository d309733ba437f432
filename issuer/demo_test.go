package issuer

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestDemoOrigins(t *testing.T) {
	for _, tc := range []struct {
		issuer string
		want   []string
	}{
		{"http://127.0.0.1:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080"}},
		{"http://localhost:9000/", []string{"http://localhost:9000", "http://127.0.0.1:9000"}},
		{"http://LOCALHOST", []string{"http://localhost", "http://127.0.0.1"}},
		{"https://issuer.example", []string{"https://issuer.example"}},
		{"https://issuer.example:443/base", []string{"https://issuer.example"}},
		{"not a url", nil},
		{"", nil},
	} {
		if got := DemoOrigins(tc.issuer); !slices.Equal(got, tc.want) {
			t.Errorf("DemoOrigins(%q) = %q, want %q", tc.issuer, got, tc.want)
		}
	}
}

// An old data directory made for another address: every start puts the
// demo client's origins in step with the issuer URL it starts with.
func TestSeedDemoResyncsOrigins(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	key, err := SeedDemo(ctx, st, "http://127.0.0.1:8080", time.Unix(1e9, 0))
	if err != nil || key == "" {
		t.Fatalf("first seed: key %q, %v", key, err)
	}
	key, err = SeedDemo(ctx, st, "http://127.0.0.1:9000", time.Unix(1e9, 0))
	if err != nil || key != "" {
		t.Fatalf("second seed: key %q, %v", key, err)
	}
	c, err := st.Client(ctx, DemoClientID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:9000", "http://localhost:9000"}; !slices.Equal(c.Origins, want) {
		t.Fatalf("demo client origins after a restart on :9000: %q, want %q", c.Origins, want)
	}
}
