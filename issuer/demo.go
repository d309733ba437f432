package issuer

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/kycvs/kycvs/issuer/store"
)

// DemoClientID is the verifying entity --demo registers.
const DemoClientID = "demo"

// DemoRegistry is the registry --demo imports: one person for each status,
// a family on one mobile, a single-dose and a three-dose vaccine.
const DemoRegistry = `beneficiary_id,mobile,name,vaccine,dose,date
90000000000001,9999900000,Asha Devi,COVISHIELD,1,2021-05-03
90000000000001,9999900000,Asha Devi,COVISHIELD,2,2021-08-01
90000000000001,9999900000,Asha Devi,COVISHIELD,3,2022-04-20
90000000000002,9999900000,Ravi Kumar,COVAXIN,1,2021-06-10
90000000000003,9999900000,Meera Kumar,,,
90000000000004,9999900001,Arjun Singh,SPUTNIK LIGHT,1,2021-09-15
90000000000005,9999900002,Fatima Khan,ZYCOV-D,1,2021-10-01
90000000000005,9999900002,Fatima Khan,ZYCOV-D,2,2021-10-29
90000000000006,9999900003,Kavya Iyer,ZYCOV-D,1,2021-10-01
90000000000006,9999900003,Kavya Iyer,ZYCOV-D,2,2021-10-29
90000000000006,9999900003,Kavya Iyer,ZYCOV-D,3,2021-11-26
`

// SeedDemo imports DemoRegistry and registers the demo verifying entity
// (allowed origin: the issuer's own) if it is not registered yet. It returns
// the demo client's API key when it created it, "" otherwise.
func SeedDemo(ctx context.Context, st store.Store, origin string, now time.Time) (string, error) {
	if _, err := Import(ctx, st, strings.NewReader(DemoRegistry), "csv"); err != nil {
		return "", err
	}
	var origins []string
	if u, err := url.Parse(origin); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	if o, err := NormalizeOrigin(origin); err == nil {
		origins = append(origins, o)
	}
	key, err := AddClient(ctx, st, DemoClientID, "Demo Railways", origins, now)
	if errors.Is(err, store.ErrExists) {
		return "", nil
	}
	return key, err
}
