package issuer

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	reg           *prometheus.Registry
	otpSent       *prometheus.CounterVec // result: sent, failed
	confirmations *prometheus.CounterVec // outcome
	tokens        *prometheus.CounterVec // status
	rateLimited   *prometheus.CounterVec // limit
	receipts      *prometheus.CounterVec // result
	registryReads prometheus.Counter
	latency       *prometheus.HistogramVec // route, code
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.otpSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycvs_otp_sent_total", Help: "OTP messages handed to the sender, by result.",
	}, []string{"result"})
	m.confirmations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycvs_confirmations_total", Help: "OTP confirmations, by outcome.",
	}, []string{"outcome"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycvs_tokens_issued_total", Help: "Signed status tokens returned, by status.",
	}, []string{"status"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycvs_rate_limited_total", Help: "Requests refused by a rate limit, by limit.",
	}, []string{"limit"})
	m.receipts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycvs_receipts_total", Help: "Disclosure receipts sent, by result.",
	}, []string{"result"})
	m.registryReads = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kycvs_registry_reads_total", Help: "Registry lookups: one for each confirmation whose OTP was right, none otherwise.",
	})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kycvs_http_request_duration_seconds",
		Help:    "HTTP request latency, by route and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "code"})
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kycvs_build_info", Help: "Build information.", ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	for _, s := range []string{"0", "1", "2"} {
		m.tokens.WithLabelValues(s)
	}
	// The process collector keeps the standard process_* names that
	// dashboards and alerts expect; only kycvs's own metrics carry kycvs_.
	m.reg.MustRegister(m.otpSent, m.confirmations, m.tokens, m.rateLimited, m.receipts, m.registryReads, m.latency, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
