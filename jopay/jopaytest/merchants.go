package jopaytest

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/paykit-go/paykit/jopay"
)

type merchantIn struct {
	Email           string `json:"email"`
	DisplayName     string `json:"display_name"`
	BusinessName    string `json:"business_name"`
	Country         string `json:"country"`
	Phone           string `json:"phone"`
	Website         string `json:"website"`
	Instagram       string `json:"instagram"`
	Industry        string `json:"industry"`
	DisplayCurrency string `json:"display_currency"`
	AccountType     string `json:"account_type"`
}

type wireMerchant struct {
	MerchantID       string `json:"merchant_id"`
	OnboardingStatus string `json:"onboarding_status"`
	OnboardingURL    string `json:"onboarding_url,omitempty"`
	merchantIn
	CreatedAt string `json:"created_at"`
}

type okMerchant struct {
	OK bool `json:"ok"`
	wireMerchant
}

func toWireMerchant(m *merchant) wireMerchant {
	return wireMerchant{MerchantID: m.ID, OnboardingStatus: m.OnboardingStatus, OnboardingURL: m.OnboardingURL,
		merchantIn: merchantIn{Email: m.Email, DisplayName: m.DisplayName, BusinessName: m.BusinessName,
			Country: m.Country, Phone: m.Phone, Website: m.Website, Instagram: m.Instagram, Industry: m.Industry,
			DisplayCurrency: m.DisplayCurrency, AccountType: m.AccountType},
		CreatedAt: formatTime(m.CreatedAt)}
}

// upperLetters reports whether s is n upper-case ASCII letters.
func upperLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// validateMerchant applies the documented merchant rules. JoPay does not name the error code
// of every rule; where it does not, the fake answers invalid_<field>.
func validateMerchant(in *merchantIn) string {
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			return "invalid_email"
		}
	}
	if in.Country != "" && !upperLetters(in.Country, 2) {
		return "invalid_country"
	}
	if in.DisplayCurrency != "" && !upperLetters(in.DisplayCurrency, 3) {
		return "invalid_currency"
	}
	if in.AccountType != "" && in.AccountType != "business" && in.AccountType != "individual" {
		return "invalid_account_type"
	}
	for _, f := range []struct {
		code, v string
		max     int
	}{{"invalid_business_name", in.BusinessName, 120}, {"invalid_phone", in.Phone, 32},
		{"invalid_instagram", in.Instagram, 200}, {"invalid_industry", in.Industry, 80}} {
		if utf8.RuneCountInString(f.v) > f.max {
			return f.code
		}
	}
	return ""
}

func (s *Server) handleCreateMerchant(w http.ResponseWriter, r *http.Request, sp *space) {
	var in merchantIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", nil)
		return
	}
	if code := validateMerchant(&in); code != "" {
		writeError(w, http.StatusBadRequest, code, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newUUID()
	m := &merchant{ID: id, Email: in.Email, DisplayName: in.DisplayName, BusinessName: in.BusinessName,
		Country: in.Country, Phone: in.Phone, Website: in.Website, Instagram: in.Instagram, Industry: in.Industry,
		DisplayCurrency: in.DisplayCurrency, AccountType: in.AccountType, OnboardingStatus: "incomplete",
		OnboardingURL: s.URL + "/onboarding/" + id, CreatedAt: msTime(s.now())}
	sp.addMerchant(m)
	writeJSON(w, http.StatusOK, okMerchant{OK: true, wireMerchant: toWireMerchant(m)})
}

func (s *Server) handleGetMerchant(w http.ResponseWriter, r *http.Request, sp *space) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := sp.byMID[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", nil)
		return
	}
	writeJSON(w, http.StatusOK, okMerchant{OK: true, wireMerchant: toWireMerchant(m)})
}

func (s *Server) handleListMerchants(w http.ResponseWriter, r *http.Request, sp *space) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		OK        bool           `json:"ok"`
		Merchants []wireMerchant `json:"merchants"`
	}{OK: true, Merchants: []wireMerchant{}}
	for _, m := range sp.merchants {
		out.Merchants = append(out.Merchants, toWireMerchant(m))
	}
	writeJSON(w, http.StatusOK, out)
}

// AddMerchant stores an onboarded merchant in sandbox data (and production data when live is
// true) and returns its id.
func (s *Server) AddMerchant(displayName string, live bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &merchant{ID: newUUID(), DisplayName: displayName, OnboardingStatus: "complete", CreatedAt: msTime(s.now()),
		DisplayCurrency: strings.ToUpper(s.currency), AccountType: "business"}
	sp := s.spaces[jopay.ModeTest]
	if live {
		sp = s.spaces[jopay.ModeLive]
	}
	sp.addMerchant(m)
	return m.ID
}
