// Command pgbench measures the PostgreSQL store at registry scale: COPY
// import of N generated people, lookup latency at that size, and complete
// OTP flows per second with one replica and with two (two stores, each with
// its own pool, in this one process), beside the embedded bbolt store
// running the same flows. Flows are measured twice: at the storage level
// ("flows": CreateTxn with the issuer's four rate limits, the registry
// lookup, Redeem with its consent entry) and through the issuer's HTTP API
// ("http": package issuer served in process over loopback, POST /v1/otp then
// POST /v1/otp/confirm, the OTP caught from the sender).
//
//	go run ./issuer/store/pgstore/pgbench [-n 1000000] [-postgres URL]
//
// Environment: KYCVS_BENCH_PEOPLE (default 1,000,000; 10,000,000 for the
// CoWIN-scale run), KYCVS_BENCH_POSTGRES (default KYCVS_TEST_POSTGRES, else
// the local test database), KYCVS_BENCH_SECONDS (per flow run, default 10).
// It works in a schema of its own and drops it at the end.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kycvs/kycvs/issuer"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/boltstore"
	"github.com/kycvs/kycvs/issuer/store/pgstore"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func defaultDSN() string {
	for _, e := range []string{"KYCVS_BENCH_POSTGRES", "KYCVS_TEST_POSTGRES"} {
		if v := os.Getenv(e); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var vaccines = []string{"COVISHIELD", "COVAXIN", "SPUTNIK LIGHT", "ZYCOV-D"}

// person i: ids are 14 digits and mobiles 10, both scattered over their
// range (multiplicative hashing, a bijection) as in a real registry, so that
// neither import nor lookups enjoy sequential keys; a mobile holds 1 to 4
// people (2.5 on average); doses 0 to 3.
func person(i int) store.Beneficiary {
	id := 10_000_000_000_000 + (i*2654435761)%90_000_000_000_000
	b := store.Beneficiary{ID: strconv.Itoa(id), Mobile: mobileOf(i), Name: fmt.Sprintf("Person %d Kumar", i)}
	v := vaccines[i%len(vaccines)]
	for d := range i % 4 {
		b.Doses = append(b.Doses, store.Dose{Vaccine: v, Number: d + 1, Date: fmt.Sprintf("2021-%02d-%02d", 3+d*3, 1+i%28)})
	}
	return b
}

func mobileOf(i int) string {
	g := i * 10 / 25
	return strconv.Itoa(6_000_000_000 + (g*2654435761)%3_900_000_000)
}

func pct(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[int(float64(len(ds)-1)*p)]
}

func main() {
	n := flag.Int("n", envInt("KYCVS_BENCH_PEOPLE", 1_000_000), "people to import")
	dsn := flag.String("postgres", defaultDSN(), "PostgreSQL URL")
	secs := flag.Int("seconds", envInt("KYCVS_BENCH_SECONDS", 10), "seconds per flow run")
	workers := flag.Int("c", 16, "concurrent flows")
	noBolt := flag.Bool("no-bolt", false, "skip the embedded store's flows")
	keep := flag.Bool("keep", false, "keep the schema")
	flag.Parse()
	ctx := context.Background()

	// A schema of our own.
	conn, err := pgx.Connect(ctx, *dsn)
	check(err)
	b := make([]byte, 4)
	rand.Read(b)
	schema := "kycvs_bench_" + hex.EncodeToString(b)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	check(err)
	if !*keep {
		defer func() {
			_, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			check(err)
			conn.Close(context.Background())
		}()
	}
	u, err := url.Parse(*dsn)
	check(err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	sdsn := u.String()

	st, err := pgstore.Open(ctx, sdsn)
	check(err)
	defer st.Close()

	// Import.
	fmt.Printf("pgstore bench: PostgreSQL %s, schema %s\n", serverVersion(ctx, conn), schema)
	start := time.Now()
	var staged time.Time
	i := 0
	imported, err := st.BulkImport(ctx, "bench-"+strconv.Itoa(*n), func() ([]store.Beneficiary, error) {
		if i >= *n {
			staged = time.Now()
			return nil, io.EOF
		}
		j := min(i+10_000, *n)
		out := make([]store.Beneficiary, 0, j-i)
		for ; i < j; i++ {
			out = append(out, person(i))
		}
		return out, nil
	})
	check(err)
	total := time.Since(start)
	fmt.Printf("import   %d people via COPY: %v total (stage %v, merge %v), %.0f people/s\n",
		imported, total.Round(time.Millisecond), staged.Sub(start).Round(time.Millisecond), time.Since(staged).Round(time.Millisecond),
		float64(imported)/total.Seconds())
	var size string
	conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('`+schema+`.kycvs_beneficiaries'))`).Scan(&size)
	fmt.Printf("         registry table with indexes: %s\n", size)

	// Lookups: one at a time, then concurrently.
	const lookups = 20_000
	lat := make([]time.Duration, 0, lookups)
	for range lookups {
		m := mobileOf(mrand.IntN(*n))
		t0 := time.Now()
		bs, err := st.Beneficiaries(ctx, m)
		lat = append(lat, time.Since(t0))
		check(err)
		if len(bs) == 0 {
			panic("lookup found nobody on " + m)
		}
	}
	fmt.Printf("lookup   at %d people, 1 client: p50 %v p99 %v\n", *n, pct(lat, .5).Round(time.Microsecond), pct(lat, .99).Round(time.Microsecond))
	var done atomic.Int64
	t0 := time.Now()
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(t0) < 3*time.Second {
				_, err := st.Beneficiaries(ctx, mobileOf(mrand.IntN(*n)))
				check(err)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("lookup   at %d people, %d clients: %.0f lookups/s\n", *n, *workers, float64(done.Load())/time.Since(t0).Seconds())

	// Flows.
	d := time.Duration(*secs) * time.Second
	flows("pgstore, 1 replica ", []store.Store{st}, *n, *workers, d)
	st2, err := pgstore.Open(ctx, sdsn)
	check(err)
	defer st2.Close()
	flows("pgstore, 2 replicas", []store.Store{st, st2}, *n, *workers, d)
	httpFlows("pgstore, 1 replica ", []store.Store{st}, *n, *workers, d)
	httpFlows("pgstore, 2 replicas", []store.Store{st, st2}, *n, *workers, d)

	if !*noBolt {
		dir, err := os.MkdirTemp("", "kycvs-bench-bolt-")
		check(err)
		defer os.RemoveAll(dir)
		bs, err := boltstore.Open(dir, 0)
		check(err)
		defer bs.Close()
		bn := min(*n, 1_000_000)
		t0 := time.Now()
		for i := 0; i < bn; i += 10_000 {
			batch := make([]store.Beneficiary, 0, 10_000)
			for j := i; j < min(i+10_000, bn); j++ {
				batch = append(batch, person(j))
			}
			check(bs.PutBeneficiaries(ctx, batch))
		}
		fmt.Printf("import   %d people into boltstore (PutBeneficiaries, 10,000 a commit): %v, %.0f people/s\n", bn, time.Since(t0).Round(time.Millisecond), float64(bn)/time.Since(t0).Seconds())
		flows("boltstore (embedded)", []store.Store{bs}, bn, *workers, d)
		httpFlows("boltstore (embedded)", []store.Store{bs}, bn, *workers, d)
	}
}

var runs atomic.Int64

// flows runs complete flows at the storage level from workers goroutines
// for d: each creates a transaction (with the issuer's four limits) on one
// replica, looks the person up, and redeems it on the next replica.
func flows(name string, sts []store.Store, n, workers int, d time.Duration) {
	ctx := context.Background()
	var mu sync.Mutex
	var lat []time.Duration
	var count, fails atomic.Int64
	var seq atomic.Int64
	run := runs.Add(1)
	issue := func(t *store.Txn) (*store.Issued, error) {
		return &store.Issued{Token: "token-" + t.ID, TokenExpires: t.Created + 300,
			Consent: store.Consent{Time: t.Created, ClientID: t.ClientID, Subject: "sub", Status: 2, JTI: "jti-" + t.ID, TxnID: t.ID}}, nil
	}
	now := time.Now().Unix()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for k := 0; time.Since(t0) < d; k++ {
				i := int(seq.Add(1))
				id := fmt.Sprintf("run%d-%d", run, i)
				p := mrand.IntN(n)
				m := mobileOf(p)
				a, b := sts[k%len(sts)], sts[(k+1)%len(sts)]
				f0 := time.Now()
				txn := store.Txn{ID: id, ClientID: "bench", Mobile: m, Name: "x", Nonce: "n0123456789", API: "v1",
					OTPDigest: []byte("0123456789abcdef0123456789abcdef"), Created: now, Expires: now + 180, MaxTries: 5}
				err := a.CreateTxn(ctx, txn, now,
					store.Limit{Key: "mobile-day:" + id, Max: 10, Window: 86400},
					store.Limit{Key: "mobile-cooldown:" + id, Max: 1, Window: 60},
					store.Limit{Key: "client:bench", Max: 1 << 30, Window: 60},
					store.Limit{Key: fmt.Sprint("ip:10.0.0.", w), Max: 1 << 30, Window: 60})
				if err == nil {
					_, err = b.Beneficiaries(ctx, m)
				}
				if err == nil {
					_, err = b.Redeem(ctx, id, txn.OTPDigest, now+5, issue)
				}
				if err != nil {
					fails.Add(1)
					continue
				}
				mine = append(mine, time.Since(f0))
				count.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Printf("flows    %s, %d concurrent: %.0f flows/s, p50 %v p99 %v (%d failed)\n", name, workers,
		float64(count.Load())/el.Seconds(), pct(lat, .5).Round(time.Microsecond), pct(lat, .99).Round(time.Microsecond), fails.Load())
}

// otpCatcher is the issuers' sender: it keeps the latest OTP per number.
type otpCatcher struct{ m sync.Map }

var otpRE = regexp.MustCompile(`\b(\d{6})\b`)

func (c *otpCatcher) Send(ctx context.Context, to, text string) error {
	if s := otpRE.FindStringSubmatch(text); s != nil {
		c.m.Store(to, s[1])
	}
	return nil
}

// httpFlows runs complete flows through the issuer's HTTP API (package
// issuer, in process, over loopback): POST /v1/otp on one replica, POST
// /v1/otp/confirm on the next, for a random registered person.
func httpFlows(name string, sts []store.Store, n, workers int, d time.Duration) {
	ctx := context.Background()
	catcher := &otpCatcher{}
	var urls []string
	const apiKey = "kycvs_bench-api-key"
	for i, st := range sts {
		srv, err := issuer.New(ctx, issuer.Config{Issuer: "https://issuer.bench", Store: st, Sender: catcher,
			ResendCooldown: -1, RateClient: 1 << 30, RateIP: -1, MaxOTPPerDay: 1 << 30, MaxOTPPerSource: 1 << 30})
		check(err)
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		urls = append(urls, hs.URL)
		if i == 0 {
			sum := sha256.Sum256([]byte(apiKey))
			err := st.PutClient(ctx, store.Client{ID: "bench", Name: "Bench", KeyHash: sum[:]})
			if err != nil && !errors.Is(err, store.ErrExists) {
				check(err)
			}
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2}}
	post := func(url, body string, out any) error {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		r, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer r.Body.Close()
		if r.StatusCode != 200 {
			b, _ := io.ReadAll(r.Body)
			return fmt.Errorf("%s: %d %s", url, r.StatusCode, b)
		}
		return json.NewDecoder(r.Body).Decode(out)
	}
	var mu sync.Mutex
	var lat []time.Duration
	var count, fails atomic.Int64
	var firstErr atomic.Value
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for k := 0; time.Since(t0) < d; k++ {
				// Each worker has numbers of its own, so that the OTP
				// caught for a number is its own.
				i := mrand.IntN(n)
				for (i*10/25)%workers != w {
					i = mrand.IntN(n)
				}
				p := person(i)
				f0 := time.Now()
				err := func() error {
					var started struct{ Txn string }
					if err := post(urls[k%len(urls)]+"/v1/otp", `{"mobile":"`+p.Mobile+`","name":"`+p.Name+`","nonce":"bench-nonce-123"}`, &started); err != nil {
						return err
					}
					otp, _ := catcher.m.Load("+91" + p.Mobile)
					var done struct{ Token string }
					if err := post(urls[(k+1)%len(urls)]+"/v1/otp/confirm", `{"txn":"`+started.Txn+`","otp":"`+fmt.Sprint(otp)+`","consent":true}`, &done); err != nil {
						return err
					}
					if done.Token == "" {
						return errors.New("no token")
					}
					return nil
				}()
				if err != nil {
					fails.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(f0))
				count.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if len(lat) == 0 {
		fmt.Printf("http     %s: every flow failed: %v\n", name, firstErr.Load())
		return
	}
	fmt.Printf("http     %s, %d concurrent: %.0f flows/s, p50 %v p99 %v (%d failed)\n", name, workers,
		float64(count.Load())/el.Seconds(), pct(lat, .5).Round(time.Microsecond), pct(lat, .99).Round(time.Microsecond), fails.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Printf("         first failure: %v\n", e)
	}
}

func serverVersion(ctx context.Context, c *pgx.Conn) string {
	var v string
	c.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgbench:", err)
		os.Exit(1)
	}
}
