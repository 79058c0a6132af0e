package pepaytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/mail"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/pepay"
)

// payor wraps a handler with payment-session authentication (x-session-token + x-signature).
// A request that also carries x-api-key is refused with 403: payor endpoints are for browsers,
// where a merchant key must never be.
func (s *Server) payor(h func(http.ResponseWriter, *http.Request, *invoice)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "" {
			writeError(w, http.StatusForbidden, "AUTH_MODE_MISMATCH", "payor endpoints take payment session headers, not an API key")
			return
		}
		tok, sig := r.Header.Get("x-session-token"), r.Header.Get("x-signature")
		if tok == "" || sig == "" {
			writeError(w, http.StatusUnauthorized, "SESSION_REQUIRED", "x-session-token and x-signature are required")
			return
		}
		s.mu.Lock()
		inv, ok := s.sessions[tok]
		s.mu.Unlock()
		switch {
		case !ok:
			writeError(w, http.StatusUnauthorized, "SESSION_INVALID", "unknown payment session")
			return
		case inv.signature != sig:
			writeError(w, http.StatusForbidden, "SIGNATURE_MISMATCH", "session and signature do not match")
			return
		}
		h(w, r, inv)
	}
}

func (s *Server) sessionDetails(w http.ResponseWriter, _ *http.Request, inv *invoice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	remaining := max(inv.expiresAt.Sub(s.now()), 0)
	out := map[string]any{
		"invoice_id": inv.id, "amount_usd": millisText(inv.amount), "amount_remaining_usd": millisText(inv.amount - inv.paid),
		"description": nullable(inv.description), "expires_at": inv.expiresAt.Unix(), "invoice_status": inv.status,
		"remaining_time": remaining.Milliseconds(), "remaining_seconds": int64(remaining / time.Second),
		"merchant_name": "Pepaytest Merchant", "network_environment": inv.env,
		"locked_network": nil, "locked_token_id": nil, "locked_payment_address": nil,
	}
	if inv.status == pepay.StatusUnderpaid {
		out["locked_network"], out["locked_token_id"], out["locked_payment_address"] = inv.network, inv.lockedToken, depositAddress(inv.id)
	}
	writeWrapped(w, http.StatusOK, out)
}

// tokenCatalogue is the fake's token list (a function: no package-level mutable state).
func tokenCatalogue() []map[string]any {
	return []map[string]any{
		{"id": 1, "token_symbol": "USDC", "token_type": "erc20", "network": "base", "token_decimals": 6,
			"token_address": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", "availability_status": "DEVNET", "unavailable_reason": nil},
		{"id": 2, "token_symbol": "ETH", "token_type": "native", "network": "base", "token_decimals": 18,
			"token_address": nil, "availability_status": "DEVNET", "unavailable_reason": nil},
		{"id": 3, "token_symbol": "SOL", "token_type": "native", "network": "solana", "token_decimals": 9,
			"token_address": nil, "availability_status": "NO_LIQUIDITY", "unavailable_reason": "no liquidity on devnet"},
	}
}

func (s *Server) availableTokens(w http.ResponseWriter, r *http.Request, _ *invoice) {
	q := r.URL.Query()
	mode, network := q.Get("mode"), q.Get("network")
	switch mode {
	case "", "monitored", "all":
	case "network":
		if network == "" {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "network is required with mode=network")
			return
		}
	default:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "mode must be monitored, all or network")
		return
	}
	availableOnly := q.Get("available_only") == "true"
	out := []map[string]any{}
	for _, t := range tokenCatalogue() {
		if network != "" && t["network"] != network {
			continue
		}
		if availableOnly && t["availability_status"] == "NO_LIQUIDITY" {
			continue
		}
		out = append(out, t)
	}
	writeWrapped(w, http.StatusOK, out)
}

func depositAddress(invoiceID string) string {
	sum := sha256.Sum256([]byte("deposit:" + invoiceID))
	return "0x" + hex.EncodeToString(sum[:20])
}

func (s *Server) paymentAddress(w http.ResponseWriter, r *http.Request, inv *invoice) {
	var req struct {
		Network string `json:"network"`
		TokenID int64  `json:"tokenId"`
	}
	raw, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || req.Network == "" || req.TokenID == 0 {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", `body must be {"network":…,"tokenId":…}`)
		return
	}
	var tok map[string]any
	for _, t := range tokenCatalogue() {
		if t["id"] == int(req.TokenID) && t["network"] == req.Network {
			tok = t
		}
	}
	if tok == nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "token not supported on this network")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.status == pepay.StatusUnderpaid && (req.Network != inv.network || req.TokenID != inv.lockedToken) {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "invoice is underpaid: pay the rest with the locked network and token")
		return
	}
	inv.addresses++
	sum := sha256.Sum256([]byte("payor-ws:" + inv.id + ":" + strconv.Itoa(inv.addresses)))
	wsToken := "eyJwYXlvciI6InBlcGF5dGVzdCJ9." + hex.EncodeToString(sum[:12]) + "." + strconv.Itoa(inv.addresses)
	s.payorToks[wsToken] = inv.id
	now := s.now()
	remaining := inv.amount - inv.paid
	rate := "1.00"
	if tok["token_symbol"] == "ETH" {
		rate = "2500.00"
	}
	writeWrapped(w, http.StatusOK, map[string]any{
		"temp_address": depositAddress(inv.id), "network": req.Network, "supported_token_id": req.TokenID,
		"estimated_token_amount": millisText(remaining), "exchange_rate": rate, "usd_amount": millisText(remaining),
		"quote_status": "active", "status_code": "QUOTE_OK", "quote_valid_until": rfc3339(now.Add(300 * time.Second)),
		"quote_expires_in_seconds": 300,
		"ws_connection": map[string]any{
			"token": wsToken, "endpoint": pepay.PayorStreamPath,
			"format": "event_v1", "ws_url": "ws" + s.URL[len("http"):] + pepay.PayorStreamPath,
		},
	})
}

func (s *Server) paymentStatus(w http.ResponseWriter, _ *http.Request, inv *invoice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := string(inv.status)
	if inv.status == pepay.StatusCanceled {
		status = "cancelled" // the spelling one payor page uses
	}
	writeWrapped(w, http.StatusOK, map[string]any{"status": status, "paid_at": nullableTime(inv.paidAt)})
}

func (s *Server) customerEmail(w http.ResponseWriter, r *http.Request, inv *invoice) {
	var req struct {
		Email string `json:"email"`
	}
	raw, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", `body must be {"email":…}`)
		return
	}
	if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "email is not a valid address")
		return
	}
	s.mu.Lock()
	inv.customerEmail = req.Email
	s.mu.Unlock()
	writeWrapped(w, http.StatusOK, map[string]any{"email": req.Email})
}

// CustomerEmail returns the email stored on an invoice (by the merchant or the payor).
func (s *Server) CustomerEmail(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv, ok := s.invoices[id]; ok {
		return inv.customerEmail
	}
	return ""
}
