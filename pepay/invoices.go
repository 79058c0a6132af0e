package pepay

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
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
	maxPageSize       = 100                    // list limit
	idempotencyHeader = "Idempotency-Key"      // required on POST /api/v1/invoices
	invoiceKeyScope   = "pepay-invoice"        // idempotency.UUID namespace for OrderRef
	apiPrefix         = "api/v1/"              // REST path prefix (relative: keeps a base URL's path)
	invoicesPath      = apiPrefix + "invoices" // invoice routes
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
// key, and Pepay answers a repeat with the invoice it already made. The key used is returned in
// CreatedInvoice.IdempotencyKey. Errors: *ValidationError (nothing sent), ErrIdempotencyConflict
// (wrapping the 409 *Error), *Error.
func (c *Client) CreateInvoice(ctx context.Context, p CreateInvoiceParams) (*CreatedInvoice, error) {
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	key, err := p.idempotencyKey()
	if err != nil {
		return nil, err
	}
	var out CreatedInvoice
	err = doRequest(ctx, c.t, transport.Request{
		Method: http.MethodPost, Path: invoicesPath, Body: body,
		IdempotencyKey: key, IdempotencyHeader: idempotencyHeader,
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
			return "", &ValidationError{Field: "Idempotency-Key", Reason: "must be a UUID (8-4-4-4-12 hex)", Err: err}
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

// ExpandField names a related object GetInvoice and ListInvoices can embed.
type ExpandField string

// Expandable fields.
const (
	ExpandLatestPayment ExpandField = "latest_payment"
	ExpandPayments      ExpandField = "payments"
)

// GetInvoiceOption adds query parameters to GetInvoice.
type GetInvoiceOption func(*getInvoiceOptions)

type getInvoiceOptions struct {
	expand        []ExpandField
	paymentsLimit int
}

// Expand embeds related objects in the invoice (Invoice.LatestPayment, Invoice.Payments).
func Expand(fields ...ExpandField) GetInvoiceOption {
	return func(o *getInvoiceOptions) { o.expand = append(o.expand, fields...) }
}

// PaymentsLimit sets how many payments ExpandPayments embeds: 1–100 (Pepay's default is 10).
func PaymentsLimit(n int) GetInvoiceOption {
	return func(o *getInvoiceOptions) { o.paymentsLimit = n }
}

// GetInvoice retrieves an invoice; use Expand(ExpandLatestPayment, ExpandPayments) to embed its
// payments. A 404 means the id is unknown in this environment (check WithEnvironment).
func (c *Client) GetInvoice(ctx context.Context, id string, opts ...GetInvoiceOption) (*Invoice, error) {
	if err := checkID("invoice_id", id); err != nil {
		return nil, err
	}
	var o getInvoiceOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	q := url.Values{}
	if err := setExpand(q, o.expand, o.paymentsLimit); err != nil {
		return nil, err
	}
	c.setEnv(q, "")
	var out Invoice
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: invoicesPath + "/" + url.PathEscape(id), Query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetInvoiceStatus returns the invoice's status with its latest payment and settlement. It is the
// call to poll (WaitForInvoice does) and to reconcile with.
func (c *Client) GetInvoiceStatus(ctx context.Context, id string) (*InvoiceStatus, error) {
	if err := checkID("invoice_id", id); err != nil {
		return nil, err
	}
	q := url.Values{}
	c.setEnv(q, "")
	var out InvoiceStatus
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: invoicesPath + "/" + url.PathEscape(id) + "/status", Query: q}, &out); err != nil {
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
	// Expand and PaymentsLimit embed payments as in GetInvoice.
	Expand        []ExpandField
	PaymentsLimit int // payments_limit, 1–100 (Pepay's default is 10)
	// PayerWalletAddress and PayerWalletNetwork keep invoices paid from one wallet.
	PayerWalletAddress, PayerWalletNetwork string
	// StartingAfter starts after this invoice id (older invoices: lists are newest first);
	// EndingBefore returns invoices newer than this id. Give at most one.
	StartingAfter, EndingBefore string
}

// InvoiceList is one page of invoices, newest first.
type InvoiceList struct {
	Object string `json:"object"` // "list"
	// Data holds the page's invoices, newest first.
	Data []Invoice `json:"data"`
	// HasMore reports whether more invoices exist past this page in the direction of the
	// cursor (older, or newer with EndingBefore).
	HasMore bool `json:"has_more"`
	// URL is the list's url as sent by Pepay; "" when absent.
	URL string `json:"url,omitempty"`
}

// ListInvoicesPage returns one page of invoices.
func (c *Client) ListInvoicesPage(ctx context.Context, p ListInvoicesParams) (*InvoiceList, error) {
	return c.listInvoicesPage(ctx, invoicesPath, p)
}

// ListInvoices iterates over all invoices matching p, newest first, fetching pages of p.Limit
// lazily (next page: starting_after=<last id>). With p.EndingBefore it walks towards newer
// invoices instead (next page: ending_before=<first id of the page>). Stop early by breaking out
// of the loop; an error is yielded once and ends the iteration.
func (c *Client) ListInvoices(ctx context.Context, p ListInvoicesParams) iter.Seq2[*Invoice, error] {
	return c.iterInvoices(ctx, invoicesPath, p)
}

// ListCustomerInvoicesPage returns one page of a customer's invoices.
func (c *Client) ListCustomerInvoicesPage(ctx context.Context, customerID string, p ListInvoicesParams) (*InvoiceList, error) {
	if err := checkID("customer_id", customerID); err != nil {
		return nil, err
	}
	return c.listInvoicesPage(ctx, invoicesPath+"/customer/"+url.PathEscape(customerID), p)
}

// ListCustomerInvoices iterates over one customer's invoices like ListInvoices.
func (c *Client) ListCustomerInvoices(ctx context.Context, customerID string, p ListInvoicesParams) iter.Seq2[*Invoice, error] {
	if err := checkID("customer_id", customerID); err != nil {
		return errSeq[*Invoice](err)
	}
	return c.iterInvoices(ctx, invoicesPath+"/customer/"+url.PathEscape(customerID), p)
}

func (c *Client) iterInvoices(ctx context.Context, path string, p ListInvoicesParams) iter.Seq2[*Invoice, error] {
	newer := p.EndingBefore != "" && p.StartingAfter == ""
	return paginate(func(cursor string) ([]Invoice, bool, error) {
		q := p
		if cursor != "" {
			if newer {
				q.EndingBefore = cursor
			} else {
				q.StartingAfter = cursor
			}
		}
		page, err := c.listInvoicesPage(ctx, path, q)
		if err != nil {
			return nil, false, err
		}
		return page.Data, page.HasMore, nil
	}, func(inv *Invoice) string { return inv.ID }, newer)
}

func (c *Client) listInvoicesPage(ctx context.Context, path string, p ListInvoicesParams) (*InvoiceList, error) {
	q, err := c.invoiceQuery(p)
	if err != nil {
		return nil, err
	}
	var out InvoiceList
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: path, Query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) invoiceQuery(p ListInvoicesParams) (url.Values, error) {
	q := url.Values{}
	if err := setLimit(q, p.Limit); err != nil {
		return nil, err
	}
	if p.StartingAfter != "" && p.EndingBefore != "" {
		return nil, &ValidationError{Field: "starting_after", Reason: "give starting_after or ending_before, not both"}
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
func (c *Client) InvoiceTotals(ctx context.Context, p InvoiceTotalsParams) (*Totals, error) {
	q, err := c.invoiceQuery(ListInvoicesParams{
		Environment: p.Environment, CustomerID: p.CustomerID, Status: p.Status,
		InvoiceType: p.InvoiceType, CreatedGTE: p.CreatedGTE, CreatedLTE: p.CreatedLTE,
	})
	if err != nil {
		return nil, err
	}
	var out Totals
	if err := doRequest(ctx, c.t, transport.Request{Method: http.MethodGet, Path: invoicesPath + "/totals", Query: q}, &out); err != nil {
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
		return &ValidationError{Field: "limit", Reason: "must be between 1 and 100"}
	}
	q.Set("limit", strconv.Itoa(n))
	return nil
}

func setExpand(q url.Values, fields []ExpandField, paymentsLimit int) error {
	if len(fields) > 0 {
		s := make([]string, len(fields))
		for i, f := range fields {
			if f != ExpandLatestPayment && f != ExpandPayments {
				return &ValidationError{Field: "expand", Reason: fmt.Sprintf("unknown field %q (use latest_payment or payments)", string(f))}
			}
			s[i] = string(f)
		}
		q.Set("expand", strings.Join(s, ","))
	}
	if paymentsLimit != 0 {
		if paymentsLimit < 1 || paymentsLimit > maxPageSize {
			return &ValidationError{Field: "payments_limit", Reason: "must be between 1 and 100"}
		}
		q.Set("payments_limit", strconv.Itoa(paymentsLimit))
	}
	return nil
}

// checkID refuses ids that cannot be a Pepay id, before they are put in a URL path.
func checkID(field, id string) error {
	if strings.TrimSpace(id) == "" {
		return &ValidationError{Field: field, Reason: "must not be empty"}
	}
	if len(id) > 255 {
		return &ValidationError{Field: field, Reason: "longer than 255 characters"}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return &ValidationError{Field: field, Reason: "contains a control character"}
		}
	}
	return nil
}

// paginate turns a page fetcher into an iterator. cursor is "" for the first page; the next
// cursor is the last item's id (older pages) or, when newer is set, the first item's id.
func paginate[T any](fetch func(cursor string) ([]T, bool, error), id func(*T) string, newer bool) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		cursor := ""
		for {
			items, more, err := fetch(cursor)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			if !more {
				return
			}
			if len(items) == 0 {
				yield(nil, fmt.Errorf("%w: empty page with has_more", ErrPaginationStuck))
				return
			}
			next := id(&items[len(items)-1])
			if newer {
				next = id(&items[0])
			}
			if next == "" || next == cursor {
				yield(nil, fmt.Errorf("%w: cursor %q repeated", ErrPaginationStuck, next))
				return
			}
			cursor = next
		}
	}
}

func errSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
