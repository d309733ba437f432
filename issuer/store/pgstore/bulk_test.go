package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/kycvs/kycvs/issuer/store"
)

// people generates n beneficiaries, three to a mobile number.
func people(n int, name string) []store.Beneficiary {
	bs := make([]store.Beneficiary, n)
	for i := range bs {
		bs[i] = store.Beneficiary{ID: fmt.Sprintf("%014d", i), Mobile: fmt.Sprintf("9%09d", i/3), Name: fmt.Sprint(name, " ", i)}
		for d := range i % 3 {
			bs[i].Doses = append(bs[i].Doses, store.Dose{Vaccine: "COVISHIELD", Number: d + 1, Date: "2021-06-01"})
		}
	}
	return bs
}

// source hands bs out in batches of size; after failAfter rows (if > 0)
// it fails instead.
func source(bs []store.Beneficiary, size, failAfter int, served *int) func() ([]store.Beneficiary, error) {
	i := 0
	return func() ([]store.Beneficiary, error) {
		if failAfter > 0 && i >= failAfter {
			return nil, errors.New("reader broke")
		}
		if i >= len(bs) {
			return nil, io.EOF
		}
		j := min(i+size, len(bs))
		b := bs[i:j]
		i = j
		if served != nil {
			*served += len(b)
		}
		return b, nil
	}
}

func TestBulkImport(t *testing.T) {
	old := copyChunk
	copyChunk = 1000
	t.Cleanup(func() { copyChunk = old })
	s := openDSN(t, freshSchema(t))
	ctx := context.Background()
	bs := people(5000, "Person")

	// A run that breaks after 2,500 rows leaves 2,000 staged and nothing
	// visible.
	if _, err := s.BulkImport(ctx, "file-1", source(bs, 700, 2500, nil)); err == nil {
		t.Fatal("broken source imported")
	}
	if n, _ := s.CountBeneficiaries(ctx); n != 0 {
		t.Fatalf("%d visible after a broken run", n)
	}
	var staged int64
	s.pool.QueryRow(ctx, `SELECT staged FROM kycvs_imports WHERE key = 'file-1'`).Scan(&staged)
	if staged != 2000 {
		t.Fatalf("staged %d", staged)
	}
	// Resuming stages only the rest.
	n, err := s.BulkImport(ctx, "file-1", source(bs, 700, 0, nil))
	if err != nil || n != 5000 {
		t.Fatalf("resume: %d %v", n, err)
	}
	var done bool
	s.pool.QueryRow(ctx, `SELECT staged, done FROM kycvs_imports WHERE key = 'file-1'`).Scan(&staged, &done)
	if staged != 5000 || !done {
		t.Fatalf("staged %d done %v after resume", staged, done)
	}
	if c, _ := s.CountBeneficiaries(ctx); c != 5000 {
		t.Fatalf("count %d", c)
	}
	got, err := s.Beneficiaries(ctx, "9000000001")
	if err != nil || len(got) != 3 || got[2].ID != "00000000000005" || len(got[2].Doses) != 2 || got[2].Name != "Person 5" {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	// The staging table is gone.
	var tables int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kycvs\_import\_%'`).Scan(&tables)
	if tables != 0 {
		t.Fatalf("%d staging tables left", tables)
	}
	// The same key again: a no-op that reads nothing.
	served := 0
	if n, err := s.BulkImport(ctx, "file-1", source(bs, 700, 0, &served)); err != nil || n != 5000 || served != 0 {
		t.Fatalf("again: %d %v, %d rows read", n, err, served)
	}
	// Another key with changes: replaces entirely, later rows win.
	upd := []store.Beneficiary{
		{ID: "00000000000005", Mobile: "9000000001", Name: "First"},
		{ID: "00000000000005", Mobile: "9111111111", Name: "Moved"},
		{ID: "new", Mobile: "9000000001", Name: "New"},
	}
	if n, err := s.BulkImport(ctx, "file-2", source(upd, 2, 0, nil)); err != nil || n != 2 {
		t.Fatalf("update: %d %v", n, err)
	}
	if got, _ := s.Beneficiaries(ctx, "9111111111"); len(got) != 1 || got[0].Name != "Moved" || len(got[0].Doses) != 0 {
		t.Fatalf("moved: %+v", got)
	}
	if got, _ := s.Beneficiaries(ctx, "9000000001"); len(got) != 3 || got[2].ID != "new" {
		t.Fatalf("old number: %+v", got)
	}
	// Over the per-mobile limit: nothing changes, and the import is
	// forgotten.
	var full []store.Beneficiary
	for i := range 4 {
		full = append(full, store.Beneficiary{ID: fmt.Sprint("f", i), Mobile: "9000000001", Name: fmt.Sprint("F", i)})
	}
	full = append(full, store.Beneficiary{ID: "elsewhere", Mobile: "9222222222", Name: "E"})
	if _, err := s.BulkImport(ctx, "file-3", source(full, 10, 0, nil)); !errors.Is(err, store.ErrMobileFull) {
		t.Fatalf("full: %v", err)
	}
	if got, _ := s.Beneficiaries(ctx, "9222222222"); len(got) != 0 {
		t.Fatalf("a failed merge wrote: %+v", got)
	}
	var imports int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM kycvs_imports WHERE key = 'file-3'`).Scan(&imports)
	if imports != 0 {
		t.Fatal("failed import remembered")
	}
	if c, _ := s.CountBeneficiaries(ctx); c != 5001 {
		t.Fatalf("count %d", c)
	}
	// A name already on the number, spelled otherwise: nothing changes.
	dup := []store.Beneficiary{{ID: "elsewhere", Mobile: "9222222222", Name: "E"}, {ID: "twin", Mobile: "9111111111", Name: " MOVED "}}
	if _, err := s.BulkImport(ctx, "file-4", source(dup, 10, 0, nil)); !errors.Is(err, store.ErrDuplicateName) {
		t.Fatalf("duplicate name across imports: %v", err)
	}
	if got, _ := s.Beneficiaries(ctx, "9222222222"); len(got) != 0 {
		t.Fatalf("a refused merge wrote: %+v", got)
	}
}

// TestBulkImportConcurrent runs one import from two replicas at once: one
// stages and merges, the other waits and finds it done.
func TestBulkImportConcurrent(t *testing.T) {
	dsn := freshSchema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	bs := people(3000, "P")
	errs := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			n, err := s.BulkImport(context.Background(), "same", source(bs, 500, 0, nil))
			if err == nil && n != 3000 {
				err = fmt.Errorf("n = %d", n)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := a.CountBeneficiaries(context.Background()); c != 3000 {
		t.Fatalf("count %d", c)
	}
}

// TestBulkImportFirstFull: the first import (into an empty registry, where
// the mobile index is rebuilt) over the per-mobile limit changes nothing.
func TestBulkImportFirstFull(t *testing.T) {
	s := openDSN(t, freshSchema(t))
	ctx := context.Background()
	var bs []store.Beneficiary
	for i := range 7 {
		bs = append(bs, store.Beneficiary{ID: fmt.Sprint("f", i), Mobile: "9000000001", Name: fmt.Sprint("F", i)})
	}
	if _, err := s.BulkImport(ctx, "full", source(bs, 3, 0, nil)); !errors.Is(err, store.ErrMobileFull) {
		t.Fatalf("full: %v", err)
	}
	var idx int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'kycvs_beneficiaries_mobile'`).Scan(&idx)
	if n, _ := s.CountBeneficiaries(ctx); n != 0 || idx != 1 {
		t.Fatalf("after a refused first import: %d rows, %d mobile index", n, idx)
	}
	if n, err := s.BulkImport(ctx, "ok", source(bs[:6], 3, 0, nil)); err != nil || n != 6 {
		t.Fatalf("6: %d %v", n, err)
	}
	if got, _ := s.Beneficiaries(ctx, "9000000001"); len(got) != 6 {
		t.Fatalf("%d", len(got))
	}
}
