package pepaytest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/paykit-go/paykit/pepay"
)

// ResyncControlType is the ws_control type the fake sends when a resume's since is outside the
// replay window: {"object":"ws_control","type":"resync_required","since":…,"message":…}.
// (Pepay documents replay/resync hints without naming them; this shape is the SDK's
// assumption.)
const ResyncControlType = "resync_required"

// streamConfig holds the stream fault settings (guarded by Server.mu).
type streamConfig struct {
	replayWindow  int
	dropEvery     int
	refuseResumes int
	resend        int
	silent        bool
	errors        []wsError
	refusals      []streamRefusal
	connects      int
	resyncs       int
	drops         int
	refused       int
	frames        int
	resent        int
}

// streamRefusal is an upgrade answered with an HTTP error instead of 101.
type streamRefusal struct {
	status     int
	retryAfter time.Duration
}

type wsError struct {
	Object  string `json:"object"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// streamConn is one open stream (merchant, commerce or payor).
type streamConn struct {
	conn *websocket.Conn
	once sync.Once
	dead chan struct{}
}

// alive reports whether the connection has not been killed yet.
func (c *streamConn) alive() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

func (c *streamConn) kill() {
	c.once.Do(func() {
		close(c.dead)
		_ = c.conn.CloseNow()
	})
}

// DropStreams closes every open stream connection abruptly (no close frame), as a network
// failure would, and returns how many it closed. Clients reconnect and resume with since.
func (s *Server) DropStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.kill()
		n++
	}
	s.streamCfg.drops += n
	return n
}

// DropStreamEvery makes the server cut each stream connection after it has sent n events
// (0 turns it off).
func (s *Server) DropStreamEvery(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.dropEvery = n
}

// RefuseResumes makes the next n stream connections that ask for since=<id> get a
// resync_required ws_control frame instead of a replay, as if the id had aged out of the replay
// window.
func (s *Server) RefuseResumes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.refuseResumes += n
}

// InjectStreamError makes the next stream connection receive a ws_error frame
// {"object":"ws_error","code":code,"message":message}, after which the server closes it.
func (s *Server) InjectStreamError(code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.errors = append(s.streamCfg.errors, wsError{Object: "ws_error", Code: code, Message: message})
}

// FailStreamsNext makes the next n stream upgrade requests (merchant, commerce or payor) fail
// with status and Pepay's error envelope instead of 101 Switching Protocols, with a Retry-After
// header in whole seconds when retryAfter > 0: a rate limit (429) or an overloaded host (503)
// as a client meets it when it reconnects.
func (s *Server) FailStreamsNext(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.streamCfg.refusals = append(s.streamCfg.refusals, streamRefusal{status: status, retryAfter: retryAfter})
	}
}

// ResendOnResume makes every stream resume (since=<id>) start n events early: the last n events
// up to and including since that the connection's filters let through are sent again before the
// new ones, as servers that resend around the cursor do. The client has handled them already and
// must drop them. 0 (the default) turns it off. The payor stream does not resume and is not
// affected.
func (s *Server) ResendOnResume(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.resend = max(n, 0)
}

// SetStreamsSilent makes new stream connections go silent: the server neither sends frames nor
// answers pings, like a half-open connection. Clients detect it by their idle timeout.
func (s *Server) SetStreamsSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.silent = silent
}

// StreamStats counts stream connections since the server started.
type StreamStats struct {
	// Connects is how many stream connections were accepted.
	Connects int
	// Resyncs is how many resumes were answered with a resync_required control frame.
	Resyncs int
	// Drops is how many connections the server cut (DropStreams, DropStreamEvery).
	Drops int
	// Refused is how many upgrades FailStreamsNext answered with an error.
	Refused int
	// Frames is how many event frames the server has written (or is writing) to stream
	// connections, resent ones included: never fewer than the frames clients have read.
	Frames int
	// Resent is how many of those frames ResendOnResume sent a second time.
	Resent int
}

// StreamStats returns the stream counters.
func (s *Server) StreamStats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.streamCfg
	return StreamStats{Connects: c.connects, Resyncs: c.resyncs, Drops: c.drops, Refused: c.refused, Frames: c.frames, Resent: c.resent}
}

// OpenStreams returns how many stream connections are open. A connection DropStreams or
// DropStreamEvery cut no longer counts, even while its handler is still winding down.
func (s *Server) OpenStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.alive() {
			n++
		}
	}
	return n
}

// streamKind names the fake's WebSockets.
type streamKind int

const (
	streamNone     streamKind = iota // the events API: no stream restriction
	streamMerchant                   // /ws/merchant/events: invoice.*, invoice_payment.*, test.ping
	streamCommerce                   // /ws/commerce/events: commerce.order.*
	streamPayor                      // /ws/payment: one invoice's events, no since resume
)

// wsTokenRec is a minted ws_token.
type wsTokenRec struct {
	scope pepay.WSScope
	exp   time.Time
}

// streamAuth checks the upgrade's credential for kind; it returns the HTTP status and error for
// a refusal, and for the payor stream the invoice the token belongs to.
func (s *Server) streamAuth(r *http.Request, kind streamKind) (status int, code, msg, invoiceID string) {
	tok := r.URL.Query().Get("token")
	if kind == streamPayor {
		s.mu.Lock()
		id, ok := s.payorToks[tok]
		s.mu.Unlock()
		switch {
		case tok == "":
			return http.StatusUnauthorized, "TOKEN_REQUIRED", "token (the payment session JWT) is required", ""
		case !ok:
			return http.StatusUnauthorized, "INVALID_TOKEN", "payment session token is not valid", ""
		}
		return 0, "", "", id
	}
	want := pepay.ScopeMerchant
	if kind == streamCommerce {
		want = pepay.ScopeCommerce
	}
	if tok != "" {
		s.mu.Lock()
		rec, ok := s.tokens[tok]
		s.mu.Unlock()
		switch {
		case !ok:
			return http.StatusUnauthorized, "INVALID_TOKEN", "ws token is not valid", ""
		case !s.now().Before(rec.exp):
			return http.StatusUnauthorized, "TOKEN_EXPIRED", "ws token has expired", ""
		case rec.scope != want:
			return http.StatusForbidden, "SCOPE_MISMATCH", "ws token scope is " + string(rec.scope) + ", this stream needs " + string(want), ""
		}
		return 0, "", "", ""
	}
	if kind == streamCommerce {
		code, msg := s.checkCommerceKey(r.Header)
		if code != "" {
			return http.StatusUnauthorized, code, msg, ""
		}
		return 0, "", "", ""
	}
	if code, msg := s.checkKey(r.Header); code != "" {
		return http.StatusUnauthorized, code, msg, ""
	}
	return 0, "", "", ""
}

func (s *Server) checkCommerceKey(h http.Header) (code, msg string) {
	key := h.Get("x-commerce-api-key")
	switch {
	case key == "":
		return "API_KEY_REQUIRED", "x-commerce-api-key header is required"
	case key != s.CommerceKey:
		return "API_KEY_INVALID", "Invalid commerce API key"
	}
	return "", ""
}

// serveStream serves the three WebSockets: the merchant and commerce streams resume with since
// (replay, or resync_required when since is outside the window), the payor stream carries one
// invoice's events from the moment it connects. Stream faults apply to all three.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, kind streamKind) {
	s.mu.Lock()
	var refusal *streamRefusal
	if len(s.streamCfg.refusals) > 0 {
		refusal = &s.streamCfg.refusals[0]
		s.streamCfg.refusals = s.streamCfg.refusals[1:]
		s.streamCfg.refused++
	}
	s.mu.Unlock()
	if refusal != nil {
		if refusal.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((refusal.retryAfter+time.Second-1)/time.Second), 10))
		}
		writeError(w, refusal.status, faultCode(refusal.status), "injected fault: "+http.StatusText(refusal.status))
		return
	}
	status, code, msg, payorInvoice := s.streamAuth(r, kind)
	if code != "" {
		writeError(w, status, code, msg)
		return
	}
	q := r.URL.Query()
	if f := q.Get("format"); f != "" && f != pepay.StreamFormat {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "format must be event_v1")
		return
	}
	filter := eventFilter{stream: kind, types: splitTypes(q.Get("types"))}
	switch kind {
	case streamMerchant:
		filter.invoiceID, filter.customerID = q.Get("invoice_id"), q.Get("customer_id")
		filter.invoiceType, filter.env = q.Get("invoice_type"), q.Get("environment")
	case streamCommerce:
		filter.invoiceID, filter.customerID, filter.orderID = q.Get("invoice_id"), q.Get("customer_id"), q.Get("order_id")
		filter.wallet, filter.walletNetwork = q.Get("wallet_address"), q.Get("wallet_network")
	case streamPayor:
		filter = eventFilter{stream: kind, invoiceID: payorInvoice}
	}
	// The subscription starts when the upgrade request arrives, before the 101 answer: a client
	// that saw its connection open must not miss an event logged a moment later.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "INTERNAL_SERVER_ERROR", "shutting down")
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.streamCfg.connects++
	cfg := s.streamCfg
	var injected *wsError
	if len(s.streamCfg.errors) > 0 {
		injected = &s.streamCfg.errors[0]
		s.streamCfg.errors = s.streamCfg.errors[1:]
	}
	since := q.Get("since")
	if kind == streamPayor {
		since = "" // Pepay documents no resume on the payor stream
	}
	pos, resync := len(s.events), false
	if since != "" && injected == nil && !cfg.silent {
		i, ok := s.eventIdx[since]
		switch {
		case !ok, i < len(s.events)-cfg.replayWindow, s.streamCfg.refuseResumes > 0:
			resync = true
			s.streamCfg.resyncs++
			if s.streamCfg.refuseResumes > 0 {
				s.streamCfg.refuseResumes--
			}
		default:
			pos = i + 1
			for n := cfg.resend; n > 0 && pos > 0; {
				pos--
				if filter.match(s.events[pos]) {
					n--
					s.streamCfg.resent++
				}
			}
		}
	}
	s.mu.Unlock()

	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	sc := &streamConn{conn: conn, dead: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
		sc.kill()
	}()

	if cfg.silent {
		select { // read nothing, write nothing: pings go unanswered
		case <-sc.dead:
		case <-s.stop:
		case <-r.Context().Done():
		}
		return
	}
	ctx := conn.CloseRead(r.Context()) // answers pings; ends when the client goes away
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sc.dead:
		case <-s.stop:
		case <-ctx.Done():
		}
		cancel()
	}()

	if injected != nil {
		_ = writeFrame(ctx, conn, injected)
		_ = conn.Close(websocket.StatusPolicyViolation, injected.Code)
		return
	}
	if resync {
		_ = writeFrame(ctx, conn, map[string]string{
			"object": "ws_control", "type": ResyncControlType, "since": since,
			"message": "since is outside the replay window; backfill with GET /api/v1/events?ending_before=" + since,
		})
	}
	sent := 0
	for {
		s.mu.Lock()
		var batch [][]byte
		for pos < len(s.events) && len(batch) < 256 {
			if e := s.events[pos]; filter.match(e) {
				batch = append(batch, e.body)
			}
			pos++
		}
		wake := s.changed
		dropEvery := s.streamCfg.dropEvery
		s.mu.Unlock()
		for _, b := range batch {
			// Counted before the write: a client may read the frame before the write returns.
			s.mu.Lock()
			s.streamCfg.frames++
			s.mu.Unlock()
			if err := writeRaw(ctx, conn, b); err != nil {
				return
			}
			sent++
			if dropEvery > 0 && sent%dropEvery == 0 {
				s.mu.Lock()
				s.streamCfg.drops++
				s.mu.Unlock()
				sc.kill()
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

func writeFrame(ctx context.Context, conn *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRaw(ctx, conn, b)
}

func writeRaw(ctx context.Context, conn *websocket.Conn, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// mintToken answers POST /api/v1/ws/token: a merchant key mints merchant-scope tokens and a
// commerce key commerce-scope ones; any other scope is 400 VALIDATION_ERROR.
func (s *Server) mintToken(w http.ResponseWriter, r *http.Request) {
	keyScope, path := pepay.ScopeMerchant, pepay.StreamPath
	if r.Header.Get("x-api-key") == "" && r.Header.Get("x-commerce-api-key") != "" {
		if code, msg := s.checkCommerceKey(r.Header); code != "" {
			writeError(w, http.StatusUnauthorized, code, msg)
			return
		}
		keyScope, path = pepay.ScopeCommerce, pepay.CommerceStreamPath
	} else if code, msg := s.checkKey(r.Header); code != "" {
		writeError(w, http.StatusUnauthorized, code, msg)
		return
	}
	var req struct {
		Scope      string `json:"scope"`
		TTLSeconds int64  `json:"ttl_seconds"`
	}
	raw, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "body must be {\"scope\",\"ttl_seconds\"}")
		return
	case req.Scope != string(keyScope):
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "scope must match the API key type ("+string(keyScope)+")")
		return
	case req.TTLSeconds < 1 || req.TTLSeconds > 3600:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "ttl_seconds must be between 1 and 3600")
		return
	}
	exp := s.now().Add(time.Duration(req.TTLSeconds) * time.Second)
	s.mu.Lock()
	s.reqSeq++
	tok := "ws_" + newPaymentID(1_000_000 + s.reqSeq)[:8] + newInvoiceID(2_000_000 + s.reqSeq)[:8]
	s.tokens[tok] = wsTokenRec{scope: keyScope, exp: exp}
	s.mu.Unlock()
	writeWrapped(w, http.StatusOK, map[string]any{
		"token": tok, "scope": req.Scope, "merchant_id": s.merchantID, "network_environment": s.env,
		"expires_at": rfc3339(exp), "ws_url": "ws" + s.URL[len("http"):] + path,
	})
}
