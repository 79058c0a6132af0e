package jopaytest

import (
	"context"
	"html"
	"net/http"
	"strings"

	"github.com/paykit-go/paykit/jopay"
)

// routes is the API under /api/v1 plus the unauthenticated pay pages.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.Handle("POST /api/v1/requests/create", s.auth(ScopeRequestsWrite, s.handleCreate))
	api.Handle("GET /api/v1/requests/{id}", s.auth(ScopeRequestsRead, s.handleGet))
	api.Handle("POST /api/v1/requests/{id}/cancel", s.auth(ScopeRequestsWrite, s.handleCancel))
	api.Handle("GET /api/v1/requests", s.auth(ScopeRequestsRead, s.handleList))
	api.Handle("POST /api/v1/merchants", s.auth(ScopeMerchantsWrite, s.handleCreateMerchant))
	api.Handle("GET /api/v1/merchants", s.auth(ScopeMerchantsRead, s.handleListMerchants))
	api.Handle("GET /api/v1/merchants/{id}", s.auth(ScopeMerchantsRead, s.handleGetMerchant))
	api.HandleFunc("GET /pay/{id}", s.handlePayPage)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", nil)
	})
	return api
}

// auth checks "Authorization: Bearer <key>" and the route's scope.
func (s *Server) auth(scope string, h func(http.ResponseWriter, *http.Request, *space)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		k := s.keys[token]
		s.mu.Unlock()
		if !ok || token == "" || k == nil || k.revoked {
			writeError(w, http.StatusUnauthorized, "unauthorized", nil)
			return
		}
		if k.scopes != nil && !k.scopes[scope] {
			writeError(w, http.StatusForbidden, "insufficient_scope", map[string]string{"required_scope": scope})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, k))
		s.mu.Lock()
		sp := s.spaces[k.mode]
		s.mu.Unlock()
		h(w, r, sp)
	})
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, sp *space) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := sp.byID[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", nil)
		return
	}
	req.refresh(s.now())
	writeJSON(w, http.StatusOK, okRequest{OK: true, wireRequest: toWire(req)})
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, sp *space) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := sp.byID[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", nil)
		return
	}
	req.refresh(s.now())
	switch {
	case req.Status == jopay.StatusCancelled:
		// Already cancelled: answer as the first cancel did, so a retried cancel succeeds.
	case !req.Status.IsOpen() || req.ProofStatus != jopay.ProofStatusNone:
		writeError(w, http.StatusConflict, jopay.CodeNotCancellable, nil)
		return
	default:
		req.Status = jopay.StatusCancelled
	}
	writeJSON(w, http.StatusOK, okRequest{OK: true, wireRequest: toWire(req)})
}

// handlePayPage is the customer's pay page: opening it moves the request to "opened".
func (s *Server) handlePayPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var req *request
	for _, sp := range s.spaces {
		if x, ok := sp.byID[id]; ok {
			req = x
		}
	}
	var status jopay.Status
	if req != nil {
		req.refresh(s.now())
		if req.Status == jopay.StatusRequested {
			req.Status = jopay.StatusOpened
		}
		status = req.Status
	}
	s.mu.Unlock()
	if req == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!doctype html><title>JoPay (fake)</title><p>Pay request " + html.EscapeString(id) +
		" — status " + html.EscapeString(string(status)) + "</p>\n"))
}
