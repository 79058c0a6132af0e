package pepaytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/pepay"
)

// idemEntry remembers the first request made with an Idempotency-Key.
type idemEntry struct {
	bodyHash string
	status   int
	response []byte
}

type createRequest struct {
	AmountUSD               json.Number     `json:"amount_usd"`
	Description             string          `json:"description"`
	CustomerID              string          `json:"customer_id"`
	CustomerEmail           string          `json:"customer_email"`
	Metadata                json.RawMessage `json:"metadata"`
	ExpiresIn               *json.Number    `json:"expires_in"`
	ReceiverOverrideEnable  bool            `json:"receiver_override_enable"`
	ReceiverOverrideAddress string          `json:"receiver_override_address"`
	InvoiceTitle            string          `json:"invoice_title"`
	InvoiceFooter           string          `json:"invoice_footer"`
	PaymentReturnURL        string          `json:"payment_return_url"`
	PaymentReturnURLEnabled *bool           `json:"payment_return_url_enabled"`
	Questions               json.RawMessage `json:"questions"`
}

type createResponse struct {
	InvoiceID             string            `json:"invoice_id"`
	PaymentURL            string            `json:"payment_url"`
	ExpiresAt             int64             `json:"expires_at"` // unix seconds: one documented form
	SessionToken          string            `json:"session_token"`
	Signature             string            `json:"signature"`
	PaymentSessionHeaders map[string]string `json:"payment_session_headers"`
}

// validationError is a 400 VALIDATION_ERROR.
type validationError string

func (e validationError) Error() string { return string(e) }

func (s *Server) createInvoice(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Idempotency-Key header is required")
		return
	}
	if idempotency.ValidateUUID(key) != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Idempotency-Key must be a UUID")
		return
	}
	raw, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	req, amount, err := parseCreate(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	hash := canonicalHash(raw)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "INTERNAL_SERVER_ERROR", "shutting down")
		return
	}
	if prev, ok := s.idem[key]; ok {
		s.mu.Unlock()
		if prev.bodyHash != hash {
			writeError(w, http.StatusConflict, "IDEMPOTENCY_CONFLICT", "Idempotency-Key was already used with a different request body")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.status)
		_, _ = w.Write(prev.response)
		return
	}
	s.reqSeq++
	reqID := fmt.Sprintf("req_%d", s.reqSeq)
	inv := s.newInvoiceLocked(req, amount)
	resp := createResponse{
		InvoiceID: inv.id, PaymentURL: s.URL + "/pay/" + inv.id, ExpiresAt: inv.expiresAt.Unix(),
		SessionToken: inv.sessionToken, Signature: inv.signature,
		PaymentSessionHeaders: map[string]string{"x-session-token": inv.sessionToken, "x-signature": inv.signature},
	}
	body, _ := json.Marshal(resp)
	s.idem[key] = idemEntry{bodyHash: hash, status: http.StatusCreated, response: body}
	s.appendLocked(pepay.EventInvoiceCreated, s.wire(inv, false, false, 0), nil, &eventRequest{ID: &reqID, IdempotencyKey: &key}, inv)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

// AddInvoice creates an invoice directly, as if created through the API, for a quick test
// setup: it logs invoice.created and returns the invoice's id once the webhook was delivered
// (see Deliveries).
func (s *Server) AddInvoice(ctx context.Context, p pepay.CreateInvoiceParams) (string, error) {
	m, ok := pepay.USDMillisFromDecimal(p.AmountUSD)
	if !ok || m < pepay.MinAmount || m > pepay.MaxAmount {
		return "", validationError("amount_usd must be between 0.01 and 1000000 with at most 3 decimals")
	}
	req := createRequest{Description: p.Description, CustomerID: p.CustomerID, CustomerEmail: p.CustomerEmail}
	if p.Metadata != nil {
		req.Metadata, _ = json.Marshal(p.Metadata)
	}
	if p.ExpiresIn > 0 {
		n := json.Number(strconv.FormatInt(p.ExpiresIn.Milliseconds(), 10))
		req.ExpiresIn = &n
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errClosed
	}
	inv := s.newInvoiceLocked(req, int64(m))
	rec := s.appendLocked(pepay.EventInvoiceCreated, s.wire(inv, false, false, 0), nil, nil, inv)
	s.mu.Unlock()
	if _, err := s.awaitDelivery(ctx, rec); err != nil {
		return "", err
	}
	return inv.id, nil
}

func (s *Server) newInvoiceLocked(req createRequest, amount int64) *invoice {
	s.invSeq++
	now := s.now()
	expires := pepay.DefaultExpiresIn
	if req.ExpiresIn != nil {
		ms, _ := req.ExpiresIn.Int64()
		expires = time.Duration(ms) * time.Millisecond
	}
	inv := &invoice{
		id: newInvoiceID(s.invSeq), status: pepay.StatusUnpaid, invoiceType: pepay.InvoiceTypeStandard,
		amount: amount, description: req.Description, customerID: req.CustomerID, customerEmail: req.CustomerEmail,
		metadata: compact(req.Metadata), env: s.env, createdAt: now, expiresAt: now.Add(expires),
	}
	tok := sha256.Sum256([]byte("session:" + inv.id))
	inv.sessionToken = "pst_" + hex.EncodeToString(tok[:12])
	sig := sha256.Sum256([]byte("signature:" + inv.id))
	inv.signature = "sig_" + hex.EncodeToString(sig[:16]) + "." + strconv.FormatInt(now.UnixMilli(), 10)
	s.invoices[inv.id] = inv
	s.order = append(s.order, inv)
	s.sessions[inv.sessionToken] = inv
	return inv
}

func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}

func readBody(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 64<<10)); err != nil {
		return nil, fmt.Errorf("cannot read body: %v", err)
	}
	return b.Bytes(), nil
}

// parseCreate enforces Pepay's documented body rules.
func parseCreate(raw []byte) (createRequest, int64, error) {
	var req createRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return req, 0, validationError("body must be a JSON object: " + err.Error())
	}
	if req.AmountUSD == "" {
		return req, 0, validationError("amount_usd is required")
	}
	d, err := paykit.ParseDecimal(req.AmountUSD.String())
	if err != nil {
		return req, 0, validationError("amount_usd must be a number")
	}
	m, ok := pepay.USDMillisFromDecimal(d)
	if !ok || m < pepay.MinAmount || m > pepay.MaxAmount {
		return req, 0, validationError("amount_usd must be between 0.01 and 1000000")
	}
	for name, v := range map[string]string{
		"description": req.Description, "customer_id": req.CustomerID, "customer_email": req.CustomerEmail,
		"invoice_title": req.InvoiceTitle, "invoice_footer": req.InvoiceFooter,
	} {
		if utf8.RuneCountInString(v) > 255 {
			return req, 0, validationError(name + " must be at most 255 characters")
		}
	}
	if req.ExpiresIn != nil {
		ms, err := req.ExpiresIn.Int64()
		if err != nil || ms < 1 || ms > 2_592_000_000 {
			return req, 0, validationError("expires_in must be an integer between 1 and 2592000000 (milliseconds)")
		}
	}
	if md := compact(req.Metadata); md != nil {
		if md[0] != '{' {
			return req, 0, validationError("metadata must be an object")
		}
		if len(md) > 512 {
			return req, 0, validationError("metadata must be at most 512 bytes")
		}
	}
	if q := compact(req.Questions); q != nil {
		var qs struct {
			Questions []json.RawMessage `json:"questions"`
		}
		if json.Unmarshal(q, &qs) != nil {
			return req, 0, validationError("questions must be an object with a questions array")
		}
		if len(qs.Questions) > 5 || len(q) > 512 {
			return req, 0, validationError("questions: at most 5 questions and 512 bytes")
		}
	}
	if req.PaymentReturnURL != "" {
		u, err := url.Parse(req.PaymentReturnURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(req.PaymentReturnURL) > 2048 {
			return req, 0, validationError("payment_return_url must be an https URL of at most 2048 characters")
		}
	}
	if req.ReceiverOverrideEnable && req.ReceiverOverrideAddress == "" {
		return req, 0, validationError("receiver_override_address is required when receiver_override_enable is true")
	}
	return req, int64(m), nil
}

// canonicalHash hashes the body with object keys sorted, so the same request re-encoded by a
// retry compares equal.
func canonicalHash(raw []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		sum := sha256.Sum256(raw)
		return hex.EncodeToString(sum[:])
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Server) lookup(w http.ResponseWriter, id string) *invoice {
	inv, ok := s.invoices[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "invoice not found (check the id and the environment)")
		return nil
	}
	return inv
}

func parseExpand(q url.Values) (latest, all bool, limit int, err error) {
	for _, f := range strings.Split(q.Get("expand"), ",") {
		switch f {
		case "":
		case "latest_payment":
			latest = true
		case "payments":
			all = true
		default:
			return false, false, 0, validationError("unknown expand field " + f)
		}
	}
	if v := q.Get("payments_limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 100 {
			return false, false, 0, validationError("payments_limit must be between 1 and 100")
		}
		limit = n
	}
	return latest, all, limit, nil
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) {
	latest, all, limit, err := parseExpand(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv := s.lookup(w, r.PathValue("invoiceId")); inv != nil {
		writeJSON(w, http.StatusOK, s.wire(inv, latest, all, limit))
	}
}

func (s *Server) getInvoiceStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.lookup(w, r.PathValue("invoiceId"))
	if inv == nil {
		return
	}
	out := map[string]any{"object": "invoice_status", "invoice": s.wire(inv, false, false, 0), "latest_payment": nil}
	if n := len(inv.payments); n > 0 {
		out["latest_payment"] = s.wirePayment(inv.payments[n-1])
	}
	writeJSON(w, http.StatusOK, out)
}

// invoiceFilter is the parsed list query.
type invoiceFilter struct {
	statuses, types      map[string]bool
	customer, env        string
	gte, lte             time.Time
	wallet, network      string
	latest, all          bool
	paymentsLimit, limit int
	after, before        string
}

func parseInvoiceFilter(q url.Values) (invoiceFilter, error) {
	f := invoiceFilter{customer: q.Get("customer_id"), env: q.Get("environment"),
		wallet: q.Get("payer_wallet_address"), network: q.Get("payer_wallet_network"),
		after: q.Get("starting_after"), before: q.Get("ending_before")}
	var err error
	if f.limit, err = parseLimit(q); err != nil {
		return f, err
	}
	if f.after != "" && f.before != "" {
		return f, validationError("starting_after and ending_before are mutually exclusive")
	}
	f.statuses = commaSet(q.Get("status"))
	f.types = commaSet(q.Get("invoice_type"))
	for _, k := range []string{"created_gte", "created_lte"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, validationError(k + " must be an RFC 3339 date-time")
			}
			if k == "created_gte" {
				f.gte = t
			} else {
				f.lte = t
			}
		}
	}
	f.latest, f.all, f.paymentsLimit, err = parseExpand(q)
	return f, err
}

func parseLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, validationError("limit must be between 1 and 100")
	}
	return n, nil
}

func commaSet(v string) map[string]bool {
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		m[strings.TrimSpace(s)] = true
	}
	return m
}

func (f *invoiceFilter) match(inv *invoice) bool {
	switch {
	case f.statuses != nil && !f.statuses[string(inv.status)],
		f.types != nil && !f.types[string(inv.invoiceType)],
		f.customer != "" && inv.customerID != f.customer,
		f.env != "" && string(inv.env) != f.env,
		!f.gte.IsZero() && inv.createdAt.Before(f.gte),
		!f.lte.IsZero() && inv.createdAt.After(f.lte),
		f.wallet != "" && inv.wallet != f.wallet,
		f.network != "" && inv.network != f.network:
		return false
	}
	return true
}

func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) {
	f, err := parseInvoiceFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	if c := r.PathValue("customerId"); c != "" {
		f.customer = c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ord := map[*invoice]int{}
	var items []*invoice
	cursor := -1
	for i, inv := range s.order {
		ord[inv] = i
		if inv.id == f.after || inv.id == f.before {
			cursor = i
		}
		if f.match(inv) {
			items = append(items, inv)
		}
	}
	if (f.after != "" || f.before != "") && cursor < 0 {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "unknown cursor invoice id")
		return
	}
	page, more := pageOf(items, func(inv *invoice) int { return ord[inv] }, f.limit, f.after != "", f.before != "", cursor)
	data := make([]wireInvoice, len(page))
	for i, inv := range page {
		data[i] = s.wire(inv, f.latest, f.all, f.paymentsLimit)
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": more, "url": r.URL.Path})
}

// pageOf returns one newest-first page of items (sorted oldest first by ord) with Stripe-style
// cursors: after → the newest items older than the cursor; before → the items immediately newer
// than the cursor (the oldest of them), still listed newest first; neither → the newest items.
func pageOf[T any](items []T, ord func(T) int, limit int, after, before bool, cursor int) ([]T, bool) {
	var cand []T
	switch {
	case after:
		for _, it := range items {
			if ord(it) < cursor {
				cand = append(cand, it)
			}
		}
	case before:
		for _, it := range items {
			if ord(it) > cursor {
				cand = append(cand, it)
			}
		}
	default:
		cand = items
	}
	more := len(cand) > limit
	if more {
		if before {
			cand = cand[:limit] // the ones adjacent to the cursor
		} else {
			cand = cand[len(cand)-limit:]
		}
	}
	out := make([]T, len(cand))
	for i := range cand {
		out[i] = cand[len(cand)-1-i]
	}
	return out, more
}

func (s *Server) totals(w http.ResponseWriter, r *http.Request) {
	f, err := parseInvoiceFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var count, paidCount, amount, paid int64
	for _, inv := range s.order {
		if !f.match(inv) {
			continue
		}
		count++
		amount += inv.amount
		paid += inv.paid
		if inv.status == pepay.StatusPaid {
			paidCount++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "invoice_totals", "count": count, "paid_count": paidCount,
		"amount": amount, "amount_paid": paid, "amount_remaining": amount - paid,
		"amount_decimal": millisText(amount), "amount_paid_decimal": millisText(paid), "amount_unit": "usd_millis",
	})
}

// hostedPage stands in for the hosted checkout at payment_url.
func (s *Server) hostedPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	inv, ok := s.invoices[r.PathValue("invoiceId")]
	var status pepay.Status
	var amount int64
	if ok {
		status, amount = inv.status, inv.amount
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Pepay checkout</title><p>Invoice %s: $%s, %s</p>",
		html.EscapeString(inv.id), millisText(amount), html.EscapeString(string(status)))
}
