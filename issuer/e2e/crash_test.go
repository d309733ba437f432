package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/boltstore"
)

// genPerson is generated person i: mobile 6000000000+i, one of four dose
// patterns (0 doses, 1 of 2, 2 of 2, a single-dose vaccine).
func genPerson(i int) store.Beneficiary {
	b := store.Beneficiary{ID: fmt.Sprintf("%014d", i+1), Mobile: fmt.Sprintf("%010d", 6000000000+i), Name: fmt.Sprintf("Person %d", i)}
	switch i % 4 {
	case 1:
		b.Doses = []store.Dose{{Vaccine: "COVAXIN", Number: 1, Date: "2021-06-01"}}
	case 2:
		b.Doses = []store.Dose{{Vaccine: "COVISHIELD", Number: 1, Date: "2021-06-01"}, {Vaccine: "COVISHIELD", Number: 2, Date: "2021-09-01"}}
	case 3:
		b.Doses = []store.Dose{{Vaccine: "SPUTNIK LIGHT", Number: 1, Date: "2021-07-01"}}
	}
	return b
}

// writeGenerated writes n generated people as an import CSV.
func writeGenerated(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("people-%d.csv", n))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("beneficiary_id,mobile,name,vaccine,dose,date\n")
	for i := range n {
		b := genPerson(i)
		if len(b.Doses) == 0 {
			fmt.Fprintf(w, "%s,%s,%s,,,\n", b.ID, b.Mobile, b.Name)
		}
		for _, d := range b.Doses {
			fmt.Fprintf(w, "%s,%s,%s,%s,%d,%s\n", b.ID, b.Mobile, b.Name, d.Vaccine, d.Number, d.Date)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// checkImported opens the store in data and checks that every stored
// beneficiary is exactly the generated one; it returns how many are stored.
func checkImported(t *testing.T, data string, n int) int {
	t.Helper()
	st, err := boltstore.Open(data, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	count, err := st.CountBeneficiaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i := range n {
		want := genPerson(i)
		got, err := st.Beneficiaries(ctx, want.Mobile)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			continue
		}
		found++
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) && !(len(want.Doses) == 0 && len(got[0].Doses) == 0 && got[0].ID == want.ID && got[0].Name == want.Name) {
			t.Fatalf("person %d half-written: %+v, want %+v", i, got, want)
		}
	}
	if found != count {
		t.Fatalf("%d stored, %d found by mobile", count, found)
	}
	if count != 0 && count != n {
		t.Fatalf("%d of %d stored: an import is all or nothing", count, n)
	}
	return count
}

// TestCrashDuringImport kills kycvs import with SIGKILL at several points
// and checks that the file is stored whole or not at all, then completes
// the import.
func TestCrashDuringImport(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 30_000
	}
	file := writeGenerated(t, n)
	start := time.Now()
	full := t.TempDir()
	if _, errs, code := kycvsCmd(t, "import", "--data", full, file); code != 0 {
		t.Fatal(errs)
	}
	total := time.Since(start)
	t.Logf("import of %d people: %v", n, total)
	var last string
	partial := 0
	for _, frac := range []float64{0.2, 0.4, 0.6, 0.8, 0.9} {
		data := t.TempDir()
		cmd := exec.Command(bin, "import", "--data", data, file)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(float64(total) * frac))
		cmd.Process.Kill()
		cmd.Wait()
		got := checkImported(t, data, n)
		t.Logf("killed at %.0f%%: %d of %d stored", frac*100, got, n)
		if got == 0 {
			partial++
		}
		last = data
	}
	if partial == 0 {
		t.Log("no kill landed before the commit (machine too fast or too slow); consistency still checked")
	}
	if _, errs, code := kycvsCmd(t, "import", "--data", last, file); code != 0 {
		t.Fatal(errs)
	}
	if got := checkImported(t, last, n); got != n {
		t.Fatalf("after re-import: %d of %d", got, n)
	}
}

type done struct {
	txn, otp, jti string
}

// tryFlow is flow without t.Fatal, for use while the server may die.
func (s *server) tryFlow(key, mobile, name, nonce string) (d done, err error) {
	post := func(path, body string) (map[string]any, int, error) {
		req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		r, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer r.Body.Close()
		raw, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m, r.StatusCode, nil
	}
	m, code, err := post("/v1/otp", jsonBody(map[string]string{"mobile": mobile, "name": name, "nonce": nonce}))
	if err != nil || code != 200 {
		return d, fmt.Errorf("otp: %d %v", code, err)
	}
	d.txn, _ = m["txn"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for d.otp == "" {
		s.in.mu.Lock()
		for _, msg := range s.in.msgs["+91"+mobile] {
			if sm := otpRE.FindStringSubmatch(msg); sm != nil {
				d.otp = sm[1]
			}
		}
		s.in.mu.Unlock()
		if time.Now().After(deadline) {
			return d, errors.New("no otp")
		}
		time.Sleep(2 * time.Millisecond)
	}
	m, code, err = post("/v1/otp/confirm", jsonBody(map[string]any{"txn": d.txn, "otp": d.otp, "consent": true}))
	if err != nil || code != 200 {
		return d, fmt.Errorf("confirm: %d %v", code, err)
	}
	tok, _ := m["token"].(string)
	d.jti = tok // resolved to the jti by the caller
	return d, nil
}

// TestCrashDuringConfirmations kills the server with SIGKILL during a
// stream of confirmations, restarts it, and checks that no consumed OTP is
// accepted again and that the consent log holds every returned token.
func TestCrashDuringConfirmations(t *testing.T) {
	in := newInbox(t)
	data := t.TempDir()
	s := startServer(t, data, in, "--rate-client", "-1")
	key := s.addClient(t, "rail")
	jwks := s.jwks(t)
	var (
		mu   sync.Mutex
		ok   []done
		seq  atomic.Int64
		wg   sync.WaitGroup
		stop atomic.Bool
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := seq.Add(1)
				d, err := s.tryFlow(key, fmt.Sprintf("8%09d", i), "Crash Test", fmt.Sprintf("crash-nonce-%d", i))
				if err != nil {
					continue
				}
				mu.Lock()
				ok = append(ok, d)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	s.kill()
	stop.Store(true)
	wg.Wait()
	if len(ok) == 0 {
		t.Fatal("no confirmation completed before the kill")
	}
	t.Logf("%d tokens returned before SIGKILL", len(ok))
	jtis := map[string]bool{}
	for i, d := range ok {
		got := verify(t, jwks, d.jti, "rail", "", "Crash Test")
		ok[i].jti = got.ID
		jtis[got.ID] = true
	}

	s2 := startServer(t, data, in, "--rate-client", "-1")
	for _, d := range ok {
		r := s2.do(t, "POST", "/v1/otp/confirm", bearerHdr(key), jsonBody(map[string]any{"txn": d.txn, "otp": d.otp, "consent": true}))
		expectProblem(t, r, 404, kycvs.CodeTxnUnknown)
	}
	// The restarted server still works.
	s2.flow(t, key, "9000000009", "After Crash", "after-crash-1", 0)
	s2.stop(t)

	st, err := boltstore.Open(data, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logged := map[string]bool{}
	err = st.Consents(context.Background(), 0, func(c store.Consent) error {
		if c.ClientID != "rail" || c.JTI == "" || c.Subject == "" {
			return fmt.Errorf("bad consent entry %+v", c)
		}
		logged[c.JTI] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for jti := range jtis {
		if !logged[jti] {
			t.Errorf("token %s was returned but is not in the consent log", jti)
		}
	}
	t.Logf("%d consent entries for %d returned tokens (+1 after restart)", len(logged), len(jtis))
}
