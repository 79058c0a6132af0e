package jopaycheckouttest

import (
	"context"
	"html"
	"net/http"
	"strings"
	"time"
)

// serveHostedPage simulates the buyer's side of the hosted checkout page, GET (or POST)
// /checkout/<id>:
//
//   - no action, or ?action=pay: pay. An open session is completed and its
//     checkout.session.completed webhook delivered (before answering, so tests see a fixed
//     order), then 303 to success_url with ?session_id=<id> appended. A completed session
//     redirects again without a new webhook.
//   - ?action=cancel: 303 to cancel_url; the session stays open.
//   - ?action=fail: a failed attempt (checkout.payment.failed delivered); 402 page, session open.
//
// An expired session answers 410, an unknown one 404.
func (s *Server) serveHostedPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		page(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/checkout/")
	s.mu.Lock()
	sess, ok := s.sessions[id]
	var status, successURL, cancelURL string
	if ok {
		s.expireIfDue(sess)
		status, successURL, cancelURL = sess.status, sess.successURL, sess.cancelURL
	}
	s.mu.Unlock()
	if !ok {
		page(w, http.StatusNotFound, "Unknown checkout session")
		return
	}
	// Deliver even if the buyer's browser goes away, as the real service would.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	switch action := r.URL.Query().Get("action"); {
	case status == "expired":
		page(w, http.StatusGone, "This checkout session has expired")
	case action == "cancel":
		http.Redirect(w, r, cancelURL, http.StatusSeeOther)
	case action == "fail":
		if _, err := s.Fail(ctx, id); err != nil {
			page(w, http.StatusConflict, "This checkout session cannot be paid")
			return
		}
		page(w, http.StatusPaymentRequired, "Payment failed. Please try again.")
	case action == "" || action == "pay":
		if status == "open" {
			if _, err := s.Pay(ctx, id); err != nil {
				// Another request got there first: completed is fine, expired is not.
				if snap, _ := s.Session(id); snap.Status != "completed" {
					page(w, http.StatusGone, "This checkout session has expired")
					return
				}
			}
		}
		http.Redirect(w, r, successRedirect(successURL, id), http.StatusSeeOther)
	default:
		page(w, http.StatusBadRequest, "Unknown action")
	}
}

// successRedirect appends session_id to the success URL, keeping its own query.
func successRedirect(successURL, id string) string {
	sep := "?"
	if strings.Contains(successURL, "?") {
		sep = "&"
	}
	return successURL + sep + "session_id=" + id
}

func page(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html><title>JoPay Checkout (fake)</title><p>" + html.EscapeString(text) + "</p>\n"))
}
