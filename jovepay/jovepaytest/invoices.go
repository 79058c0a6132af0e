package jovepaytest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/jovepay"
)

// invoice is the fake's state of one hosted invoice.
type invoice struct {
	id, tokenID                             int64
	priceAmount                             paykit.Decimal
	priceCurrency, payCurrency              string
	ipnURL, orderID, orderDescription       string
	successURL, cancelURL, partiallyPaidURL string
	fixedRate, feePaidByUser                bool
	createdAt, updatedAt                    time.Time
}

type wireInvoice struct {
	ID               string `json:"id"`
	TokenID          string `json:"token_id"`
	OrderID          any    `json:"order_id"`
	OrderDescription any    `json:"order_description"`
	// PriceAmount is a string in this response, as documented.
	PriceAmount      string `json:"price_amount"`
	PriceCurrency    string `json:"price_currency"`
	PayCurrency      any    `json:"pay_currency"`
	IPNCallbackURL   any    `json:"ipn_callback_url"`
	InvoiceURL       string `json:"invoice_url"`
	SuccessURL       any    `json:"success_url"`
	CancelURL        any    `json:"cancel_url"`
	PartiallyPaidURL any    `json:"partially_paid_url"`
	PayoutCurrency   any    `json:"payout_currency"`
	IsFixedRate      bool   `json:"is_fixed_rate"`
	IsFeePaidByUser  bool   `json:"is_fee_paid_by_user"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
}

func (s *Server) renderInvoice(inv *invoice) wireInvoice {
	id := strconv.FormatInt(inv.id, 10)
	return wireInvoice{
		ID: id, TokenID: strconv.FormatInt(inv.tokenID, 10), OrderID: nullable(inv.orderID),
		OrderDescription: nullable(inv.orderDescription), PriceAmount: inv.priceAmount.String(),
		PriceCurrency: inv.priceCurrency, PayCurrency: nullable(inv.payCurrency), IPNCallbackURL: nullable(inv.ipnURL),
		InvoiceURL: s.URL + "/payment/?iid=" + id, SuccessURL: nullable(inv.successURL), CancelURL: nullable(inv.cancelURL),
		PartiallyPaidURL: nullable(inv.partiallyPaidURL), PayoutCurrency: nullable(inv.payCurrency),
		IsFixedRate: inv.fixedRate, IsFeePaidByUser: inv.feePaidByUser,
		CreatedAt: inv.createdAt.UTC().Format(isoMillis), UpdatedAt: inv.updatedAt.UTC().Format(isoMillis),
	}
}

func validURL(u string) bool {
	return u == "" || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

func (s *Server) handleCreateInvoice(w http.ResponseWriter, r *http.Request) *apiError {
	var in struct {
		PriceAmount      *paykit.Decimal `json:"price_amount"`
		PriceCurrency    string          `json:"price_currency"`
		PayCurrency      string          `json:"pay_currency"`
		IPNCallbackURL   string          `json:"ipn_callback_url"`
		OrderID          string          `json:"order_id"`
		OrderDescription string          `json:"order_description"`
		SuccessURL       string          `json:"success_url"`
		CancelURL        string          `json:"cancel_url"`
		PartiallyPaidURL string          `json:"partially_paid_url"`
		IsFixedRate      bool            `json:"is_fixed_rate"`
		IsFeePaidByUser  bool            `json:"is_fee_paid_by_user"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	priceCur, payCur := strings.ToLower(in.PriceCurrency), strings.ToLower(in.PayCurrency)
	switch {
	case in.PriceAmount == nil || in.PriceAmount.Sign() <= 0:
		return badRequest("price_amount must be a positive number")
	case priceCur == "":
		return badRequest("price_currency is required")
	case !s.known(priceCur):
		return badRequest("price_currency " + priceCur + " is not supported")
	case payCur != "" && !s.isCrypto(payCur):
		return badRequest("pay_currency " + payCur + " is not supported")
	case !validURL(in.IPNCallbackURL) || !validURL(in.SuccessURL) || !validURL(in.CancelURL) || !validURL(in.PartiallyPaidURL):
		return badRequest("urls must start with http or https")
	}
	now := s.now()
	s.mu.Lock()
	s.nextID += 2
	inv := &invoice{
		id: s.nextID - 1, tokenID: s.nextID, priceAmount: trim(*in.PriceAmount), priceCurrency: priceCur, payCurrency: payCur,
		ipnURL: in.IPNCallbackURL, orderID: in.OrderID, orderDescription: in.OrderDescription,
		successURL: in.SuccessURL, cancelURL: in.CancelURL, partiallyPaidURL: in.PartiallyPaidURL,
		fixedRate: in.IsFixedRate || in.IsFeePaidByUser, feePaidByUser: in.IsFeePaidByUser, createdAt: now, updatedAt: now,
	}
	s.invoices[inv.id] = inv
	out := s.renderInvoice(inv)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) handleCreateInvoicePayment(w http.ResponseWriter, r *http.Request) *apiError {
	var in struct {
		IID              jsonx.ID `json:"iid"`
		PayCurrency      string   `json:"pay_currency"`
		PurchaseID       jsonx.ID `json:"purchase_id"`
		OrderDescription string   `json:"order_description"`
		CustomerEmail    string   `json:"customer_email"`
		PayoutAddress    string   `json:"payout_address"`
		PayoutCurrency   string   `json:"payout_currency"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.IID == "" {
		return badRequest("iid is required")
	}
	if in.PayCurrency == "" {
		return badRequest("pay_currency is required")
	}
	inv, apiErr := s.invoice(string(in.IID))
	if apiErr != nil {
		return apiErr
	}
	desc := inv.orderDescription
	if in.OrderDescription != "" {
		desc = in.OrderDescription
	}
	p, apiErr := s.newPayment(paymentSpec{
		priceAmount: inv.priceAmount, priceCurrency: inv.priceCurrency, payCurrency: in.PayCurrency,
		ipnURL: inv.ipnURL, orderID: inv.orderID, orderDescription: desc, purchaseID: string(in.PurchaseID),
		payoutAddress: in.PayoutAddress, payoutCurrency: in.PayoutCurrency,
		fixedRate: inv.fixedRate, feePaidByUser: inv.feePaidByUser, invoiceID: inv.id,
	})
	if apiErr != nil {
		return apiErr
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// invoice returns a copy of the invoice with that id.
func (s *Server) invoice(raw string) (invoice, *apiError) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return invoice{}, badRequest("iid must be numeric")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[id]
	if !ok {
		return invoice{}, notFound("invoice " + raw + " not found")
	}
	return *inv, nil
}

// handleInvoicePage is the hosted invoice page (invoice_url). Once a payment of the invoice is
// finished it redirects to success_url (partially_paid_url for a partial payment), as the real
// page sends the customer back to the shop; before that it shows a plain text summary.
func (s *Server) handleInvoicePage(w http.ResponseWriter, r *http.Request) {
	inv, apiErr := s.invoice(r.URL.Query().Get("iid"))
	if apiErr != nil {
		http.Error(w, "invoice not found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	var status jovepay.PaymentStatus
	for _, id := range s.order {
		if p := s.payments[id]; p.invoiceID == inv.id && p.parentID == 0 {
			status = p.status
		}
	}
	s.mu.Unlock()
	switch {
	case status == jovepay.StatusFinished && inv.successURL != "":
		http.Redirect(w, r, inv.successURL, http.StatusSeeOther)
		return
	case status == jovepay.StatusPartiallyPaid && inv.partiallyPaidURL != "":
		http.Redirect(w, r, inv.partiallyPaidURL, http.StatusSeeOther)
		return
	}
	if status == "" {
		status = "choose a currency"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "JovePay invoice "+strconv.FormatInt(inv.id, 10)+": "+inv.priceAmount.String()+" "+
		strings.ToUpper(inv.priceCurrency)+" — "+string(status)+"\n")
}
