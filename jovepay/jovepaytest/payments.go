package jovepaytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/jovepay"
)

// payment is the fake's state of one payment.
type payment struct {
	id, parentID, invoiceID, purchaseID int64
	originType                          string
	status                              jovepay.PaymentStatus
	payAddress, payinExtraID            string
	priceAmount, payAmount              paykit.Decimal
	actuallyPaid, outcomeAmount         paykit.Decimal
	priceCurrency, payCurrency          string
	outcomeCurrency                     string
	askedCurrency                       string // the order's pay_currency, once a wrong-asset deposit replaced it
	orderID, orderDescription           string
	ipnURL                              string
	fixedRate, feePaidByUser            bool
	payinHash, payoutHash               string
	createdAt, updatedAt, expiresAt     time.Time
}

// ordered returns the asset the order asked the customer to pay in.
func (p *payment) ordered() string {
	if p.askedCurrency != "" {
		return p.askedCurrency
	}
	return p.payCurrency
}

// idText is a JSON id that is a string (create responses) or a number (everywhere else).
func idText(id int64, asString bool) any {
	if id == 0 {
		return nil
	}
	if asString {
		return strconv.FormatInt(id, 10)
	}
	return json.Number(strconv.FormatInt(id, 10))
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// wirePayment is a payment as the API renders it.
type wirePayment struct {
	PaymentID              any            `json:"payment_id"`
	ParentPaymentID        any            `json:"parent_payment_id"`
	OriginType             any            `json:"origin_type,omitempty"`
	InvoiceID              any            `json:"invoice_id"`
	PaymentStatus          string         `json:"payment_status"`
	PayAddress             string         `json:"pay_address"`
	PayinExtraID           any            `json:"payin_extra_id"`
	PriceAmount            paykit.Decimal `json:"price_amount"`
	PriceCurrency          string         `json:"price_currency"`
	PayAmount              paykit.Decimal `json:"pay_amount"`
	ActuallyPaid           paykit.Decimal `json:"actually_paid"`
	PayCurrency            string         `json:"pay_currency"`
	OrderID                any            `json:"order_id"`
	OrderDescription       any            `json:"order_description"`
	IPNCallbackURL         any            `json:"ipn_callback_url"`
	PurchaseID             any            `json:"purchase_id"`
	AmountReceived         any            `json:"amount_received"`
	OutcomeAmount          paykit.Decimal `json:"outcome_amount"`
	OutcomeCurrency        string         `json:"outcome_currency"`
	PayinHash              any            `json:"payin_hash"`
	PayoutHash             any            `json:"payout_hash"`
	Network                string         `json:"network"`
	Type                   string         `json:"type"`
	IsFixedRate            bool           `json:"is_fixed_rate"`
	IsFeePaidByUser        bool           `json:"is_fee_paid_by_user"`
	ExpirationEstimateDate string         `json:"expiration_estimate_date"`
	CreatedAt              string         `json:"created_at"`
	UpdatedAt              string         `json:"updated_at"`
}

// render renders p; create responses carry string ids, status and list responses numbers (the
// documented drift).
func (p *payment) render(stringIDs bool) wirePayment {
	w := wirePayment{
		PaymentID: idText(p.id, stringIDs), ParentPaymentID: idText(p.parentID, false),
		InvoiceID: idText(p.invoiceID, false), PaymentStatus: string(p.status),
		PayAddress: p.payAddress, PayinExtraID: nullable(p.payinExtraID),
		PriceAmount: p.priceAmount, PriceCurrency: p.priceCurrency, PayAmount: p.payAmount,
		ActuallyPaid: p.actuallyPaid, PayCurrency: p.payCurrency,
		OrderID: nullable(p.orderID), OrderDescription: nullable(p.orderDescription),
		IPNCallbackURL: nullable(p.ipnURL), PurchaseID: idText(p.purchaseID, true),
		OutcomeAmount: p.outcomeAmount, OutcomeCurrency: p.outcomeCurrency,
		PayinHash: nullable(p.payinHash), PayoutHash: nullable(p.payoutHash),
		Network: network(p.payCurrency), Type: "crypto2crypto",
		IsFixedRate: p.fixedRate, IsFeePaidByUser: p.feePaidByUser,
		ExpirationEstimateDate: p.expiresAt.UTC().Format(isoMillis),
		CreatedAt:              p.createdAt.UTC().Format(isoMillis), UpdatedAt: p.updatedAt.UTC().Format(isoMillis),
	}
	if p.originType != "" {
		w.OriginType = p.originType
	}
	return w
}

// ipnFee is the fee object of a payment IPN.
type ipnFee struct {
	Currency      string         `json:"currency"`
	DepositFee    paykit.Decimal `json:"depositFee"`
	WithdrawalFee paykit.Decimal `json:"withdrawalFee"`
	ServiceFee    paykit.Decimal `json:"serviceFee"`
}

// ipnBody is a payment IPN, with the keys of JovePay's payment webhook example.
type ipnBody struct {
	PaymentID          any            `json:"payment_id"`
	ParentPaymentID    any            `json:"parent_payment_id"`
	InvoiceID          any            `json:"invoice_id"`
	PaymentStatus      string         `json:"payment_status"`
	PayAddress         string         `json:"pay_address"`
	PayinExtraID       any            `json:"payin_extra_id"`
	PriceAmount        paykit.Decimal `json:"price_amount"`
	PriceCurrency      string         `json:"price_currency"`
	PayAmount          paykit.Decimal `json:"pay_amount"`
	ActuallyPaid       paykit.Decimal `json:"actually_paid"`
	ActuallyPaidAtFiat paykit.Decimal `json:"actually_paid_at_fiat"`
	PayCurrency        string         `json:"pay_currency"`
	OrderID            any            `json:"order_id"`
	OrderDescription   any            `json:"order_description"`
	PurchaseID         any            `json:"purchase_id"`
	OutcomeAmount      paykit.Decimal `json:"outcome_amount"`
	OutcomeCurrency    string         `json:"outcome_currency"`
	PaymentExtraIDs    any            `json:"payment_extra_ids"`
	Fee                ipnFee         `json:"fee"`
}

func (s *Server) ipnBody(p *payment) ([]byte, error) {
	fee := ipnFee{Currency: p.payCurrency, DepositFee: paykit.MustDecimal("0"), WithdrawalFee: paykit.MustDecimal("0"), ServiceFee: paykit.MustDecimal("0")}
	if p.actuallyPaid.Sign() > 0 {
		fee.ServiceFee = trim(p.actuallyPaid.Mul(paykit.MustDecimal("0.005")).Round(8))
	}
	return json.Marshal(ipnBody{
		PaymentID: idText(p.id, false), ParentPaymentID: idText(p.parentID, false), InvoiceID: idText(p.invoiceID, false),
		PaymentStatus: string(p.status), PayAddress: p.payAddress, PayinExtraID: nullable(p.payinExtraID),
		PriceAmount: p.priceAmount, PriceCurrency: p.priceCurrency, PayAmount: p.payAmount,
		ActuallyPaid: p.actuallyPaid, ActuallyPaidAtFiat: s.convert(p.actuallyPaid, p.payCurrency, p.priceCurrency),
		PayCurrency: p.payCurrency, OrderID: nullable(p.orderID), OrderDescription: nullable(p.orderDescription),
		PurchaseID: idText(p.purchaseID, true), OutcomeAmount: p.outcomeAmount, OutcomeCurrency: p.outcomeCurrency,
		Fee: fee,
	})
}

func network(cur string) string {
	if info, ok := knownCurrencies[cur]; ok {
		return info.Network
	}
	return cur
}

// address derives a stable, plausible-looking deposit address for a payment.
func address(cur string, id int64) string {
	sum := sha256.Sum256([]byte(cur + strconv.FormatInt(id, 10)))
	h := hex.EncodeToString(sum[:])
	switch network(cur) {
	case "btc":
		return "bc1q" + h[:38]
	case "ltc":
		return "ltc1q" + h[:38]
	case "eth":
		return "0x" + h[:40]
	case "trx":
		return "T" + strings.ToUpper(h[:33])
	case "xrp":
		return "r" + h[:33]
	}
	return cur + "_" + h[:32]
}

// createPaymentBody is POST /payment's body; amounts decode from numbers or strings.
type createPaymentBody struct {
	PriceAmount      *paykit.Decimal `json:"price_amount"`
	PriceCurrency    string          `json:"price_currency"`
	PayCurrency      string          `json:"pay_currency"`
	PayAmount        *paykit.Decimal `json:"pay_amount"`
	IPNCallbackURL   string          `json:"ipn_callback_url"`
	OrderID          string          `json:"order_id"`
	OrderDescription string          `json:"order_description"`
	PurchaseID       jsonx.ID        `json:"purchase_id"`
	PayoutAddress    string          `json:"payout_address"`
	PayoutCurrency   string          `json:"payout_currency"`
	PayoutExtraID    string          `json:"payout_extra_id"`
	IsFixedRate      bool            `json:"is_fixed_rate"`
	IsFeePaidByUser  bool            `json:"is_fee_paid_by_user"`
	Case             string          `json:"case"`
}

func (s *Server) handleCreatePayment(w http.ResponseWriter, r *http.Request) *apiError {
	var in createPaymentBody
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.PriceAmount == nil || in.PriceAmount.Sign() <= 0 {
		return badRequest("price_amount must be a positive number")
	}
	if in.PayAmount != nil && in.PayAmount.Sign() <= 0 {
		return badRequest("pay_amount must be a positive number")
	}
	p, err := s.newPayment(paymentSpec{
		priceAmount: *in.PriceAmount, priceCurrency: in.PriceCurrency, payCurrency: in.PayCurrency,
		payAmount: in.PayAmount, ipnURL: in.IPNCallbackURL, orderID: in.OrderID, orderDescription: in.OrderDescription,
		purchaseID: string(in.PurchaseID), payoutAddress: in.PayoutAddress, payoutCurrency: in.PayoutCurrency,
		fixedRate: in.IsFixedRate || in.IsFeePaidByUser, feePaidByUser: in.IsFeePaidByUser,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

type paymentSpec struct {
	priceAmount                  paykit.Decimal
	priceCurrency, payCurrency   string
	payAmount                    *paykit.Decimal
	ipnURL, orderID              string
	orderDescription, purchaseID string
	payoutAddress                string
	payoutCurrency               string
	fixedRate, feePaidByUser     bool
	invoiceID                    int64
}

// newPayment validates spec like JovePay and stores a waiting payment; it returns the create
// response.
func (s *Server) newPayment(spec paymentSpec) (wirePayment, *apiError) {
	priceCur, payCur := strings.ToLower(spec.priceCurrency), strings.ToLower(spec.payCurrency)
	switch {
	case priceCur == "":
		return wirePayment{}, badRequest("price_currency is required")
	case payCur == "":
		return wirePayment{}, badRequest("pay_currency is required")
	case !s.known(priceCur):
		return wirePayment{}, badRequest("price_currency " + priceCur + " is not supported")
	case !s.isCrypto(payCur):
		return wirePayment{}, badRequest("pay_currency " + payCur + " is not supported")
	case spec.ipnURL != "" && !strings.HasPrefix(spec.ipnURL, "http://") && !strings.HasPrefix(spec.ipnURL, "https://"):
		return wirePayment{}, badRequest("ipn_callback_url must start with http or https")
	case spec.payoutAddress != "" && spec.payoutCurrency == "":
		return wirePayment{}, badRequest("payout_currency is required with payout_address")
	}
	var purchase int64
	if spec.purchaseID != "" {
		n, err := strconv.ParseInt(spec.purchaseID, 10, 64)
		if err != nil {
			return wirePayment{}, badRequest("purchase_id must be numeric")
		}
		purchase = n
	}
	payAmount := s.convert(spec.priceAmount, priceCur, payCur)
	if spec.payAmount != nil {
		payAmount = *spec.payAmount
	}
	if min, ok := s.cfg.mins[payCur]; ok && payAmount.LessThan(min) {
		return wirePayment{}, &apiError{http.StatusBadRequest, "AMOUNT_MINIMAL_ERROR",
			"amountTo is too small: " + payAmount.String() + " " + payCur + " is below the minimum " + min.String()}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	if purchase == 0 {
		s.nextID++
		purchase = s.nextID
	}
	life := 7 * 24 * time.Hour
	if spec.fixedRate {
		life = 20 * time.Minute
	}
	p := &payment{
		id: id, invoiceID: spec.invoiceID, purchaseID: purchase, status: jovepay.StatusWaiting,
		payAddress: address(payCur, id), priceAmount: trim(spec.priceAmount), priceCurrency: priceCur,
		payAmount: payAmount, payCurrency: payCur, outcomeCurrency: payCur,
		orderID: spec.orderID, orderDescription: spec.orderDescription, ipnURL: spec.ipnURL,
		fixedRate: spec.fixedRate, feePaidByUser: spec.feePaidByUser,
		createdAt: now, updatedAt: now, expiresAt: now.Add(life),
	}
	if payCur == "xrp" {
		p.payinExtraID = strconv.FormatInt(id%1_000_000_000, 10)
	}
	s.payments[id] = p
	s.order = append(s.order, id)
	return p.render(true), nil
}

func (s *Server) lookup(raw string) (*payment, *apiError) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("payment id must be numeric")
	}
	p, ok := s.payments[id]
	if !ok {
		return nil, notFound("payment " + raw + " not found")
	}
	return p, nil
}

func (s *Server) handleGetPayment(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	p, err := s.lookup(r.PathValue("id"))
	var out wirePayment
	if err == nil {
		out = p.render(false)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleUpdateEstimate(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	p, err := s.lookup(r.PathValue("id"))
	if err == nil && p.status != jovepay.StatusWaiting {
		err = badRequest("estimate can only be updated for a waiting payment")
	}
	var out map[string]any
	if err == nil {
		p.payAmount = s.convert(p.priceAmount, p.priceCurrency, p.payCurrency)
		p.expiresAt = s.now().Add(20 * time.Minute)
		out = map[string]any{
			"id": strconv.FormatInt(p.id, 10), "token_id": strconv.FormatInt(p.purchaseID, 10),
			"pay_amount": p.payAmount, "expiration_estimate_date": p.expiresAt.UTC().Format(isoMillis),
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

var sortable = map[string]bool{
	"created_at": true, "updated_at": true, "payment_id": true, "payment_status": true, "price_amount": true,
	"pay_amount": true, "actually_paid": true, "order_id": true, "outcome_amount": true,
}

type listResponse struct {
	Data       []wirePayment `json:"data"`
	Limit      int           `json:"limit"`
	Page       int           `json:"page"`
	PagesCount int           `json:"pagesCount"`
	Total      int           `json:"total"`
}

func (s *Server) handleListPayments(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	limit, page := 10, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return badRequest("limit must be between 1 and 500")
		}
		limit = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("page must be a non-negative integer")
		}
		page = n
	}
	sortBy := q.Get("sortBy")
	if sortBy == "" {
		sortBy = "created_at"
	}
	if !sortable[sortBy] {
		return badRequest("sortBy " + sortBy + " is not supported")
	}
	orderBy := q.Get("orderBy")
	if orderBy != "" && orderBy != "asc" && orderBy != "desc" {
		return badRequest("orderBy must be asc or desc")
	}
	var from, to time.Time
	for _, d := range []struct {
		key string
		dst *time.Time
	}{{"dateFrom", &from}, {"dateTo", &to}} {
		if v := q.Get(d.key); v != "" {
			t, err := jsonx.ParseTime(v)
			if err != nil {
				return badRequest(d.key + " must be YYYY-MM-DD or an ISO date")
			}
			*d.dst = t
		}
	}
	var invoice int64
	if v := q.Get("invoiceId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return badRequest("invoiceId must be numeric")
		}
		invoice = n
	}

	s.mu.Lock()
	var matched []*payment
	for _, id := range s.order {
		p := s.payments[id]
		if !from.IsZero() && p.createdAt.Before(from) || !to.IsZero() && p.createdAt.After(to) ||
			invoice != 0 && p.invoiceID != invoice {
			continue
		}
		matched = append(matched, p)
	}
	desc := orderBy == "desc"
	sort.SliceStable(matched, func(i, j int) bool {
		c := compare(matched[i], matched[j], sortBy)
		if c == 0 {
			c = cmpInt(matched[i].id, matched[j].id)
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
	out := listResponse{Data: []wirePayment{}, Limit: limit, Page: page, Total: len(matched)}
	out.PagesCount = (len(matched) + limit - 1) / limit
	for i := page * limit; i < len(matched) && i < (page+1)*limit; i++ {
		out.Data = append(out.Data, matched[i].render(false))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(a, b *payment, field string) int {
	switch field {
	case "updated_at":
		return a.updatedAt.Compare(b.updatedAt)
	case "payment_id":
		return cmpInt(a.id, b.id)
	case "payment_status":
		return strings.Compare(string(a.status), string(b.status))
	case "price_amount":
		return a.priceAmount.Cmp(b.priceAmount)
	case "pay_amount":
		return a.payAmount.Cmp(b.payAmount)
	case "actually_paid":
		return a.actuallyPaid.Cmp(b.actuallyPaid)
	case "order_id":
		return strings.Compare(a.orderID, b.orderID)
	case "outcome_amount":
		return a.outcomeAmount.Cmp(b.outcomeAmount)
	}
	return a.createdAt.Compare(b.createdAt)
}
