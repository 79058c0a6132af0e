package jopay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// PaymentRequest is a JoPay payment request: a pay link for one amount.
type PaymentRequest struct {
	// ID is the request id (request_id).
	ID string
	// Status is the lifecycle state: requested, opened, expired, cancelled.
	Status Status
	// ProofStatus is the payment proof state; only ProofStatusVerified means paid.
	ProofStatus ProofStatus
	// PayPageURL is where the customer pays (redirect the browser there or render it as a QR).
	PayPageURL string
	// CreatedAt is when JoPay created the request; list cursors move along it.
	CreatedAt time.Time
	// ExpiresAt is when an unpaid request expires.
	ExpiresAt time.Time
	// Amount is the fiat and USDC amount.
	Amount Amount
	// MerchantID is the merchant the request belongs to.
	MerchantID string
	// Metadata is the metadata given at creation, echoed back.
	Metadata map[string]string
	// PaymentMode is the request's payment mode, echoed when the API sends it.
	PaymentMode PaymentMode
	// Memo is the memo given at creation, echoed when the API sends it.
	Memo string
	// CustomerName is the customer's name given at creation, echoed when the API sends it.
	CustomerName string
	// CustomerEmail is the customer's email given at creation, echoed when the API sends it.
	CustomerEmail string
	// TxHash is the payment transaction hash, when the API sends it.
	TxHash string
	// IdempotencyKey is the key this client sent with CreateRequest (the caller's, or the one it
	// generated); empty on requests that were fetched or listed. Log it: re-sending the create
	// with the same key returns this request instead of making a second pay link.
	IdempotencyKey string
}

// IsPaid reports whether the request's payment proof is verified.
func (r *PaymentRequest) IsPaid() bool { return r.ProofStatus.IsPaid() }

// IsTerminal reports whether the request can no longer change: paid (proof verified), expired
// or cancelled.
func (r *PaymentRequest) IsTerminal() bool {
	return r.ProofStatus.IsTerminal() || r.Status.IsTerminal()
}

// OrderID returns metadata.order_id (MetadataOrderID), or "".
func (r *PaymentRequest) OrderID() string { return r.Metadata[MetadataOrderID] }

// CreateRequestParams is the body of CreateRequest. Validate lists the documented limits.
type CreateRequestParams struct {
	// MerchantID is the merchant that gets paid (required; one of the partner's merchants).
	MerchantID string
	// FiatAmountInt is the amount in minor units of the partner's currency (cents; paise for
	// INR; whole yen for JPY): 1 … 2147483647 (required).
	FiatAmountInt int64
	// FiatCurrencyCode, when set, asserts the partner's currency (ISO 4217, three letters; sent
	// upper-cased). It does not convert: a different currency fails with 400 currency_mismatch
	// and ExpectedFiatCode(err) tells the expected one.
	FiatCurrencyCode string
	// Memo is shown on the pay page (at most 500 characters).
	Memo string
	// PaymentMode is PaymentModePOS (the default when empty) or PaymentModeInvoice.
	PaymentMode PaymentMode
	// CustomerName is required in invoice mode; matchers use it to resolve ambiguous transfers.
	CustomerName string
	// CustomerEmail is optional; it enables the receipt email.
	CustomerEmail string
	// ExpiryMinutes overrides the default expiry (pos: 1 hour, invoice: 7 days); 0 keeps it.
	ExpiryMinutes int
	// IdempotencyKey makes the create safe to repeat: 32–64 characters of [A-Za-z0-9_-].
	// Derive it from your own record (idempotency.Key("checkout", order.ID)) so that even a
	// create repeated after a crash returns the original request. When empty the client
	// generates one; it is reused on every retry of this call and reported in
	// PaymentRequest.IdempotencyKey and CreateError.IdempotencyKey.
	IdempotencyKey string
	// Metadata is echoed in responses and webhooks: at most 20 keys, keys 1–40 characters,
	// values at most 500 characters. Put your order id here (MetadataOrderID).
	Metadata map[string]string
}

// createBody is the documented wire form of CreateRequestParams.
type createBody struct {
	MerchantID       string            `json:"merchant_id"`
	FiatAmountInt    int64             `json:"fiat_amount_int"`
	FiatCurrencyCode string            `json:"fiat_currency_code,omitempty"`
	Memo             string            `json:"memo,omitempty"`
	IdempotencyKey   string            `json:"idempotency_key"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	PaymentMode      PaymentMode       `json:"payment_mode,omitempty"`
	CustomerName     string            `json:"customer_name,omitempty"`
	CustomerEmail    string            `json:"customer_email,omitempty"`
	ExpiryMinutes    int               `json:"expiry_minutes,omitempty"`
}

// CreateRequest creates a payment request and returns it with its pay page URL.
//
// The params are validated first (a *paykit.ValidationError naming the field; nothing is sent). The
// idempotency key travels in the body; because every call carries one, the client retries
// connection errors, 429 and 5xx with the same key, and JoPay answers a repeated key with the
// original request, so a retried create never makes a second pay link. The key is
// paykit.WithIdempotencyKey's when given (it wins over p.IdempotencyKey, and must have the
// same format: 32–64 characters of [A-Za-z0-9_-]), else p.IdempotencyKey, else a generated
// one; paykit.ResponseInfo.IdempotencyKey reports the key sent. Failures after validation are
// returned as a *CreateError carrying the key; errors.As still reaches the *paykit.Error inside.
func (c *Client) CreateRequest(ctx context.Context, p CreateRequestParams, opts ...paykit.CallOption) (*PaymentRequest, error) {
	cc, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		return nil, err
	}
	if cc.IdempotencyKey != "" {
		if err := idempotency.Validate(cc.IdempotencyKey); err != nil {
			return nil, &paykit.ValidationError{Field: "WithIdempotencyKey", Reason: reasonOf(err), Err: idempotency.ErrInvalidKey}
		}
		p.IdempotencyKey = cc.IdempotencyKey
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	key := p.IdempotencyKey
	if key == "" {
		key = idempotency.New()
	}
	body := createBody{
		MerchantID:       p.MerchantID,
		FiatAmountInt:    p.FiatAmountInt,
		FiatCurrencyCode: upperASCII(p.FiatCurrencyCode),
		Memo:             p.Memo,
		IdempotencyKey:   key,
		Metadata:         p.Metadata,
		PaymentMode:      p.PaymentMode,
		CustomerName:     p.CustomerName,
		CustomerEmail:    p.CustomerEmail,
		ExpiryMinutes:    p.ExpiryMinutes,
	}
	var w wireRequest
	err = c.do(ctx, transport.Request{
		Method:         http.MethodPost,
		Path:           "requests/create",
		Route:          "requests/create",
		Body:           body,
		IdempotencyKey: key, // in the body; setting it here makes the transport retry the write
		Options:        opts,
	}, &w)
	var r *PaymentRequest
	if err == nil {
		r, err = w.result()
	}
	if err != nil {
		return nil, &CreateError{IdempotencyKey: key, Err: err}
	}
	r.IdempotencyKey = key
	return r, nil
}

// GetRequest fetches one payment request. An unknown id (or another partner's) fails with a
// 404 *paykit.Error (code not_found). It takes no idempotency key.
func (c *Client) GetRequest(ctx context.Context, id string, opts ...paykit.CallOption) (*PaymentRequest, error) {
	path, err := requestPath(id, "")
	if err != nil {
		return nil, err
	}
	var w wireRequest
	if err := c.do(ctx, transport.Request{Method: http.MethodGet, Path: path, Route: "requests/{id}", Options: opts}, &w); err != nil {
		return nil, err
	}
	return w.result()
}

// CancelRequest cancels (voids) an open request so it can no longer be paid, and returns it.
// Cancelling is idempotent, so the call is retried like a read; a request that is already paid,
// has a proof attached or has expired fails with 409 (CodeNotCancellable). It takes no
// idempotency key (it needs none).
func (c *Client) CancelRequest(ctx context.Context, id string, opts ...paykit.CallOption) (*PaymentRequest, error) {
	path, err := requestPath(id, "/cancel")
	if err != nil {
		return nil, err
	}
	var w wireRequest
	err = c.do(ctx, transport.Request{Method: http.MethodPost, Path: path, Route: "requests/{id}/cancel", Idempotent: true, Options: opts}, &w)
	if err != nil {
		return nil, err
	}
	return w.result()
}

// requestPath escapes id into "requests/<id><suffix>".
func requestPath(id, suffix string) (string, error) {
	seg, err := transport.PathSegment("request_id", id)
	if err != nil {
		return "", err
	}
	return "requests/" + seg + suffix, nil
}

// CreateError is returned by CreateRequest when the call failed after validation. It carries
// the idempotency key that was sent: create again with the same key (and the same body) to get
// the original request if the failed call did reach JoPay, without risking a second pay link.
type CreateError struct {
	// IdempotencyKey is the key that was sent (not a secret).
	IdempotencyKey string
	// Err is the underlying failure: an *paykit.Error for an API answer, or a transport error.
	Err error
}

// Error returns the underlying error's text and the idempotency key.
func (e *CreateError) Error() string {
	return e.Err.Error() + " (idempotency_key " + e.IdempotencyKey + ")"
}

// Unwrap returns the underlying error, so errors.As(err, &*paykit.Error) and errors.Is work.
func (e *CreateError) Unwrap() error { return e.Err }

// wireAmount is the documented amount object; usdc_micro is a string integer.
type wireAmount struct {
	FiatInt   jsonx.Int64 `json:"fiat_int"`
	FiatCode  string      `json:"fiat_code"`
	USDCMicro jsonx.Int64 `json:"usdc_micro"`
}

// wireRequest is the request object as the API sends it, decoded tolerantly.
type wireRequest struct {
	OK            *bool        `json:"ok"`
	Error         string       `json:"error"`
	Message       string       `json:"message"`
	RequestID     jsonx.ID     `json:"request_id"`
	ID            jsonx.ID     `json:"id"`
	Status        Status       `json:"status"`
	RequestStatus Status       `json:"request_status"`
	ProofStatus   ProofStatus  `json:"proof_status"`
	PayPageURL    string       `json:"pay_page_url"`
	CreatedAt     jsonx.Time   `json:"created_at"`
	ExpiresAt     jsonx.Time   `json:"expires_at"`
	Amount        wireAmount   `json:"amount"`
	MerchantID    jsonx.ID     `json:"merchant_id"`
	Metadata      wireMetadata `json:"metadata"`
	PaymentMode   PaymentMode  `json:"payment_mode"`
	Memo          string       `json:"memo"`
	CustomerName  string       `json:"customer_name"`
	CustomerEmail string       `json:"customer_email"`
	TxHash        string       `json:"tx_hash"`
	// Request holds the object when a response wraps it ({"ok":true,"request":{…}}).
	Request *wireRequest `json:"request"`

	parsed *PaymentRequest // set instead of the fields above by the fast path
}

// result converts a single-request response (its envelope already checked by Client.do): one
// without a request id is an invalid response.
func (w *wireRequest) result() (*PaymentRequest, error) {
	r := w.request()
	if r.ID == "" {
		return nil, fmt.Errorf("jopay: %w: %w", paykit.ErrInvalidResponse, errNoID)
	}
	return r, nil
}

// okEnvelope is a response body with JoPay's {"ok":…,"error":…,"message":…} envelope.
type okEnvelope interface {
	envelope() (ok *bool, code, msg string)
}

// do sends req and decodes the 2xx body into out; a 2xx body that still says "ok": false
// becomes the transport's *paykit.Error for a failed success.
func (c *Client) do(ctx context.Context, req transport.Request, out okEnvelope) error {
	if err := c.t.Do(ctx, req, out); err != nil {
		return err
	}
	if ok, code, msg := out.envelope(); ok != nil && !*ok {
		return c.t.FailedSuccess(req, http.StatusOK, code, msg, nil)
	}
	return nil
}

func (w *wireRequest) envelope() (*bool, string, string) { return w.OK, w.Error, w.Message }

func (w *wireRequest) request() *PaymentRequest {
	if w.parsed != nil {
		return w.parsed
	}
	if w.Request != nil {
		return w.Request.request()
	}
	r := &PaymentRequest{
		ID:          string(w.RequestID),
		Status:      w.Status,
		ProofStatus: w.ProofStatus,
		PayPageURL:  w.PayPageURL,
		CreatedAt:   w.CreatedAt.Time,
		ExpiresAt:   w.ExpiresAt.Time,
		Amount: Amount{
			FiatInt:   int64(w.Amount.FiatInt),
			FiatCode:  w.Amount.FiatCode,
			USDCMicro: int64(w.Amount.USDCMicro),
		},
		MerchantID:    string(w.MerchantID),
		Metadata:      map[string]string(w.Metadata),
		PaymentMode:   w.PaymentMode,
		Memo:          w.Memo,
		CustomerName:  w.CustomerName,
		CustomerEmail: w.CustomerEmail,
		TxHash:        w.TxHash,
	}
	if r.ID == "" {
		r.ID = string(w.ID)
	}
	if r.Status == "" {
		r.Status = w.RequestStatus
	}
	return r
}

// errNoID is the wrapped cause when a response lacks the request id.
var errNoID = errors.New("response has no request_id")

// fastRequest is the request object exactly as documented (string ids, RFC 3339 times,
// usdc_micro as a string, string metadata). Decoding into it is about three times faster
// than the tolerant wireRequest, which matters when paging through many requests; any other
// shape makes it fail and wireRequest.UnmarshalJSON falls back to the tolerant decoding.
type fastRequest struct {
	OK            *bool       `json:"ok"`
	Error         string      `json:"error"`
	Message       string      `json:"message"`
	RequestID     string      `json:"request_id"`
	ID            string      `json:"id"`
	Status        Status      `json:"status"`
	RequestStatus Status      `json:"request_status"`
	ProofStatus   ProofStatus `json:"proof_status"`
	PayPageURL    string      `json:"pay_page_url"`
	CreatedAt     time.Time   `json:"created_at"`
	ExpiresAt     time.Time   `json:"expires_at"`
	MerchantID    string      `json:"merchant_id"`
	Metadata      stringMap   `json:"metadata"`
	PaymentMode   PaymentMode `json:"payment_mode"`
	Memo          string      `json:"memo"`
	CustomerName  string      `json:"customer_name"`
	CustomerEmail string      `json:"customer_email"`
	TxHash        string      `json:"tx_hash"`
	Amount        struct {
		FiatInt   int64  `json:"fiat_int"`
		FiatCode  string `json:"fiat_code"`
		USDCMicro string `json:"usdc_micro"`
	} `json:"amount"`
	Request json.RawMessage `json:"request"`
}

// request converts f, reporting false when it is not the documented shape after all (a
// wrapped object, a usdc_micro that is not an integer).
func (f *fastRequest) request() (*PaymentRequest, bool) {
	if len(f.Request) > 0 {
		return nil, false
	}
	usdc, err := parseMicro(f.Amount.USDCMicro)
	if err != nil {
		return nil, false
	}
	r := &PaymentRequest{
		ID: f.RequestID, Status: f.Status, ProofStatus: f.ProofStatus, PayPageURL: f.PayPageURL,
		CreatedAt: f.CreatedAt, ExpiresAt: f.ExpiresAt,
		Amount:     Amount{FiatInt: f.Amount.FiatInt, FiatCode: f.Amount.FiatCode, USDCMicro: usdc},
		MerchantID: f.MerchantID, Metadata: map[string]string(f.Metadata), PaymentMode: f.PaymentMode, Memo: f.Memo,
		CustomerName: f.CustomerName, CustomerEmail: f.CustomerEmail, TxHash: f.TxHash,
	}
	if r.ID == "" {
		r.ID = f.ID
	}
	if r.Status == "" {
		r.Status = f.RequestStatus
	}
	return r, true
}

// UnmarshalJSON decodes the documented shape on a fast path and anything else tolerantly.
func (w *wireRequest) UnmarshalJSON(b []byte) error { return w.DecodeBody(b) }

// DecodeBody implements transport.BodyDecoder: the transport hands the response body straight
// here, so it is scanned once to validate it and once to decode it (json.Unmarshal refuses
// anything that is not exactly one JSON value, as the transport requires).
func (w *wireRequest) DecodeBody(b []byte) error {
	var f fastRequest
	if json.Unmarshal(b, &f) == nil {
		if r, ok := f.request(); ok {
			*w = wireRequest{OK: f.OK, Error: f.Error, Message: f.Message, parsed: r}
			return nil
		}
	}
	type tolerant wireRequest // the same fields without this method
	var t tolerant
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	*w = wireRequest(t)
	return nil
}

// parseMicro parses usdc_micro's string integer; "" (absent) is 0.
func parseMicro(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return jsonx.ParseInt64(s)
}
