package issuer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycvs/kycvs"
	"github.com/kycvs/kycvs/issuer/store"
)

// Schedule is how many doses complete each vaccine's primary series. Names
// are upper case with single spaces; lookups normalise case and spacing.
var Schedule = map[string]int{
	"COVISHIELD":    2,
	"COVAXIN":       2,
	"SPUTNIK V":     2,
	"SPUTNIK LIGHT": 1,
	"ZYCOV-D":       3,
	"CORBEVAX":      2,
	"COVOVAX":       2,
	"MODERNA":       2,
	"JANSSEN":       1,
	"PFIZER":        2,
	"COMIRNATY":     2,
	"NOVAVAX":       2,
	"GEMCOVAC":      2,
	"INCOVACC":      2,
}

// MaxDoseNumber bounds the dose column (primary doses plus precaution doses).
const MaxDoseNumber = 9

func vaccineName(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), " "))
}

// StatusOf computes the vaccination status from a person's doses: 0 without
// doses; 2 when a dose numbered at least the primary vaccine's schedule has
// been given (the primary vaccine is the one of the lowest-numbered dose, so
// a precaution dose of another vaccine keeps 2); 1 otherwise.
func StatusOf(doses []store.Dose) kycvs.Status {
	if len(doses) == 0 {
		return kycvs.NotVaccinated
	}
	first := doses[0]
	for _, d := range doses[1:] {
		if d.Number < first.Number {
			first = d
		}
	}
	need, ok := Schedule[vaccineName(first.Vaccine)]
	if !ok {
		need = 2
	}
	for _, d := range doses {
		if d.Number >= need {
			return kycvs.FullyVaccinated
		}
	}
	return kycvs.PartiallyVaccinated
}

// NormalizeMobile returns the 10-digit form of an Indian mobile number
// (accepting +91, 91 and 0 prefixes, spaces and dashes), or false.
func NormalizeMobile(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "+91"):
		s = s[3:]
	case len(s) == 12 && strings.HasPrefix(s, "91"):
		s = s[2:]
	case len(s) == 11 && strings.HasPrefix(s, "0"):
		s = s[1:]
	}
	if len(s) != 10 || s[0] < '6' || s[0] > '9' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// ImportError is a rejected import file: every problem found, with line
// numbers (1-based, counting the header).
type ImportError struct {
	Problems []string
}

func (e *ImportError) Error() string {
	const max = 20
	p := e.Problems
	more := ""
	if len(p) > max {
		more = fmt.Sprintf("\n(and %d more)", len(p)-max)
		p = p[:max]
	}
	return "import rejected, nothing was written:\n" + strings.Join(p, "\n") + more
}

// ImportResult summarises an import.
type ImportResult struct {
	Beneficiaries int           `json:"beneficiaries"`
	Doses         int           `json:"doses"`
	Elapsed       time.Duration `json:"elapsed_ns"`
}

type parsedPerson struct {
	b     store.Beneficiary
	norm  string // the name, normalised
	line  int
	empty bool // had the "no doses" row
}

type parser struct {
	people   map[string]*parsedPerson
	problems []string
	today    string // YYYY-MM-DD in India: no dose is dated after it
}

// importNow is the clock of imports (a variable for tests).
var importNow = time.Now

// ist is India's time zone, where dose dates are local dates.
var ist = time.FixedZone("IST", 5*3600+1800)

func (p *parser) bad(line int, format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...)))
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// add records one dose row (or a "no doses" row when vaccine, dose and date
// are all empty).
func (p *parser) add(line int, id, mobile, name, vaccine, dose, date string) {
	id = strings.TrimSpace(id)
	if !validID(id) {
		p.bad(line, "beneficiary_id %q: want 1-64 characters of [A-Za-z0-9_-]", id)
		return
	}
	m, ok := NormalizeMobile(mobile)
	if !ok {
		p.bad(line, "mobile %q: not a 10-digit Indian mobile number", mobile)
		return
	}
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) {
		p.bad(line, "name: not valid UTF-8")
		return
	}
	pp := p.people[id]
	if pp == nil {
		n := kycvs.NormalizeName(name)
		if n == "" || len(name) > 200 {
			p.bad(line, "name %q: empty or longer than 200 bytes", name)
			return
		}
		pp = &parsedPerson{b: store.Beneficiary{ID: id, Mobile: m, Name: name}, norm: n, line: line}
		p.people[id] = pp
	} else if pp.b.Mobile != m || pp.b.Name != name {
		p.bad(line, "beneficiary %s: mobile or name differs from line %d", id, pp.line)
		return
	}
	vaccine, dose, date = strings.TrimSpace(vaccine), strings.TrimSpace(dose), strings.TrimSpace(date)
	if vaccine == "" && dose == "" && date == "" {
		if pp.empty || len(pp.b.Doses) > 0 {
			p.bad(line, "beneficiary %s: a row without doses must be the only row", id)
		}
		pp.empty = true
		return
	}
	if pp.empty {
		p.bad(line, "beneficiary %s: a row without doses must be the only row", id)
		return
	}
	v := vaccineName(vaccine)
	if _, ok := Schedule[v]; !ok {
		p.bad(line, "vaccine %q: not in the schedule table", vaccine)
		return
	}
	n, err := strconv.Atoi(dose)
	if err != nil || n < 1 || n > MaxDoseNumber {
		p.bad(line, "dose %q: want 1-%d", dose, MaxDoseNumber)
		return
	}
	if _, err := time.Parse("2006-01-02", date); err != nil {
		p.bad(line, "date %q: want YYYY-MM-DD", date)
		return
	}
	if date > p.today {
		p.bad(line, "date %s: after the day of the import (%s in India)", date, p.today)
		return
	}
	for _, d := range pp.b.Doses {
		if d.Number == n {
			p.bad(line, "beneficiary %s: dose %d given twice", id, n)
			return
		}
	}
	pp.b.Doses = append(pp.b.Doses, store.Dose{Vaccine: v, Number: n, Date: date})
}

// csvColumns is the header of an import CSV.
var csvColumns = []string{"beneficiary_id", "mobile", "name", "vaccine", "dose", "date"}

func (p *parser) readCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			p.bad(1, "empty file: want the header %s", strings.Join(csvColumns, ","))
			return nil
		}
		p.bad(1, "%v", err)
		return nil
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		col[h] = i
	}
	idx := make([]int, len(csvColumns))
	for i, c := range csvColumns {
		j, ok := col[c]
		if !ok || len(header) != len(csvColumns) {
			p.bad(1, "header %q: want %s", strings.Join(header, ","), strings.Join(csvColumns, ","))
			return nil
		}
		idx[i] = j
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.bad(pe.Line, "%v", pe.Err)
				if len(p.problems) > 1000 {
					return nil
				}
				continue
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		if !validUTF8(rec) {
			p.bad(line, "not valid UTF-8")
			continue
		}
		if len(rec) != len(csvColumns) {
			p.bad(line, "%d fields, want %d", len(rec), len(csvColumns))
			continue
		}
		p.add(line, rec[idx[0]], rec[idx[1]], rec[idx[2]], rec[idx[3]], rec[idx[4]], rec[idx[5]])
		if len(p.problems) > 1000 {
			return nil
		}
	}
}

type jsonDose struct {
	Vaccine string          `json:"vaccine"`
	Dose    json.RawMessage `json:"dose"`
	Date    string          `json:"date"`
}

type jsonPerson struct {
	ID     string     `json:"beneficiary_id"`
	Mobile string     `json:"mobile"`
	Name   string     `json:"name"`
	Doses  []jsonDose `json:"doses"`
}

func (p *parser) readJSONL(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if !utf8.Valid(text) { // encoding/json would replace it silently
			p.bad(line, "not valid UTF-8")
			continue
		}
		var jp jsonPerson
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&jp); err != nil {
			p.bad(line, "not a beneficiary object: %v", err)
			continue
		}
		if dec.More() {
			p.bad(line, "trailing data after the object")
			continue
		}
		if _, dup := p.people[strings.TrimSpace(jp.ID)]; dup {
			p.bad(line, "beneficiary %s: appears on two lines", jp.ID)
			continue
		}
		if len(jp.Doses) == 0 {
			p.add(line, jp.ID, jp.Mobile, jp.Name, "", "", "")
		}
		for _, d := range jp.Doses {
			dose := strings.Trim(string(d.Dose), `"`)
			if dose == "" {
				dose = "?"
			}
			p.add(line, jp.ID, jp.Mobile, jp.Name, d.Vaccine, dose, d.Date)
		}
		if len(p.problems) > 1000 {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		p.bad(line+1, "%v", err)
	}
	return nil
}

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// ParseRegistry reads a whole import file (format "csv" or "jsonl") and
// returns its beneficiaries sorted by ID, or an *ImportError listing every
// problem with its line. Dose dates after today (in India) are refused.
func ParseRegistry(r io.Reader, format string) ([]store.Beneficiary, error) {
	ps, err := parseRegistry(r, format)
	if err != nil {
		return nil, err
	}
	out := make([]store.Beneficiary, len(ps))
	for i, pp := range ps {
		out[i] = pp.b
	}
	return out, nil
}

func parseRegistry(r io.Reader, format string) ([]*parsedPerson, error) {
	p := &parser{people: map[string]*parsedPerson{}, today: importNow().In(ist).Format("2006-01-02")}
	var err error
	switch format {
	case "csv":
		err = p.readCSV(r)
	case "jsonl", "ndjson":
		err = p.readJSONL(r)
	default:
		return nil, fmt.Errorf("unknown import format %q (want csv or jsonl)", format)
	}
	if err != nil {
		return nil, err
	}
	// Per-mobile checks within the file.
	byMobile := map[string][]*parsedPerson{}
	for _, pp := range p.people {
		byMobile[pp.b.Mobile] = append(byMobile[pp.b.Mobile], pp)
	}
	for m, ps := range byMobile {
		if len(ps) > store.MaxPerMobile {
			sort.Slice(ps, func(i, j int) bool { return ps[i].line < ps[j].line })
			p.bad(ps[store.MaxPerMobile].line, "mobile %s: more than %d beneficiaries", m, store.MaxPerMobile)
		}
		names := map[string]int{}
		for _, pp := range ps {
			n := pp.norm
			if l, dup := names[n]; dup {
				p.bad(max(l, pp.line), "mobile %s: two beneficiaries named %q (lines %d and %d)", m, pp.b.Name, min(l, pp.line), max(l, pp.line))
			}
			names[n] = pp.line
		}
	}
	if len(p.problems) > 0 {
		sortProblems(p.problems)
		return nil, &ImportError{Problems: p.problems}
	}
	out := make([]*parsedPerson, 0, len(p.people))
	for _, pp := range p.people {
		sort.Slice(pp.b.Doses, func(i, j int) bool { return pp.b.Doses[i].Number < pp.b.Doses[j].Number })
		out = append(out, pp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].b.ID < out[j].b.ID })
	return out, nil
}

func sortProblems(ps []string) {
	num := func(s string) int {
		s = strings.TrimPrefix(s, "line ")
		n, _ := strconv.Atoi(s[:strings.IndexByte(s, ':')])
		return n
	}
	sort.SliceStable(ps, func(i, j int) bool { return num(ps[i]) < num(ps[j]) })
}

// ImportBatch is how many beneficiaries Import hands a bulk importer at a
// time.
const ImportBatch = 10000

// Import parses a whole file and, only if it is valid and the registry's
// invariants hold with what is stored already (at most MaxPerMobile
// beneficiaries per mobile, names unique per mobile after normalisation),
// writes all of it in one atomic, durable commit: an import is all or
// nothing, and a crash leaves either the whole file or none of it.
// Re-importing a file is idempotent: a beneficiary is replaced whole by ID.
// A store with a BulkImport method (pgstore) gets the whole file through
// it instead (staged, then merged in one transaction), keyed by the SHA-256
// of the format and the file's bytes.
func Import(ctx context.Context, st store.Store, r io.Reader, format string) (*ImportResult, error) {
	start := time.Now()
	h := sha256.New()
	h.Write([]byte(format + "\x00"))
	ps, err := parseRegistry(io.TeeReader(r, h), format)
	if err != nil {
		return nil, err
	}
	// Check the invariants against what is stored already, to name the
	// lines; the store holds them anyway (against concurrent writers too).
	inFile := make(map[string]bool, len(ps))
	perMobile := map[string][]*parsedPerson{}
	for _, pp := range ps {
		inFile[pp.b.ID] = true
		perMobile[pp.b.Mobile] = append(perMobile[pp.b.Mobile], pp)
	}
	var problems []string
	for m, mine := range perMobile {
		existing, err := st.Beneficiaries(ctx, m)
		if err != nil {
			return nil, err
		}
		n := len(mine)
		for _, e := range existing {
			if inFile[e.ID] {
				continue // replaced by the file
			}
			n++
			en := kycvs.NormalizeName(e.Name)
			for _, pp := range mine {
				if pp.norm == en {
					problems = append(problems, fmt.Sprintf("line %d: mobile %s: %q is already registered on this number (beneficiary %s)", pp.line, m, pp.b.Name, e.ID))
				}
			}
		}
		if n > store.MaxPerMobile {
			problems = append(problems, fmt.Sprintf("line %d: mobile %s: would hold %d beneficiaries with those already registered (at most %d)", mine[0].line, m, n, store.MaxPerMobile))
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &ImportError{Problems: problems}
	}
	bs := make([]store.Beneficiary, len(ps))
	res := &ImportResult{Beneficiaries: len(bs)}
	for i, pp := range ps {
		bs[i] = pp.b
		res.Doses += len(pp.b.Doses)
	}
	// Engines with a bulk path (PostgreSQL: COPY into a staging table, one
	// merge commit, resumable under the file's hash) use it.
	if bi, ok := st.(interface {
		BulkImport(ctx context.Context, key string, next func() ([]store.Beneficiary, error)) (int64, error)
	}); ok {
		i := 0
		_, err = bi.BulkImport(ctx, hex.EncodeToString(h.Sum(nil)), func() ([]store.Beneficiary, error) {
			if i >= len(bs) {
				return nil, io.EOF
			}
			j := min(i+ImportBatch, len(bs))
			batch := bs[i:j]
			i = j
			return batch, nil
		})
	} else {
		err = st.PutBeneficiaries(ctx, bs)
	}
	if errors.Is(err, store.ErrMobileFull) || errors.Is(err, store.ErrDuplicateName) {
		// Another writer got there between the check and the write.
		return nil, &ImportError{Problems: []string{err.Error()}}
	}
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// FormatOf guesses the import format from a file name.
func FormatOf(name string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".jsonl"), strings.HasSuffix(strings.ToLower(name), ".ndjson"):
		return "jsonl"
	default:
		return "csv"
	}
}
