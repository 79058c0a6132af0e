package jopaytest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit/jopay"
)

type listQuery struct {
	merchantID  string
	status      string
	proofStatus string
	since       time.Time
	until       time.Time
	limit       int
	after       *position // from cursor
}

// position is a keyset position: rows strictly after (CreatedAt, seq).
type position struct {
	at  time.Time
	seq int64
}

func (p position) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.at.UnixNano(), 10) + ":" + strconv.FormatInt(p.seq, 10)))
}

func decodePosition(s string) (*position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	at, seq, ok := strings.Cut(string(b), ":")
	if !ok {
		return nil, false
	}
	ns, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	return &position{at: time.Unix(0, ns).UTC(), seq: n}, true
}

func (s *Server) parseList(q url.Values) (listQuery, *apiError) {
	lq := listQuery{merchantID: q.Get("merchant_id"), status: q.Get("status"), proofStatus: q.Get("proof_status"), limit: jopay.DefaultListLimit}
	parse := func(name string) (time.Time, *apiError) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, badRequest("invalid_" + name)
		}
		if s.precision > 0 {
			t = t.Truncate(s.precision)
		}
		return t, nil
	}
	var e *apiError
	if lq.since, e = parse("since"); e != nil {
		return lq, e
	}
	if lq.until, e = parse("until"); e != nil {
		return lq, e
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > jopay.MaxListLimit {
			return lq, badRequest("invalid_limit")
		}
		lq.limit = n
	}
	if c := q.Get("cursor"); c != "" {
		if !s.nextCursor {
			return lq, badRequest("invalid_cursor")
		}
		p, ok := decodePosition(c)
		if !ok {
			return lq, badRequest("invalid_cursor")
		}
		lq.after = p
	}
	return lq, nil
}

// matches applies the filters other than the position.
func (lq *listQuery) matches(r *request, excl bool) bool {
	switch {
	case lq.merchantID != "" && r.MerchantID != lq.merchantID,
		lq.status != "" && string(r.Status) != lq.status,
		lq.proofStatus != "" && string(r.ProofStatus) != lq.proofStatus,
		!lq.until.IsZero() && !r.CreatedAt.Before(lq.until):
		return false
	case !lq.since.IsZero() && excl && !r.CreatedAt.After(lq.since),
		!lq.since.IsZero() && !excl && r.CreatedAt.Before(lq.since):
		return false
	}
	return true
}

// listResponse is GET /requests: {"ok":true,"requests":[…],"has_more":…,"next_cursor":…|null}.
type listResponse struct {
	OK         bool          `json:"ok"`
	Requests   []wireRequest `json:"requests"`
	HasMore    bool          `json:"has_more"`
	NextCursor *string       `json:"next_cursor"`
}

// handleList serves rows sorted by created_at (oldest first) filtered by since (inclusive by
// default) and until (exclusive).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, sp *space) {
	s.mu.Lock()
	lq, apiErr := s.parseList(r.URL.Query())
	if apiErr != nil {
		s.mu.Unlock()
		writeError(w, apiErr.status, apiErr.code, apiErr.extra)
		return
	}
	if s.generated != nil && keyFrom(r.Context()).mode == jopay.ModeTest {
		g, excl, cursor := s.generated, s.exclusive, s.nextCursor
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, g.list(&lq, excl, cursor))
		return
	}
	resp := s.listLocked(&lq, sp)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// listLocked builds one page from stored rows; the caller holds s.mu.
func (s *Server) listLocked(lq *listQuery, sp *space) listResponse {
	now := s.now()
	start := 0
	if !lq.since.IsZero() {
		start = sp.firstAfter(lq.since, s.exclusive)
	}
	if lq.after != nil {
		// Keyset: first row strictly after (at, seq).
		i := sp.firstAfter(lq.after.at, false)
		for i < len(sp.rows) && sp.rows[i].CreatedAt.Equal(lq.after.at) && sp.rows[i].seq <= lq.after.seq {
			i++
		}
		start = max(start, i)
	}
	resp := listResponse{OK: true, Requests: []wireRequest{}}
	var last *request
	for _, row := range sp.rows[start:] {
		row.refresh(now)
		if !lq.matches(row, s.exclusive) {
			continue
		}
		if len(resp.Requests) == lq.limit {
			resp.HasMore = true
			break
		}
		resp.Requests = append(resp.Requests, toWire(row))
		last = row
	}
	if resp.HasMore && s.nextCursor && last != nil {
		c := position{at: last.CreatedAt, seq: last.seq}.encode()
		resp.NextCursor = &c
	}
	return resp
}
