package jovepay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
)

// login fetches JWTs with POST /auth for the TokenCache, which makes sure only one login runs at
// a time however many goroutines need a token.
type login struct {
	t               *transport.Client
	email, password string
	now             func() time.Time
	skew            time.Duration
}

type authRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type authResponse struct {
	Token string `json:"token"`
}

func (l *login) fetch(ctx context.Context) (string, time.Time, error) {
	var out authResponse
	err := l.t.Do(ctx, transport.Request{
		Method: "POST",
		Path:   "auth",
		Route:  "auth",
		Body:   authRequest{Email: l.email, Password: l.password},
		NoAuth: true, // /auth takes the dashboard login, not the API key
		// Logging in twice is harmless, so a login lost to a 5xx or a dropped connection may be
		// retried like a GET.
		Idempotent: true,
	}, &out)
	if err != nil {
		return "", time.Time{}, err
	}
	if out.Token == "" {
		return "", time.Time{}, errors.New("jovepay: POST /auth answered without a token")
	}
	return out.Token, tokenExpiry(out.Token, l.now(), l.skew), nil
}

// tokenExpiry decides when the cache must stop using token, from the exp (and iat) claims of its
// payload. The signature is not checked: the token is only ever shown back to JovePay, which
// checks it; the claims only tell us when to renew.
//
//   - No readable exp: zero, so the cache assumes the documented 5-minute lifetime.
//   - With iat, the lifetime is exp−iat, and the expiry is the earlier of exp and now+lifetime:
//     a local clock behind JovePay's cannot make us keep a token too long, and one ahead of it
//     (exp already in the past by our clock) still gets the token's real lifetime.
//   - A lifetime shorter than twice the refresh skew would make every call log in again, so
//     such tokens are renewed at half their lifetime instead.
func tokenExpiry(token string, now time.Time, skew time.Duration) time.Time {
	exp, iat, ok := jwtTimes(token)
	if !ok {
		return time.Time{}
	}
	life := exp.Sub(now)
	if !iat.IsZero() && exp.After(iat) {
		if l := exp.Sub(iat); life <= 0 || l < life {
			life = l
		}
	}
	if life <= 0 {
		return time.Time{} // exp in the past by our clock and no iat: assume the default lifetime
	}
	if life < 2*skew {
		return now.Add(skew + life/2) // the cache renews at expiry−skew = now+life/2
	}
	return now.Add(life)
}

// jwtTimes reads the exp and iat claims (NumericDate seconds) of a JWT's payload segment.
func jwtTimes(token string) (exp, iat time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, time.Time{}, false
	}
	seg := strings.TrimRight(parts[1], "=")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
		Iat json.Number `json:"iat"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return time.Time{}, time.Time{}, false
	}
	exp, ok = numericDate(claims.Exp)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	iat, _ = numericDate(claims.Iat)
	return exp, iat, true
}

func numericDate(n json.Number) (time.Time, bool) {
	if n == "" {
		return time.Time{}, false
	}
	if i, err := n.Int64(); err == nil && i > 0 {
		return time.Unix(i, 0), true
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e12 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(f*1e9)), true
}
