package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

	"github.com/kycvs/kycvs/issuer"
)

func init() {
	register("serve", command{
		summary:  "run the issuer (HTTP API, OTP and consent flow, JWKS)",
		synopsis: "--addr 127.0.0.1:8080 --data DIR --issuer URL [--sms log|webhook] [--sms-webhook URL] [--postgres URL] [--demo]",
		run:      runServe,
	})
}

// runServe runs the issuer until SIGINT or SIGTERM, then shuts down
// gracefully (in-flight requests get 10 s). Logs are JSON on stderr; the
// first line with msg "listening" carries the bound address.
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0: any free port, logged)")
	data := fs.String("data", "", "data directory of the embedded store")
	iss := fs.String("issuer", "", "issuer identifier: the base URL, the iss of every token")
	sms := fs.String("sms", "log", "OTP sender: log (development only) or webhook")
	hook := fs.String("sms-webhook", "", "URL the webhook sender POSTs {\"to\",\"text\"} to")
	postgres := fs.String("postgres", "", "PostgreSQL URL (instead of --data)")
	demo := fs.Bool("demo", false, "seed demo records and the demo client, serve demo/ at /demo/ and the SMS inbox at /demo/inbox")
	demoDir := fs.String("demo-dir", "demo", "directory served at /demo/ with --demo")
	tokenTTL := fs.Duration("token-ttl", 5*time.Minute, "token lifetime (at most 1h)")
	otpTTL := fs.Duration("otp-ttl", 3*time.Minute, "OTP lifetime (at most 10m)")
	maxAge := fs.Duration("jwks-max-age", 5*time.Minute, "JWKS Cache-Control max-age; key rotation waits this long")
	rateIP := fs.Int("rate-ip", 600, "OTP requests per browser IP per minute on the embed page (-1: no limit)")
	rateClient := fs.Int("rate-client", 60000, "OTP requests per verifying entity per minute (-1: no limit)")
	cooldown := fs.Duration("otp-cooldown", 60*time.Second, "minimum time between two OTPs to one mobile from one source (0: none, for tests; 10s by default with --demo, whose family shares one number)")
	perDay := fs.Int("otp-per-day", 20, "OTPs per mobile per 24 h over all sources (one back every 24h/N)")
	perSource := fs.Int("otp-per-source", 5, "OTPs per mobile per day from one source: one API client, or one address on the embed page (one back every 24h/N)")
	proxies := fs.String("trusted-proxies", "", "CIDR[,CIDR...] of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (default: none)")
	metricsAddr := fs.String("metrics-addr", "", "private listen address for /metrics (off unless set; the public listener never serves it)")
	maxConns := fs.Int("max-conns", 0, "most open connections on the public listener (0: half the process's file descriptor limit)")
	level := fs.String("log-level", "info", "debug (logs every request), info, warn or error")
	drainDelay := fs.Duration("drain-delay", 0, "on SIGTERM, answer /readyz with 503 this long before the listener stops (e.g. 5s behind a load balancer)")
	if !parseFlags(fs, args, stderr) {
		return 2
	}
	if *demo && !flagGiven(fs, "otp-cooldown") {
		// The demo family shares one number: a newcomer trying them one
		// after another should not wait a minute each time.
		*cooldown = 10 * time.Second
	}
	if *cooldown == 0 {
		*cooldown = -1
	}
	if *postgres == "" && !requireFlags(fs, stderr, "data") || !requireFlags(fs, stderr, "issuer") {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	var trusted []netip.Prefix
	for _, c := range splitComma(*proxies) {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			fmt.Fprintf(stderr, "--trusted-proxies %q: want CIDR[,CIDR...] (e.g. 10.0.0.0/8): %v\n", *proxies, err)
			return 2
		}
		trusted = append(trusted, p.Masked())
	}
	if *demo && *sms != "log" {
		fmt.Fprintf(stderr, "--demo shows every OTP on the public page /demo/inbox, so it runs only with --sms log, never with --sms %s\n", *sms)
		return 2
	}
	conns := *maxConns
	if conns <= 0 {
		conns = connLimit()
	}
	var lv slog.LevelVar
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(stderr, "--log-level:", err)
		return 2
	}
	// JSON for machines; text when a person watches a terminal.
	var handler slog.Handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: &lv})
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &lv})
		}
	}
	log := slog.New(handler)
	fail := func(err error) int {
		log.Error("kycvs serve: " + err.Error())
		return 1
	}

	var sender issuer.Sender
	switch *sms {
	case "log":
		log.Warn("the log sender writes OTPs to this log: for development only, never in production")
		sender = issuer.LogSender{Log: log}
	case "webhook":
		if *hook == "" {
			fmt.Fprintln(stderr, "--sms webhook needs --sms-webhook URL")
			return 2
		}
		sender = &issuer.WebhookSender{URL: *hook}
	default:
		fmt.Fprintf(stderr, "--sms %q: want log or webhook\n", *sms)
		return 2
	}
	var inbox *issuer.Inbox
	if *demo {
		inbox = &issuer.Inbox{Next: sender}
		sender = inbox
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openStore(ctx, *data, *postgres, 2*time.Second)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	srv, err := issuer.New(ctx, issuer.Config{
		Issuer: *iss, Store: st, Sender: sender, Log: log, LogLevel: &lv,
		TokenTTL: *tokenTTL, OTPTTL: *otpTTL, JWKSMaxAge: *maxAge,
		RateIP: *rateIP, RateClient: *rateClient, ResendCooldown: *cooldown, MaxOTPPerDay: *perDay, MaxOTPPerSource: *perSource,
		TrustedProxies: trusted,
		Demo:           *demo, DemoDir: *demoDir, Inbox: inbox,
	})
	if err != nil {
		return fail(err)
	}
	if *demo {
		key, err := issuer.SeedDemo(ctx, st, *iss, time.Now())
		if err != nil {
			return fail(fmt.Errorf("demo seed: %w", err))
		}
		if key != "" {
			log.Warn("demo client registered (development only)", "client", issuer.DemoClientID, "api_key", key)
		}
		log.Info("demo", "open", strings.TrimRight(*iss, "/")+"/demo/", "client", issuer.DemoClientID, "origins", issuer.DemoOrigins(*iss))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(err)
	}
	// A connection beyond the cap waits in the kernel's backlog instead of
	// taking a descriptor the store and the admin socket need.
	ln = netutil.LimitListener(ln, conns)
	hs := issuer.HTTPServer(srv.Handler(), log)
	var metrics *http.Server
	var metricsLn net.Listener
	if *metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			return fail(fmt.Errorf("--metrics-addr: %w", err))
		}
		metrics = issuer.HTTPServer(srv.MetricsHandler(), log)
		log.Info("metrics listening", "addr", metricsLn.Addr().String())
	}
	var admin *http.Server
	var adminLn net.Listener
	if *postgres == "" {
		if adminLn, err = issuer.ListenAdmin(*data); err != nil {
			ln.Close()
			return fail(fmt.Errorf("admin socket: %w", err))
		}
		admin = &http.Server{Handler: srv.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
	}
	log.Info("listening", "addr", ln.Addr().String(), "issuer", *iss, "sms", *sms, "demo", *demo, "max_conns", conns, "trusted_proxies", *proxies)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if admin != nil {
		g.Go(func() error {
			if err := admin.Serve(adminLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	if metrics != nil {
		g.Go(func() error {
			if err := metrics.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error { srv.Maintain(gctx); return nil })
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		srv.BeginShutdown() // /readyz answers 503 from now, while the listener still serves
		time.Sleep(*drainDelay)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if admin != nil {
			admin.Shutdown(sctx)
		}
		if metrics != nil {
			metrics.Shutdown(sctx)
		}
		srv.Shutdown(sctx) // waits for receipts still being sent
		return err
	})
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	log.Info("stopped")
	return 0
}
