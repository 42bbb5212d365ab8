package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

func TestAccountDetails(t *testing.T) {
	july := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }
	cases := []struct {
		name    string
		account emulator.Account
		want    map[string]any
	}{
		{"defaults", emulator.Account{}, map[string]any{"portalId": float64(emulator.PortalID), "accountType": "STANDARD",
			"timeZone": "US/Eastern", "companyCurrency": "USD", "utcOffset": "-04:00", "utcOffsetMilliseconds": float64(-4 * 3600 * 1000)}},
		{"a sandbox in Europe", emulator.Account{PortalID: 99, AccountType: "SANDBOX", TimeZone: "Europe/Berlin", Currency: "EUR"},
			map[string]any{"portalId": float64(99), "accountType": "SANDBOX", "timeZone": "Europe/Berlin", "companyCurrency": "EUR", "utcOffset": "+02:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{Account: tc.account, Now: july, RateMax: 1, Scopes: []string{}})
			r := c.do(http.MethodGet, "/account-info/v3/details", nil)
			wantStatus(t, r, http.StatusOK)
			for k, v := range tc.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v", k, r.body[k], v)
				}
			}
			for _, k := range []string{"additionalCurrencies", "dataHostingLocation", "uiDomain"} {
				if _, ok := r.body[k]; !ok {
					t.Errorf("%s missing: %s", k, r.raw)
				}
			}
			// It counts in the 10-second window like any other call.
			wantStatus(t, c.do(http.MethodGet, "/account-info/v3/details", nil), http.StatusTooManyRequests)
		})
	}
}
