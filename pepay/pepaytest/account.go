package pepaytest

import (
	"encoding/json"
	"net/http"

	"github.com/paykit-go/paykit/pepay"
)

// SetMainnetAccess grants or withdraws the fake account's mainnet access, as Pepay does when it
// approves a request. Withdrawing it moves the dashboard user back to devnet.
func (s *Server) SetMainnetAccess(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mainnet = enabled
	if !enabled {
		s.userEnv = pepay.EnvironmentDevnet
	}
}

// AccountEnvironment returns the dashboard user's environment (PUT /api/v1/user/environment
// changes it). It is separate from the environment invoices and events are created in.
func (s *Server) AccountEnvironment() pepay.Environment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userEnv
}

func (s *Server) mainnetStatusLocked() map[string]any {
	return map[string]any{"has_mainnet_access": s.mainnet, "current_environment": s.userEnv}
}

// mainnetStatus answers GET /api/v1/user/mainnet-access/status.
func (s *Server) mainnetStatus(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := s.mainnetStatusLocked()
	s.mu.Unlock()
	writeWrapped(w, http.StatusOK, out)
}

// switchEnvironment answers PUT /api/v1/user/environment with the body {"environment":…} (the
// SDK's assumption about the undocumented body). Mainnet without access is 403
// MAINNET_ACCESS_REQUIRED. The answer is the new status.
func (s *Server) switchEnvironment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Environment pepay.Environment `json:"environment"`
	}
	raw, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || (req.Environment != pepay.EnvironmentDevnet && req.Environment != pepay.EnvironmentMainnet) {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", `body must be {"environment":"devnet"|"mainnet"}`)
		return
	}
	s.mu.Lock()
	if req.Environment == pepay.EnvironmentMainnet && !s.mainnet {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "MAINNET_ACCESS_REQUIRED", "mainnet access is not enabled for this account")
		return
	}
	s.userEnv = req.Environment
	out := s.mainnetStatusLocked()
	s.mu.Unlock()
	writeWrapped(w, http.StatusOK, out)
}

// verifyInvoice answers GET and POST /api/v1/invoice/{invoiceId}/verify for the session's own
// invoice (another id is 403 SESSION_INVOICE_MISMATCH). Pepay does not document the answer; the
// fake sends {"invoice_id","status","verified":true,"paid_at"}.
func (s *Server) verifyInvoice(w http.ResponseWriter, r *http.Request, inv *invoice) {
	if r.PathValue("invoiceId") != inv.id {
		writeError(w, http.StatusForbidden, "SESSION_INVOICE_MISMATCH", "the payment session belongs to another invoice")
		return
	}
	s.mu.Lock()
	out := map[string]any{"invoice_id": inv.id, "status": inv.status, "verified": true, "paid_at": nullableTime(inv.paidAt)}
	s.mu.Unlock()
	writeWrapped(w, http.StatusOK, out)
}
