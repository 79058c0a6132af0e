package pepay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// CreateInvoiceParams describes an invoice. AmountUSD is required; every other field is
// optional. All documented limits are checked before anything is sent (see the constants).
type CreateInvoiceParams struct {
	// AmountUSD is the amount in US dollars, MinAmount to MaxAmount ($0.01–$1,000,000), with at most three
	// decimal places (Pepay stores usd_millis; a fourth place would be rounded away). Sent as a
	// JSON number with its digits ("25.00" stays 25.00).
	AmountUSD paykit.Decimal
	// Description is shown to the payor (≤ 255 characters).
	Description string
	// CustomerID is your customer reference (≤ 255); ListCustomerInvoices filters on it.
	CustomerID string
	// CustomerEmail is the payor's email (≤ 255, a plain address).
	CustomerEmail string
	// Metadata is stored on the invoice and returned in events; at most 512 bytes serialized.
	Metadata Metadata
	// ExpiresIn is how long the invoice can be paid: whole milliseconds from 1 ms to 30 days.
	// Zero means Pepay's default, DefaultExpiresIn (12 hours).
	ExpiresIn time.Duration
	// InvoiceTitle and InvoiceFooter default to the company name (≤ 255 each).
	InvoiceTitle  string
	InvoiceFooter string // invoice_footer; see InvoiceTitle
	// PaymentReturnURL is where the payor is sent after paying: an https URL of at most 2048
	// characters.
	PaymentReturnURL string
	// PaymentReturnURLEnabled, when set to false, disables the redirect. nil sends nothing.
	PaymentReturnURLEnabled *bool
	// ReceiverOverrideEnable settles this invoice to ReceiverOverrideAddress instead of the
	// account's settlement address; the address is then required.
	ReceiverOverrideEnable  bool
	ReceiverOverrideAddress string // the settlement address used with ReceiverOverrideEnable
	// Questions are asked to the payor at checkout: at most 5, at most 512 bytes serialized.
	Questions []Question

	// IdempotencyKey is the Idempotency-Key header, a UUID. When empty it is derived from
	// OrderRef (idempotency.UUID("pepay-invoice", OrderRef)) or, without OrderRef, generated at
	// random. It is sent unchanged on every retry of the call, so a retried create never makes a
	// second invoice; reusing it with a different body fails with ErrIdempotencyConflict.
	IdempotencyKey string
	// OrderRef is your order id. With it, creating the invoice for the same order twice (a
	// double submit, a crashed worker retrying) returns the first invoice instead of a second.
	// It is not sent to Pepay; put it in Metadata too if you want it on the invoice.
	OrderRef string
}

// Question is one checkout question.
type Question struct {
	// ID is your identifier for the question.
	ID string `json:"id"`
	// Question is the text shown to the payor.
	Question string `json:"question"`
	Type     string `json:"type,omitempty"` // e.g. "text"
	// Validation holds the answer's validation rules.
	Validation QuestionValidation `json:"validation"`
}

// QuestionValidation holds a question's validation rules.
type QuestionValidation struct {
	// Required makes an answer mandatory.
	Required bool `json:"required"`
}

// Documented invoice limits, checked by CreateInvoice before sending.
const (
	MaxTextLength      = 255                 // description, customer_id, customer_email, title, footer
	MaxMetadataBytes   = 512                 // metadata, serialized
	MaxQuestions       = 5                   // questions per invoice
	MaxQuestionsBytes  = 512                 // questions object, serialized
	MaxReturnURLLength = 2048                // payment_return_url
	MaxExpiresIn       = 30 * 24 * time.Hour // expires_in upper bound (2 592 000 000 ms)
	DefaultExpiresIn   = 12 * time.Hour      // Pepay's default expiry
	MinExpiresIn       = time.Millisecond    // expires_in lower bound
)

const (
	maxPageSize       = 100               // list limit
	idempotencyHeader = "Idempotency-Key" // required on POST /api/v1/invoices
	invoiceKeyScope   = "pepay-invoice"   // idempotency.UUID namespace for OrderRef
	invoicesPath      = "invoices"        // invoice routes
)

// Amount bounds of an invoice (constants, so no caller can change them).
const (
	// MinAmount is the smallest invoice amount, $0.01.
	MinAmount USDMillis = 10
	// MaxAmount is the largest invoice amount, $1,000,000.
	MaxAmount USDMillis = 1_000_000 * MillisPerUSD
)

// createInvoiceBody is the JSON sent to POST /api/v1/invoices.
type createInvoiceBody struct {
	AmountUSD               paykit.Decimal `json:"amount_usd"`
	Description             string         `json:"description,omitempty"`
	CustomerID              string         `json:"customer_id,omitempty"`
	CustomerEmail           string         `json:"customer_email,omitempty"`
	Metadata                Metadata       `json:"metadata,omitempty"`
	ExpiresIn               int64          `json:"expires_in,omitempty"`
	InvoiceTitle            string         `json:"invoice_title,omitempty"`
	InvoiceFooter           string         `json:"invoice_footer,omitempty"`
	PaymentReturnURL        string         `json:"payment_return_url,omitempty"`
	PaymentReturnURLEnabled *bool          `json:"payment_return_url_enabled,omitempty"`
	ReceiverOverrideEnable  bool           `json:"receiver_override_enable,omitempty"`
	ReceiverOverrideAddress string         `json:"receiver_override_address,omitempty"`
	Questions               *questionsBody `json:"questions,omitempty"`
}

type questionsBody struct {
	Questions []Question `json:"questions"`
}

// CreateInvoice creates an invoice. The Idempotency-Key (see CreateInvoiceParams.IdempotencyKey)
// makes the call safe to retry: the client retries connection errors, 429 and 5xx with the same
// key, and Pepay answers a repeat with the invoice it already made. A paykit.WithIdempotencyKey
// call option wins over the params' IdempotencyKey and over the key derived from OrderRef; it
// must be a UUID too. The key used is returned in CreatedInvoice.IdempotencyKey (and in
// paykit.ResponseInfo.IdempotencyKey). Errors: *paykit.ValidationError (nothing sent),
// ErrIdempotencyConflict (wrapping the 409 *paykit.Error), *paykit.Error.
func (c *Client) CreateInvoice(ctx context.Context, p CreateInvoiceParams, opts ...paykit.CallOption) (*CreatedInvoice, error) {
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	cc, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		return nil, err
	}
	key := cc.IdempotencyKey
	if key != "" {
		if err := idempotency.ValidateUUID(key); err != nil {
			return nil, &paykit.ValidationError{Field: "WithIdempotencyKey", Reason: "the Idempotency-Key must be a UUID (8-4-4-4-12 hex)", Err: err}
		}
	} else if key, err = p.idempotencyKey(); err != nil {
		return nil, err
	}
	var out CreatedInvoice
	err = doRequest(ctx, c.t, transport.Request{
		Method: http.MethodPost, Path: invoicesPath, Route: invoicesPath, Body: body,
		IdempotencyKey: key, IdempotencyHeader: idempotencyHeader, Options: opts,
	}, &out)
	if err != nil {
		if paykit.IsStatus(err, http.StatusConflict) {
			return nil, fmt.Errorf("%w: %w", ErrIdempotencyConflict, err)
		}
		return nil, err
	}
	if out.InvoiceID == "" {
		return nil, fmt.Errorf("pepay: create invoice: %w: no invoice_id in the response", paykit.ErrInvalidResponse)
	}
	out.IdempotencyKey = key
	return &out, nil
}

// idempotencyKey picks the key: the caller's (validated), one derived from OrderRef, or a new
// random UUID.
func (p *CreateInvoiceParams) idempotencyKey() (string, error) {
	switch {
	case p.IdempotencyKey != "":
		if err := idempotency.ValidateUUID(p.IdempotencyKey); err != nil {
			return "", &paykit.ValidationError{Field: "Idempotency-Key", Reason: "must be a UUID (8-4-4-4-12 hex)", Err: err}
		}
		return p.IdempotencyKey, nil
	case p.OrderRef != "":
		return idempotency.UUID(invoiceKeyScope, p.OrderRef), nil
	}
	return idempotency.NewUUID(), nil
}

// InvoiceKeyForOrder returns the Idempotency-Key CreateInvoice uses for OrderRef orderRef, for
// logging or for looking the key up in your own records.
func InvoiceKeyForOrder(orderRef string) string { return idempotency.UUID(invoiceKeyScope, orderRef) }

// ExpandField names a related object GetInvoiceExpanded and ListInvoices can embed.
type ExpandField string

// Expandable fields.
const (
	ExpandLatestPayment ExpandField = "latest_payment"
	ExpandPayments      ExpandField = "payments"
)

// GetInvoiceParams embeds related objects in GetInvoiceExpanded's answer, like
// ListInvoicesParams does for lists. The zero value embeds nothing.
type GetInvoiceParams struct {
	// Expand embeds related objects (Invoice.LatestPayment, Invoice.Payments).
	Expand []ExpandField
	// PaymentsLimit is how many payments ExpandPayments embeds: 1–100 (Pepay's default is 10).
	PaymentsLimit int
}

// GetInvoice retrieves an invoice. A 404 means the id is unknown in this environment (check
// WithEnvironment). GetInvoiceExpanded embeds its payments too.
func (c *Client) GetInvoice(ctx context.Context, id string, opts ...paykit.CallOption) (*Invoice, error) {
	return c.GetInvoiceExpanded(ctx, id, GetInvoiceParams{}, opts...)
}

// GetInvoiceExpanded retrieves an invoice with the related objects p asks for embedded, for
// example GetInvoiceParams{Expand: []ExpandField{ExpandLatestPayment, ExpandPayments}}.
func (c *Client) GetInvoiceExpanded(ctx context.Context, id string, p GetInvoiceParams, opts ...paykit.CallOption) (*Invoice, error) {
	seg, err := idSegment("invoice_id", id)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if err := setExpand(q, p.Expand, p.PaymentsLimit); err != nil {
		return nil, err
	}
	c.setEnv(q, "")
	var out Invoice
	req := transport.Request{Method: http.MethodGet, Path: invoicesPath + "/" + seg, Route: invoicesPath + "/{id}", Query: q, Options: opts}
	if err := doRequest(ctx, c.t, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetInvoiceStatus returns the invoice's status with its latest payment and settlement. It is the
// call to poll (WaitForInvoice does) and to reconcile with.
func (c *Client) GetInvoiceStatus(ctx context.Context, id string, opts ...paykit.CallOption) (*InvoiceStatus, error) {
	seg, err := idSegment("invoice_id", id)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	c.setEnv(q, "")
	var out InvoiceStatus
	req := transport.Request{Method: http.MethodGet, Path: invoicesPath + "/" + seg + "/status", Route: invoicesPath + "/{id}/status", Query: q, Options: opts}
	if err := doRequest(ctx, c.t, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListInvoicesParams filters and pages invoice lists. All fields are optional.
type ListInvoicesParams struct {
	// Limit is the page size, 1–100 (Pepay's default is 10).
	Limit int
	// Status and InvoiceType keep invoices with any of the given values.
	Status      []Status
	InvoiceType []InvoiceType // standard or commerce
	// CustomerID keeps one customer's invoices (ListInvoices only).
	CustomerID string
	// Environment overrides the client's WithEnvironment.
	Environment Environment
	// CreatedGTE and CreatedLTE bound the creation time (inclusive); zero means unbounded.
	CreatedGTE, CreatedLTE time.Time
	// Expand and PaymentsLimit embed payments as in GetInvoiceExpanded.
	Expand        []ExpandField
	PaymentsLimit int // payments_limit, 1–100 (Pepay's default is 10)
	// PayerWalletAddress and PayerWalletNetwork keep invoices paid from one wallet.
	PayerWalletAddress, PayerWalletNetwork string
	// StartingAfter starts after this invoice id (older invoices: lists are newest first);
	// EndingBefore returns invoices newer than this id. Give at most one.
	StartingAfter, EndingBefore string
}

// ListInvoicesPage returns one page of invoices, newest first. HasMore reports whether more
// invoices exist past this page in the direction of the cursor (older, or newer with
// EndingBefore); NextCursor is the id to pass as StartingAfter (or, walking newer, as
// EndingBefore) for the next page.
func (c *Client) ListInvoicesPage(ctx context.Context, p ListInvoicesParams, opts ...paykit.CallOption) (*paykit.Page[*Invoice], error) {
	return c.listInvoicesPage(ctx, invoicesPath, invoicesPath, p, opts)
}

// ListInvoices iterates over all invoices matching p, newest first, fetching pages of p.Limit
// lazily (next page: starting_after=<last id>). With p.EndingBefore it walks towards newer
// invoices instead (next page: ending_before=<first id of the page>). Stop early by breaking out
// of the loop; an error is yielded once and ends the iteration. opts apply to every page
// request; a paykit.WithResponseInfo receives the info of the latest page fetched.
func (c *Client) ListInvoices(ctx context.Context, p ListInvoicesParams, opts ...paykit.CallOption) iter.Seq2[*Invoice, error] {
	return c.iterInvoices(ctx, invoicesPath, invoicesPath, p, opts)
}

// ListCustomerInvoicesPage returns one page of a customer's invoices.
func (c *Client) ListCustomerInvoicesPage(ctx context.Context, customerID string, p ListInvoicesParams, opts ...paykit.CallOption) (*paykit.Page[*Invoice], error) {
	seg, err := idSegment("customer_id", customerID)
	if err != nil {
		return nil, err
	}
	return c.listInvoicesPage(ctx, invoicesPath+"/customer/"+seg, customerInvoicesRoute, p, opts)
}

// ListCustomerInvoices iterates over one customer's invoices like ListInvoices; opts apply to
// every page request, and a paykit.WithResponseInfo receives the latest page's info.
func (c *Client) ListCustomerInvoices(ctx context.Context, customerID string, p ListInvoicesParams, opts ...paykit.CallOption) iter.Seq2[*Invoice, error] {
	seg, err := idSegment("customer_id", customerID)
	if err != nil {
		return errSeq[*Invoice](err)
	}
	return c.iterInvoices(ctx, invoicesPath+"/customer/"+seg, customerInvoicesRoute, p, opts)
}

// customerInvoicesRoute is the route template of a customer's invoice list.
const customerInvoicesRoute = invoicesPath + "/customer/{customer_id}"

func (c *Client) iterInvoices(ctx context.Context, path, route string, p ListInvoicesParams, opts []paykit.CallOption) iter.Seq2[*Invoice, error] {
	newer := p.EndingBefore != "" && p.StartingAfter == ""
	return paginate(func(cursor string) (*paykit.Page[*Invoice], error) {
		q := p
		if cursor != "" {
			if newer {
				q.EndingBefore = cursor
			} else {
				q.StartingAfter = cursor
			}
		}
		return c.listInvoicesPage(ctx, path, route, q, opts)
	})
}

func (c *Client) listInvoicesPage(ctx context.Context, path, route string, p ListInvoicesParams, opts []paykit.CallOption) (*paykit.Page[*Invoice], error) {
	q, err := c.invoiceQuery(p)
	if err != nil {
		return nil, err
	}
	newer := p.EndingBefore != "" && p.StartingAfter == ""
	req := transport.Request{Method: http.MethodGet, Path: path, Route: route, Query: q, Options: opts}
	return listPage(ctx, c.t, req, func(inv *Invoice) string { return inv.ID }, newer)
}

func (c *Client) invoiceQuery(p ListInvoicesParams) (url.Values, error) {
	q := url.Values{}
	if err := setLimit(q, p.Limit); err != nil {
		return nil, err
	}
	if p.StartingAfter != "" && p.EndingBefore != "" {
		return nil, &paykit.ValidationError{Field: "starting_after", Reason: "give starting_after or ending_before, not both"}
	}
	setIf(q, "starting_after", p.StartingAfter)
	setIf(q, "ending_before", p.EndingBefore)
	if len(p.Status) > 0 {
		s := make([]string, len(p.Status))
		for i, v := range p.Status {
			s[i] = string(v)
		}
		q.Set("status", strings.Join(s, ","))
	}
	if len(p.InvoiceType) > 0 {
		s := make([]string, len(p.InvoiceType))
		for i, v := range p.InvoiceType {
			s[i] = string(v)
		}
		q.Set("invoice_type", strings.Join(s, ","))
	}
	setIf(q, "customer_id", p.CustomerID)
	c.setEnv(q, p.Environment)
	setTime(q, "created_gte", p.CreatedGTE)
	setTime(q, "created_lte", p.CreatedLTE)
	if err := setExpand(q, p.Expand, p.PaymentsLimit); err != nil {
		return nil, err
	}
	setIf(q, "payer_wallet_address", p.PayerWalletAddress)
	setIf(q, "payer_wallet_network", p.PayerWalletNetwork)
	return q, nil
}

// InvoiceTotalsParams filters InvoiceTotals. All fields are optional.
type InvoiceTotalsParams struct {
	// Environment overrides the client's WithEnvironment.
	Environment Environment
	// CustomerID keeps one customer's invoices.
	CustomerID string
	// Status keeps invoices with any of the given statuses.
	Status []Status
	// InvoiceType keeps invoices of any of the given types (standard, commerce).
	InvoiceType []InvoiceType
	// CreatedGTE and CreatedLTE bound the creation time (inclusive); zero means unbounded.
	CreatedGTE, CreatedLTE time.Time
}

// InvoiceTotals returns Pepay's invoice aggregates. Pepay does not document the response's
// fields, so they are returned by name (see Totals).
func (c *Client) InvoiceTotals(ctx context.Context, p InvoiceTotalsParams, opts ...paykit.CallOption) (*Totals, error) {
	q, err := c.invoiceQuery(ListInvoicesParams{
		Environment: p.Environment, CustomerID: p.CustomerID, Status: p.Status,
		InvoiceType: p.InvoiceType, CreatedGTE: p.CreatedGTE, CreatedLTE: p.CreatedLTE,
	})
	if err != nil {
		return nil, err
	}
	var out Totals
	req := transport.Request{Method: http.MethodGet, Path: invoicesPath + "/totals", Route: invoicesPath + "/totals", Query: q, Options: opts}
	if err := doRequest(ctx, c.t, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// setEnv sets environment= to e or the client's environment.
func (c *Client) setEnv(q url.Values, e Environment) {
	if env := c.envOr(e); env != "" {
		q.Set("environment", string(env))
	}
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setTime(q url.Values, k string, t time.Time) {
	if !t.IsZero() {
		q.Set(k, t.UTC().Format(time.RFC3339))
	}
}

func setLimit(q url.Values, n int) error {
	if n == 0 {
		return nil
	}
	if n < 1 || n > maxPageSize {
		return &paykit.ValidationError{Field: "limit", Reason: "must be between 1 and 100"}
	}
	q.Set("limit", strconv.Itoa(n))
	return nil
}

func setExpand(q url.Values, fields []ExpandField, paymentsLimit int) error {
	if len(fields) > 0 {
		s := make([]string, len(fields))
		for i, f := range fields {
			if f != ExpandLatestPayment && f != ExpandPayments {
				return &paykit.ValidationError{Field: "expand", Reason: fmt.Sprintf("unknown field %q (use latest_payment or payments)", string(f))}
			}
			s[i] = string(f)
		}
		q.Set("expand", strings.Join(s, ","))
	}
	if paymentsLimit != 0 {
		if paymentsLimit < 1 || paymentsLimit > maxPageSize {
			return &paykit.ValidationError{Field: "payments_limit", Reason: "must be between 1 and 100"}
		}
		q.Set("payments_limit", strconv.Itoa(paymentsLimit))
	}
	return nil
}

// checkID refuses ids that cannot be a Pepay id, before they are put in a URL path.
// idSegment checks id like checkID and escapes it into one path segment (see
// transport.PathSegment, which refuses the dot segments).
func idSegment(field, id string) (string, error) {
	if err := checkID(field, id); err != nil {
		return "", err
	}
	return transport.PathSegment(field, id)
}

func checkID(field, id string) error {
	if strings.TrimSpace(id) == "" {
		return &paykit.ValidationError{Field: field, Reason: "must not be empty"}
	}
	if len(id) > 255 {
		return &paykit.ValidationError{Field: field, Reason: "longer than 255 characters"}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return &paykit.ValidationError{Field: field, Reason: "contains a control character"}
		}
	}
	return nil
}

// Invoice is Pepay's invoice object ("object": "invoice"), the source of truth for payment
// status. Amounts are integers in USDMillis (1/1000 USD); the *paykit.Decimal fields are Pepay's decimal
// strings of the same amounts ("25.000"). Timestamps decode from RFC 3339 or unix seconds.
// Fields Pepay leaves null are zero values.
type Invoice struct {
	// Object is the object type, "invoice".
	Object string `json:"object"`
	// ID is the invoice id (a UUID), the canonical id for reconciliation.
	ID string `json:"id"`
	// MerchantID is the owning merchant's id (a number or string on the wire).
	MerchantID string `json:"merchant_id,omitempty"`
	// Status is unpaid, underpaid, paid, expired or canceled (see the Status constants).
	Status Status `json:"status"`
	// InvoiceType is standard or commerce.
	InvoiceType InvoiceType `json:"invoice_type,omitempty"`
	Currency    string      `json:"currency,omitempty"` // "usd"
	// Amount is the invoiced amount in usd_millis.
	Amount USDMillis `json:"amount"`
	// AmountPaid is the amount received so far in usd_millis.
	AmountPaid USDMillis `json:"amount_paid"`
	// AmountRemaining is the amount still due in usd_millis.
	AmountRemaining USDMillis `json:"amount_remaining"`
	// AmountDecimal, AmountPaidDecimal and AmountRemainingDecimal are filled from the integer
	// amounts when Pepay omits them.
	AmountDecimal          paykit.Decimal `json:"amount_decimal"`           // Amount in dollars ("25.000")
	AmountPaidDecimal      paykit.Decimal `json:"amount_paid_decimal"`      // AmountPaid in dollars
	AmountRemainingDecimal paykit.Decimal `json:"amount_remaining_decimal"` // AmountRemaining in dollars
	AmountUnit             string         `json:"amount_unit,omitempty"`    // "usd_millis"
	// Description is the description given at creation, when Pepay includes it.
	Description string `json:"description,omitempty"`
	// CustomerID is your customer reference given at creation; "" when null.
	CustomerID string `json:"customer_id,omitempty"`
	// CustomerEmail is the payor's email, when Pepay includes it.
	CustomerEmail string `json:"customer_email,omitempty"`
	// PayerWalletAddress and PayerWalletNetwork identify the wallet that paid; "" when null.
	PayerWalletAddress string `json:"payer_wallet_address,omitempty"`
	PayerWalletNetwork string `json:"payer_wallet_network,omitempty"` // see PayerWalletAddress
	// CommerceOrderID is the commerce order the invoice belongs to; "" when null.
	CommerceOrderID string `json:"commerce_order_id,omitempty"`
	// Environment is devnet or mainnet.
	Environment Environment `json:"environment,omitempty"`
	// ExpiresAt is when the invoice stops being payable.
	ExpiresAt time.Time `json:"expires_at"`
	// CreatedAt is when the invoice was created.
	CreatedAt time.Time `json:"created_at"`
	// PaidAt is when the invoice was paid; zero while it is not (null).
	PaidAt time.Time `json:"paid_at"`
	// LastPaymentAt is when the latest payment was received; zero when there is none (null).
	LastPaymentAt time.Time `json:"last_payment_at"`
	// Metadata is the metadata given at creation; nil when none.
	Metadata Metadata `json:"metadata,omitempty"`
	// LatestPayment and Payments are present when requested with GetInvoiceParams.Expand (GetInvoiceExpanded) or
	// ListInvoicesParams.Expand.
	LatestPayment *InvoicePayment  `json:"latest_payment,omitempty"`
	Payments      []InvoicePayment `json:"payments,omitempty"` // at most payments_limit (default 10)
}

// UnmarshalJSON decodes tolerantly: merchant_id as string or number, timestamps as RFC 3339 or
// unix seconds, "cancelled" as StatusCanceled.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	*inv = Invoice{}
	w := struct {
		*plain
		MerchantID    jsonx.ID   `json:"merchant_id"`
		ExpiresAt     jsonx.Time `json:"expires_at"`
		CreatedAt     jsonx.Time `json:"created_at"`
		PaidAt        jsonx.Time `json:"paid_at"`
		LastPaymentAt jsonx.Time `json:"last_payment_at"`
	}{plain: (*plain)(inv)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	inv.MerchantID = string(w.MerchantID)
	inv.ExpiresAt, inv.CreatedAt = w.ExpiresAt.Time, w.CreatedAt.Time
	inv.PaidAt, inv.LastPaymentAt = w.PaidAt.Time, w.LastPaymentAt.Time
	fillDecimal(&inv.AmountDecimal, inv.Amount)
	fillDecimal(&inv.AmountPaidDecimal, inv.AmountPaid)
	fillDecimal(&inv.AmountRemainingDecimal, inv.AmountRemaining)
	return nil
}

func fillDecimal(d *paykit.Decimal, m USDMillis) {
	if d.IsZero() && m != 0 {
		*d = m.Decimal()
	}
}

// InvoicePayment is one payment receipt on an invoice ("object": "invoice_payment"), with the
// status of the merchant's settlement.
type InvoicePayment struct {
	// Object is the object type, "invoice_payment".
	Object string `json:"object"`
	// ID is the payment receipt's id (a number or string on the wire).
	ID string `json:"id"`
	// InvoiceID is the id of the invoice the payment is for.
	InvoiceID string `json:"invoice_id"`
	// MerchantID is the owning merchant's id (a number or string on the wire).
	MerchantID string `json:"merchant_id,omitempty"`
	// Status is pending, underpaid, confirmed or manual_retry (see the PaymentStatus constants).
	Status PaymentStatus `json:"status"`
	// SettlementStatus is the merchant payout's status: pending, processing, manual, failed or
	// settled.
	SettlementStatus SettlementStatus `json:"settlement_status,omitempty"`
	// Settlement holds the payout details; nil when Pepay sends none.
	Settlement *Settlement `json:"settlement,omitempty"`
	// Amount is the USD value received, when Pepay includes it. [assumed field]
	Amount USDMillis `json:"amount,omitempty"`
	// CreatedAt is when the payment was seen, when Pepay includes it. [assumed field]
	CreatedAt time.Time `json:"created_at"`
}

// UnmarshalJSON decodes tolerantly (ids as string or number, timestamps in either form).
func (p *InvoicePayment) UnmarshalJSON(b []byte) error {
	type plain InvoicePayment
	*p = InvoicePayment{}
	w := struct {
		*plain
		ID         jsonx.ID   `json:"id"`
		MerchantID jsonx.ID   `json:"merchant_id"`
		CreatedAt  jsonx.Time `json:"created_at"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p.ID, p.MerchantID, p.CreatedAt = string(w.ID), string(w.MerchantID), w.CreatedAt.Time
	return nil
}

// Settlement describes the payout of a payment to the merchant.
type Settlement struct {
	// SummaryStatus is summary_status, the settlement's overall status as sent by Pepay.
	SummaryStatus SettlementStatus `json:"summary_status,omitempty"`
	Stage         string           `json:"stage,omitempty"` // "final" once done
	// MerchantSettlementID is Pepay's id of the settlement (a number or string on the wire).
	MerchantSettlementID string `json:"merchant_settlement_id,omitempty"`
	// SettlementTxHash is the hash of the payout transaction; "" when absent.
	SettlementTxHash string `json:"settlement_tx_hash,omitempty"`
	// Network is the network of the payout, as sent by Pepay.
	Network string `json:"network,omitempty"`
	// Status is the settlement's status field as sent by Pepay (same values as SummaryStatus).
	Status SettlementStatus `json:"status,omitempty"`
}

// UnmarshalJSON accepts merchant_settlement_id as a string or a number.
func (s *Settlement) UnmarshalJSON(b []byte) error {
	type plain Settlement
	*s = Settlement{}
	w := struct {
		*plain
		MerchantSettlementID jsonx.ID `json:"merchant_settlement_id"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.MerchantSettlementID = string(w.MerchantSettlementID)
	return nil
}

// InvoiceStatus is the answer of GetInvoiceStatus ("object": "invoice_status"): the invoice and
// its latest payment with settlement details.
type InvoiceStatus struct {
	// Object is the object type, "invoice_status".
	Object string `json:"object"`
	// Invoice is the invoice, with its current Status.
	Invoice Invoice `json:"invoice"`
	// LatestPayment is the invoice's most recent payment with its settlement; nil when none.
	LatestPayment *InvoicePayment `json:"latest_payment,omitempty"`
}

// Status returns the invoice's status.
func (s *InvoiceStatus) Status() Status { return s.Invoice.Status }

// CreatedInvoice is the answer of CreateInvoice.
type CreatedInvoice struct {
	// InvoiceID is the canonical id for reconciliation.
	InvoiceID string `json:"invoice_id"`
	// PaymentURL is the hosted checkout link, valid until ExpiresAt.
	PaymentURL string `json:"payment_url"`
	// ExpiresAt is when the invoice expires (RFC 3339 or unix seconds on the wire).
	ExpiresAt time.Time `json:"expires_at"`
	// SessionToken (pst_…) and Signature (sig_…) authorize the payor endpoints for embedded
	// checkout; they are safe to hand to the payor's browser (see NewPayorClient).
	SessionToken string `json:"session_token"`
	Signature    string `json:"signature"` // see SessionToken
	// PaymentSessionHeaders holds the same two credentials as payment_session_headers; each
	// form is filled from the other when Pepay sends only one.
	PaymentSessionHeaders PaymentSessionHeaders `json:"payment_session_headers"`
	// IdempotencyKey is the Idempotency-Key the invoice was created with (given, derived from
	// OrderRef, or generated). Sending it again with the same body returns this invoice.
	IdempotencyKey string `json:"-"`
}

// UnmarshalJSON accepts expires_at as RFC 3339 or unix seconds and fills the session headers
// from session_token/signature (or the reverse) when only one form is present.
func (c *CreatedInvoice) UnmarshalJSON(b []byte) error {
	type plain CreatedInvoice
	*c = CreatedInvoice{}
	w := struct {
		*plain
		ID        string     `json:"id"`
		ExpiresAt jsonx.Time `json:"expires_at"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.ExpiresAt = w.ExpiresAt.Time
	if c.InvoiceID == "" {
		c.InvoiceID = w.ID
	}
	h := &c.PaymentSessionHeaders
	if h.SessionToken == "" {
		h.SessionToken = c.SessionToken
	}
	if h.Signature == "" {
		h.Signature = c.Signature
	}
	if c.SessionToken == "" {
		c.SessionToken = h.SessionToken
	}
	if c.Signature == "" {
		c.Signature = h.Signature
	}
	return nil
}

// PaymentSessionHeaders are the payor credentials returned by invoice creation: send them as
// x-session-token and x-signature on the payor endpoints (NewPayorClient). They are scoped to
// one invoice and browser-safe, unlike the merchant API key.
type PaymentSessionHeaders struct {
	SessionToken string `json:"x-session-token"` // pst_…
	Signature    string `json:"x-signature"`     // sig_…, "signature_hash.timestamp_ms"
}

// Header returns the two headers, for code that calls the payor endpoints itself.
func (h PaymentSessionHeaders) Header() http.Header {
	return http.Header{"X-Session-Token": {h.SessionToken}, "X-Signature": {h.Signature}}
}

// Metadata is the free-form object stored on an invoice (≤ 512 bytes serialized). Numbers decode
// as json.Number, so no digit is lost to float64.
type Metadata map[string]any

// UnmarshalJSON accepts an object, null, or a string holding a JSON object.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*m = nil
			return nil
		}
		b = []byte(s)
	}
	if bytes.Equal(b, []byte("null")) {
		*m = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("pepay: metadata must be a JSON object: %w", err)
	}
	*m = v
	return nil
}

// Get returns the metadata value for key when it is a string, else "".
func (m Metadata) Get(key string) string {
	s, _ := m[key].(string)
	return s
}
