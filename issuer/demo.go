package issuer

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
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

// SeedDemo imports DemoRegistry and registers the demo verifying entity if
// it is not registered yet. Either way it sets the demo client's origins to
// DemoOrigins(issuer), so that a data directory made for another address
// keeps working. It returns the demo client's API key when it created it, ""
// otherwise.
func SeedDemo(ctx context.Context, st store.Store, issuer string, now time.Time) (string, error) {
	if _, err := Import(ctx, st, strings.NewReader(DemoRegistry), "csv"); err != nil {
		return "", err
	}
	origins := DemoOrigins(issuer)
	key, err := AddClient(ctx, st, DemoClientID, "Demo Railways", origins, now)
	if errors.Is(err, store.ErrExists) {
		return "", st.SetClientOrigins(ctx, DemoClientID, origins)
	}
	return key, err
}

// DemoOrigins returns the origins the demo client may embed the consent page
// from: the issuer's own origin, and on loopback its other spelling too
// (127.0.0.1 and localhost), since a newcomer may type either.
func DemoOrigins(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil
	}
	o, err := NormalizeOrigin(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil
	}
	origins := []string{o}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	other := map[string]string{"127.0.0.1": "localhost", "localhost": "127.0.0.1"}[host]
	if other != "" {
		if port != "" {
			other += ":" + port
		}
		if o2, err := NormalizeOrigin(u.Scheme + "://" + other); err == nil && o2 != o {
			origins = append(origins, o2)
		}
	}
	return origins
}

// demoInboxCORS lets a verifying entity's registered origins read the demo
// inbox (GET /demo/inbox?client_id=ID, --demo only), so the demo works from
// a static host: the browser sends Origin, and only an origin registered for
// that client is granted. Other pages cannot read it.
func (s *Server) demoInboxCORS(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin, id := r.Header.Get("Origin"), r.URL.Query().Get("client_id")
	if origin == "" || id == "" {
		return
	}
	c, err := s.st.Client(r.Context(), id)
	if err != nil || !slices.Contains(c.Origins, origin) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
}
