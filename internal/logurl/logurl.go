// Package logurl writes a URL for a log or an error message: without what
// credentials are put in (a password, a query, a fragment, an opaque part).
package logurl

import "net/url"

// String is u without its password (url.URL.Redacted), and with its query,
// fragment and opaque part, if it has them, shown as "…". u is not changed.
func String(u *url.URL) string {
	c := *u
	if c.RawQuery != "" || c.ForceQuery {
		c.RawQuery, c.ForceQuery = "…", false
	}
	if c.Fragment != "" {
		c.Fragment, c.RawFragment = "…", ""
	}
	if c.Opaque != "" { // "https:user:password@host", without the slashes
		c.Opaque = "…"
	}
	return c.Redacted()
}
