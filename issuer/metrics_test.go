package issuer

import (
	"strings"
	"testing"
)

// TestProcessMetricNames: the process collector uses the standard names
// (process_cpu_seconds_total, …), not kycvs_process_*.
func TestProcessMetricNames(t *testing.T) {
	mfs, err := newMetrics().reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if strings.HasPrefix(mf.GetName(), "kycvs_process_") || strings.HasPrefix(mf.GetName(), "kycvs_go_") {
			t.Errorf("non-standard runtime metric name %s", mf.GetName())
		}
	}
	for _, n := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines", "kycvs_build_info"} {
		if !names[n] {
			t.Errorf("no metric %s", n)
		}
	}
}
