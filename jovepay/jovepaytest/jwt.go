package jovepaytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The fake's JWTs look like JovePay's: HS256, with iat and exp (NumericDate seconds) in the
// payload, signed with a key only the fake knows. "gen" lets RevokeTokens invalidate every token
// issued so far, to exercise a client's 401 → login-again path.

type jwtClaims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Gen int    `json:"gen"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (s *Server) issueToken(now time.Time) string {
	s.mu.Lock()
	s.logins++
	gen := s.tokenGen
	s.mu.Unlock()
	claims, _ := json.Marshal(jwtClaims{Sub: s.cfg.email, Iat: now.Unix(), Exp: now.Add(s.cfg.jwtLifetime).Unix(), Gen: gen})
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(claims)
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(s.jwtMAC(unsigned))
}

func (s *Server) jwtMAC(unsigned string) []byte {
	m := hmac.New(sha256.New, s.jwtKey)
	m.Write([]byte(unsigned))
	return m.Sum(nil)
}

// checkToken validates the request's Bearer JWT: signature, generation and exp against the
// fake's clock.
func (s *Server) checkToken(r *http.Request) *apiError {
	authz := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || tok == "" {
		return &apiError{http.StatusUnauthorized, "AUTH_REQUIRED", "Authorization header is required"}
	}
	expired := &apiError{http.StatusUnauthorized, "AUTH_REQUIRED", "jwt expired or invalid"}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return expired
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || !hmac.Equal(sig, s.jwtMAC(tok[:i])) {
		return expired
	}
	_, payload, _ := strings.Cut(tok[:i], ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return expired
	}
	var c jwtClaims
	if json.Unmarshal(raw, &c) != nil {
		return expired
	}
	s.mu.Lock()
	gen := s.tokenGen
	s.mu.Unlock()
	if c.Gen != gen || !s.now().Before(time.Unix(c.Exp, 0)) {
		return expired
	}
	return nil
}

// RevokeTokens makes every JWT issued so far invalid (answered 401 AUTH_REQUIRED), as a
// password change or a server-side logout would.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenGen++
}

// Logins returns how many successful POST /auth calls the fake answered.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}
