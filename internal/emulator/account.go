package emulator

import (
	"fmt"
	"net/http"
	"time"
)

// accountDetails is PortalInformationResponse.
type accountDetails struct {
	PortalID              int      `json:"portalId"`
	AccountType           string   `json:"accountType"`
	TimeZone              string   `json:"timeZone"`
	CompanyCurrency       string   `json:"companyCurrency"`
	AdditionalCurrencies  []string `json:"additionalCurrencies"`
	UTCOffset             string   `json:"utcOffset"`
	UTCOffsetMilliseconds int64    `json:"utcOffsetMilliseconds"`
	UIDomain              string   `json:"uiDomain"`
	DataHostingLocation   string   `json:"dataHostingLocation"`
}

// handleAccount answers GET /account-info/v3/details.
func (s *Server) handleAccount(w http.ResponseWriter, _ *http.Request, _ []string) {
	a := s.cfg.Account
	offset := time.Duration(0)
	if loc, err := time.LoadLocation(a.TimeZone); err == nil {
		_, secs := s.now().In(loc).Zone()
		offset = time.Duration(secs) * time.Second
	}
	sign, abs := "+", offset
	if offset < 0 {
		sign, abs = "-", -offset
	}
	writeJSON(w, http.StatusOK, accountDetails{
		PortalID: a.PortalID, AccountType: a.AccountType, TimeZone: a.TimeZone,
		CompanyCurrency: a.Currency, AdditionalCurrencies: []string{},
		UTCOffset:             fmt.Sprintf("%s%02d:%02d", sign, int(abs.Hours()), int(abs.Minutes())%60),
		UTCOffsetMilliseconds: offset.Milliseconds(),
		UIDomain:              "app.hubspot.com", DataHostingLocation: "na1",
	})
}
