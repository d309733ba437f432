package issuer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
	"github.com/kycvs/kycvs/issuer/store/boltstore"
)

func doses(spec ...string) []store.Dose {
	var ds []store.Dose
	for i, v := range spec {
		ds = append(ds, store.Dose{Vaccine: v, Number: i + 1, Date: "2021-01-01"})
	}
	return ds
}

func TestStatusOf(t *testing.T) {
	for _, c := range []struct {
		doses []store.Dose
		want  kycvs.Status
	}{
		{nil, 0},
		{doses("COVISHIELD"), 1},
		{doses("COVISHIELD", "COVISHIELD"), 2},
		{doses("COVISHIELD", "COVISHIELD", "CORBEVAX"), 2}, // precaution keeps 2
		{doses("SPUTNIK LIGHT"), 2},
		{doses("JANSSEN"), 2},
		{doses("ZYCOV-D", "ZYCOV-D"), 1},
		{doses("ZYCOV-D", "ZYCOV-D", "ZYCOV-D"), 2},
		{doses("COVAXIN", "COVAXIN"), 2},
		{doses("SPUTNIK LIGHT", "COVISHIELD"), 2},
		{[]store.Dose{{Vaccine: "COVISHIELD", Number: 2}}, 2},
	} {
		if got := StatusOf(c.doses); got != c.want {
			t.Errorf("StatusOf(%v) = %d, want %d", c.doses, got, c.want)
		}
	}
}

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"9876543210": "9876543210", "+919876543210": "9876543210", "09876543210": "9876543210",
		"919876543210": "9876543210", "+91 98765-43210": "9876543210",
		"1876543210": "", "987654321": "", "98765432100": "", "98765x3210": "", "": "",
	} {
		got, ok := NormalizeMobile(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeMobile(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

const goodCSV = `beneficiary_id,mobile,name,vaccine,dose,date
1,9876543210,Asha Devi,COVISHIELD,1,2021-05-03
1,9876543210,Asha Devi,covishield,2,2021-08-01
2,+919876543210,"Kumar, Ravi",,,
3,9000000001,Arjun,SPUTNIK  LIGHT,1,2021-09-01
`

func openStore(t *testing.T) store.Store {
	st, err := boltstore.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestImportCSV(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for range 2 { // idempotent
		res, err := Import(ctx, st, strings.NewReader(goodCSV), "csv")
		if err != nil {
			t.Fatal(err)
		}
		if res.Beneficiaries != 3 || res.Doses != 3 {
			t.Fatalf("%+v", res)
		}
	}
	if n, _ := st.CountBeneficiaries(ctx); n != 3 {
		t.Fatalf("count %d", n)
	}
	bs, _ := st.Beneficiaries(ctx, "9876543210")
	if len(bs) != 2 || bs[1].Name != "Kumar, Ravi" || len(bs[1].Doses) != 0 || StatusOf(bs[0].Doses) != 2 {
		t.Fatalf("%+v", bs)
	}
	bs, _ = st.Beneficiaries(ctx, "9000000001")
	if len(bs) != 1 || bs[0].Doses[0].Vaccine != "SPUTNIK LIGHT" {
		t.Fatalf("%+v", bs)
	}
}

func TestImportRejects(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct{ file, format, want string }{
		"header":       {"id,mobile\n1,9876543210\n", "csv", "line 1: header"},
		"mobile":       {goodCSV + "4,12345,X,COVAXIN,1,2021-01-01\n", "csv", "line 6: mobile"},
		"vaccine":      {goodCSV + "4,9876543211,X,FOOVAX,1,2021-01-01\n", "csv", "line 6: vaccine"},
		"date":         {goodCSV + "4,9876543211,X,COVAXIN,1,2021-13-01\n", "csv", "line 6: date"},
		"dose":         {goodCSV + "4,9876543211,X,COVAXIN,0,2021-01-01\n", "csv", "line 6: dose"},
		"dup dose":     {goodCSV + "1,9876543210,Asha Devi,COVISHIELD,2,2021-08-02\n", "csv", "line 6: beneficiary 1: dose 2 given twice"},
		"conflict":     {goodCSV + "1,9876543211,Asha Devi,COVISHIELD,3,2021-08-02\n", "csv", "line 6: beneficiary 1: mobile or name differs"},
		"quote":        {goodCSV + "4,9876543211,\"X,COVAXIN,1,2021-01-01\n", "csv", "line 6"},
		"fields":       {goodCSV + "4,9876543211,X,COVAXIN,1\n", "csv", "line 6: 5 fields"},
		"same name":    {goodCSV + "5,9876543210,ASHA  devi,,,\n", "csv", "line 6: mobile 9876543210: two beneficiaries named"},
		"json":         {`{"beneficiary_id":"1","mobile":"9876543210","name":"A","doses":[]}` + "\n{\n", "jsonl", "line 2: not a beneficiary object"},
		"json field":   {`{"beneficiary_id":"1","mobile":"9876543210","name":"A","x":1}`, "jsonl", "line 1: not a beneficiary object"},
		"json vaccine": {`{"beneficiary_id":"1","mobile":"9876543210","name":"A"}` + "\n" + `{"beneficiary_id":"2","mobile":"9876543210","name":"B","doses":[{"vaccine":"X","dose":1,"date":"2021-01-01"}]}`, "jsonl", "line 2: vaccine"},
		"utf8":         {goodCSV + "4,9876543211,X\xff\xfeY,COVAXIN,1,2021-01-01\n", "csv", "line 6: not valid UTF-8"},
		"json utf8":    {`{"beneficiary_id":"1","mobile":"9876543210","name":"A` + "\xff" + `B"}`, "jsonl", "line 1: not valid UTF-8"},
		"future dose":  {goodCSV + "4,9876543211,X,COVAXIN,1,2099-01-01\n", "csv", "line 6: date 2099-01-01: after the day of the import"},
		"seven":        {"beneficiary_id,mobile,name,vaccine,dose,date\n1,9876543210,a,,,\n2,9876543210,b,,,\n3,9876543210,c,,,\n4,9876543210,d,,,\n5,9876543210,e,,,\n6,9876543210,f,,,\n7,9876543210,g,,,\n", "csv", "more than 6"},
	} {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			_, err := Import(ctx, st, strings.NewReader(c.file), c.format)
			var ie *ImportError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if n, _ := st.CountBeneficiaries(ctx); n != 0 {
				t.Fatalf("a rejected file wrote %d beneficiaries", n)
			}
		})
	}
}

func TestImportMobileLimitAcrossFiles(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := Import(ctx, st, strings.NewReader(goodCSV), "csv"); err != nil {
		t.Fatal(err)
	}
	more := "beneficiary_id,mobile,name,vaccine,dose,date\n11,9876543210,a,,,\n12,9876543210,b,,,\n13,9876543210,c,,,\n14,9876543210,d,,,\n15,9876543210,e,,,\n"
	_, err := Import(ctx, st, strings.NewReader(more), "csv")
	if err == nil || !strings.Contains(err.Error(), "would hold 7") {
		t.Fatalf("got %v", err)
	}
	if n, _ := st.CountBeneficiaries(ctx); n != 3 {
		t.Fatalf("count %d", n)
	}
	// Moving 1 away makes room.
	more += "1,9000000002,Asha Devi,COVISHIELD,1,2021-05-03\n"
	if _, err := Import(ctx, st, strings.NewReader(more), "csv"); err != nil {
		t.Fatal(err)
	}
}

// TestImportNameAcrossFiles: a name already registered on a number,
// spelled otherwise, is refused in a later file, with its line.
func TestImportNameAcrossFiles(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := Import(ctx, st, strings.NewReader(goodCSV), "csv"); err != nil {
		t.Fatal(err)
	}
	twin := "beneficiary_id,mobile,name,vaccine,dose,date\n20,9000000009,Other,,,\n21,9876543210,  ASHA devi ,,,\n"
	_, err := Import(ctx, st, strings.NewReader(twin), "csv")
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "line 3: mobile 9876543210") || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("got %v", err)
	}
	if n, _ := st.CountBeneficiaries(ctx); n != 3 {
		t.Fatalf("a refused file wrote: %d", n)
	}
}

// TestImportToday: a dose dated today in India is accepted, tomorrow is not.
func TestImportToday(t *testing.T) {
	defer func(f func() time.Time) { importNow = f }(importNow)
	importNow = func() time.Time { return time.Date(2021, 8, 1, 20, 0, 0, 0, time.UTC) } // 01:30 on 2 Aug in India
	file := "beneficiary_id,mobile,name,vaccine,dose,date\n1,9876543210,A,COVISHIELD,1,2021-08-02\n"
	if _, err := ParseRegistry(strings.NewReader(file), "csv"); err != nil {
		t.Fatalf("today in India: %v", err)
	}
	file = strings.Replace(file, "2021-08-02", "2021-08-03", 1)
	if _, err := ParseRegistry(strings.NewReader(file), "csv"); err == nil || !strings.Contains(err.Error(), "line 2: date 2021-08-03") {
		t.Fatalf("tomorrow in India: %v", err)
	}
}

func TestImportJSONL(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	file := `{"beneficiary_id":"1","mobile":"9876543210","name":"Asha","doses":[{"vaccine":"ZYCOV-D","dose":1,"date":"2021-10-01"},{"vaccine":"ZYCOV-D","dose":"2","date":"2021-10-29"}]}

{"beneficiary_id":"2","mobile":"9876543210","name":"Ravi"}
`
	res, err := Import(ctx, st, strings.NewReader(file), "jsonl")
	if err != nil || res.Beneficiaries != 2 || res.Doses != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	bs, _ := st.Beneficiaries(ctx, "9876543210")
	if StatusOf(bs[0].Doses) != 1 {
		t.Fatalf("%+v", bs)
	}
}

func TestRotateSchedule(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Unix(1_800_000_000, 0)
	if err := EnsureKey(ctx, st, t0); err != nil {
		t.Fatal(err)
	}
	kr, err := NewKeyRing(ctx, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	s0, _ := kr.Signer(t0)
	sch := KeySchedule{CacheLifetime: 300 * time.Second, TokenLifetime: 300 * time.Second, Leeway: 60 * time.Second}
	kid, from, err := Rotate(ctx, st, t0, sch)
	if err != nil || !from.Equal(t0.Add(302*time.Second)) {
		t.Fatal(kid, from, err)
	}
	if _, _, err := Rotate(ctx, st, t0.Add(10*time.Second), sch); !errors.Is(err, ErrStaged) {
		t.Fatalf("second rotation while staged: %v", err)
	}
	kr.Refresh(ctx, t0)
	jwks, _ := kr.JWKS()
	ks, err := kycvs.ParseKeySet(jwks)
	if err != nil || len(ks.KeyIDs()) != 2 {
		t.Fatalf("jwks %s %v", jwks, err)
	}
	if s, _ := kr.Signer(from.Add(-time.Second)); s.KeyID() != s0.KeyID() {
		t.Fatal("new key signs before its time")
	}
	if s, _ := kr.Signer(from); s.KeyID() != kid {
		t.Fatal("new key does not sign at its time")
	}
	// Old key published until from + 300 + 60 + 300.
	kr.Refresh(ctx, from.Add(659*time.Second))
	if jwks, _ := kr.JWKS(); !strings.Contains(string(jwks), s0.KeyID()) {
		t.Fatal("old key removed too early")
	}
	kr.Refresh(ctx, from.Add(660*time.Second))
	if jwks, _ := kr.JWKS(); strings.Contains(string(jwks), s0.KeyID()) {
		t.Fatal("old key not removed")
	}
}
