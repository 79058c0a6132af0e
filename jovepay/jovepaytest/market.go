package jovepaytest

import (
	"math/big"
	"net/http"
	"sort"
	"strings"

	"github.com/paykit-go/paykit"
)

// The fake's market: a fixed USD price per currency, so estimates are deterministic.

// fiat currencies are valid price currencies but not pay currencies.
var fiat = map[string]bool{"usd": true, "eur": true, "gbp": true, "cad": true, "aud": true}

func defaultRates() map[string]paykit.Decimal {
	return map[string]paykit.Decimal{
		"usd": paykit.MustDecimal("1"), "eur": paykit.MustDecimal("1.08"), "gbp": paykit.MustDecimal("1.27"),
		"cad": paykit.MustDecimal("0.73"), "aud": paykit.MustDecimal("0.66"),
		"btc": paykit.MustDecimal("50000"), "eth": paykit.MustDecimal("2500"), "ltc": paykit.MustDecimal("80"),
		"trx": paykit.MustDecimal("0.1"), "usdttrc20": paykit.MustDecimal("1"), "xrp": paykit.MustDecimal("0.5"),
	}
}

func defaultMins() map[string]paykit.Decimal {
	return map[string]paykit.Decimal{
		"btc": paykit.MustDecimal("0.0002"), "eth": paykit.MustDecimal("0.004"), "ltc": paykit.MustDecimal("0.1"),
		"trx": paykit.MustDecimal("100"), "usdttrc20": paykit.MustDecimal("10"), "xrp": paykit.MustDecimal("20"),
	}
}

// currency details for /full-currencies.
type currencyInfo struct {
	ID            int64  `json:"id"`
	Code          string `json:"code"`
	Name          string `json:"name"`
	Enable        bool   `json:"enable"`
	WalletRegex   string `json:"wallet_regex"`
	Priority      int    `json:"priority"`
	ExtraIDExists bool   `json:"extra_id_exists"`
	ExtraIDRegex  any    `json:"extra_id_regex"`
	LogoURL       string `json:"logo_url"`
	Track         bool   `json:"track"`
	CGID          string `json:"cg_id"`
	IsMaxLimit    bool   `json:"is_maxlimit"`
	Network       string `json:"network"`
	SmartContract any    `json:"smart_contract"`
	NetworkPrec   any    `json:"network_precision"`
}

var knownCurrencies = map[string]currencyInfo{
	"btc":       {ID: 1, Code: "BTC", Name: "Bitcoin", WalletRegex: "^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$", Network: "btc", CGID: "bitcoin"},
	"eth":       {ID: 2, Code: "ETH", Name: "Ethereum", WalletRegex: "^(0x)[0-9A-Fa-f]{40}$", Network: "eth", CGID: "ethereum"},
	"ltc":       {ID: 3, Code: "LTC", Name: "Litecoin", WalletRegex: "^(L|M|3|ltc1)[a-zA-HJ-NP-Z0-9]{26,40}$", Network: "ltc", CGID: "litecoin"},
	"trx":       {ID: 4, Code: "TRX", Name: "Tron", WalletRegex: "^T[1-9A-HJ-NP-Za-km-z]{33}$", Network: "trx", CGID: "tron"},
	"usdttrc20": {ID: 5, Code: "USDTTRC20", Name: "Tether USD (Tron)", WalletRegex: "^T[1-9A-HJ-NP-Za-km-z]{33}$", Network: "trx", CGID: "tether", SmartContract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", NetworkPrec: 6},
	// Not offered by default (add it WithRate): USDT on Ethereum, the usual wrong network for a
	// usdttrc20 payment.
	"usdterc20": {ID: 7, Code: "USDTERC20", Name: "Tether USD (Ethereum)", WalletRegex: "^(0x)[0-9A-Fa-f]{40}$", Network: "eth", CGID: "tether", SmartContract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", NetworkPrec: 6},
	"xrp":       {ID: 6, Code: "XRP", Name: "Ripple", WalletRegex: "^r[1-9A-HJ-NP-Za-km-z]{25,34}$", ExtraIDExists: true, ExtraIDRegex: "^[0-9]{1,10}$", Network: "xrp", CGID: "ripple"},
}

// cryptos returns the pay currencies the fake knows, sorted.
func (s *Server) cryptos() []string {
	var out []string
	for c := range s.cfg.rates {
		if !fiat[c] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Server) known(cur string) bool { _, ok := s.cfg.rates[strings.ToLower(cur)]; return ok }

func (s *Server) isCrypto(cur string) bool {
	c := strings.ToLower(cur)
	return s.known(c) && !fiat[c]
}

// convert converts amount from one currency to another through USD, rounded half away from zero
// to 8 decimals (2 for fiat) and without trailing zeros, as a JSON number from JovePay would be.
func (s *Server) convert(amount paykit.Decimal, from, to string) paykit.Decimal {
	pf, pt := s.cfg.rates[strings.ToLower(from)], s.cfg.rates[strings.ToLower(to)]
	r := new(big.Rat).Mul(rat(amount), rat(pf))
	r.Quo(r, rat(pt))
	places := 8
	if fiat[strings.ToLower(to)] {
		places = 2
	}
	return trim(paykit.MustDecimal(r.FloatString(places + 1)).Round(int32(places)))
}

func rat(d paykit.Decimal) *big.Rat {
	r, _ := new(big.Rat).SetString(d.String())
	return r
}

// trim drops trailing fractional zeros: 0.00050000 → 0.0005.
func trim(d paykit.Decimal) paykit.Decimal {
	s := d.String()
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return paykit.MustDecimal(s)
}

func (s *Server) handleCurrencies(w http.ResponseWriter, r *http.Request) *apiError {
	fixed := r.URL.Query().Get("fixed_rate")
	if fixed != "" && fixed != "true" && fixed != "false" {
		return badRequest("fixed_rate must be true or false")
	}
	list := s.cryptos()
	if fixed == "true" {
		// Fixed-rate quotes are not offered for tokens in this fake.
		var out []string
		for _, c := range list {
			if c != "usdttrc20" {
				out = append(out, c)
			}
		}
		list = out
	}
	writeJSON(w, http.StatusOK, map[string][]string{"currencies": list})
	return nil
}

func (s *Server) handleFullCurrencies(w http.ResponseWriter, _ *http.Request) *apiError {
	var out []currencyInfo
	for i, c := range s.cryptos() {
		info, ok := knownCurrencies[c]
		if !ok {
			info = currencyInfo{ID: int64(100 + i), Code: strings.ToUpper(c), Name: strings.ToUpper(c), Network: c}
		}
		info.Enable, info.Priority, info.LogoURL = true, i+1, "/images/coins/"+c+".svg"
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"currencies": out})
	return nil
}

func (s *Server) handleMerchantCoins(w http.ResponseWriter, _ *http.Request) *apiError {
	var up []string
	for _, c := range s.cryptos() {
		up = append(up, strings.ToUpper(c))
	}
	writeJSON(w, http.StatusOK, map[string][]string{s.cfg.coinsField: up})
	return nil
}

type minAmountResponse struct {
	CurrencyFrom   string          `json:"currency_from"`
	CurrencyTo     string          `json:"currency_to"`
	MinAmount      paykit.Decimal  `json:"min_amount"`
	FiatEquivalent *paykit.Decimal `json:"fiat_equivalent,omitempty"`
}

func (s *Server) handleMinAmount(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	from, to := strings.ToLower(q.Get("currency_from")), strings.ToLower(q.Get("currency_to"))
	if from == "" {
		return badRequest("currency_from is required")
	}
	if !s.isCrypto(from) {
		return badRequest("currency_from " + from + " is not supported")
	}
	if to == "" {
		to = from
	}
	if !s.isCrypto(to) {
		return badRequest("currency_to " + to + " is not supported")
	}
	min := s.cfg.mins[from]
	if min.IsZero() {
		min = paykit.MustDecimal("0.00000001")
	}
	out := minAmountResponse{CurrencyFrom: from, CurrencyTo: to, MinAmount: min}
	if f := strings.ToLower(q.Get("fiat_equivalent")); f != "" {
		if !fiat[f] || !s.known(f) {
			return badRequest("fiat_equivalent " + f + " is not supported")
		}
		v := s.convert(min, from, f)
		out.FiatEquivalent = &v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type estimateResponse struct {
	CurrencyFrom    string         `json:"currency_from"`
	AmountFrom      paykit.Decimal `json:"amount_from"`
	CurrencyTo      string         `json:"currency_to"`
	EstimatedAmount paykit.Decimal `json:"estimated_amount"`
}

func (s *Server) handleEstimate(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	from, to := strings.ToLower(q.Get("currency_from")), strings.ToLower(q.Get("currency_to"))
	if q.Get("amount") == "" || from == "" || to == "" {
		return badRequest("amount, currency_from and currency_to are required")
	}
	amount, err := paykit.ParseDecimal(q.Get("amount"))
	if err != nil || amount.Sign() <= 0 {
		return badRequest("amount must be a positive number")
	}
	if !s.known(from) || !s.known(to) {
		return badRequest("currency pair " + from + "/" + to + " is not supported")
	}
	writeJSON(w, http.StatusOK, estimateResponse{CurrencyFrom: from, AmountFrom: amount, CurrencyTo: to, EstimatedAmount: s.convert(amount, from, to)})
	return nil
}
