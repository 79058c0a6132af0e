// Package redisstore is a webhook.Store on Redis (github.com/redis/go-redis/v9), so several
// replicas of a service share event dedupe state: a delivery claimed by one replica is in flight
// for the others, and a completed event is a duplicate everywhere.
//
// It takes a redis.UniversalClient, so a single node (*redis.Client), Sentinel
// (redis.NewFailoverClient) and Cluster (*redis.ClusterClient) all work:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(rdb, redisstore.WithPrefix("billing:webhooks:"))
//	if err != nil { ... }
//	dedupe := webhook.NewDeduper(store)
//
// Each event id is one string key, prefix + webhook.StoreKey(id), so any id works (long or
// binary ids are stored under a fixed-length SHA-256 digest) and every operation touches a
// single key, which Redis Cluster requires. A claim is one SET NX PX when the key is absent (the
// common case, no script); otherwise, and to complete or release, a short Lua script runs
// atomically on the server. Complete and Release check the claim's token in that script, so a
// worker whose lease expired and was taken over cannot overwrite its successor.
//
// Leases and retention windows are judged by the times the Deduper passes (its clock, like the
// other stores), recorded in the key's value with microsecond precision, exactly as the sqlstore
// package does. Key TTLs only garbage-collect: a completed id's key lives for the retention
// window, and a claim's key for its lease plus max(lease, 1 minute), so a handler that overruns
// its lease can still record completion when nobody took the event over, and a Redis clock
// running a little ahead of the replicas cannot end a lease early. Nothing needs purging.
//
// Durability is Redis's: if the server loses a claim (a restart without persistence, a failover
// to a replica that had not received it), the handler's completion reports webhook.ErrClaimLost,
// the Deduper answers 500 and the provider's redelivery runs the handler again; a lost completed
// id means a redelivery runs it again. Delivery stays at-least-once either way. Eviction under
// memory pressure loses state the same way, and every key here has a TTL, so volatile-* policies
// pick them first: give the server room, or keep the default maxmemory-policy noeviction.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit-go/paykit/webhook"
)

// DefaultPrefix starts every key when WithPrefix is not given.
const DefaultPrefix = "paykit:webhook:"

// Key values. A claim is "c" + expiry + token, a completed id "d" + expiry, where expiry is the
// lease or retention end in Unix microseconds, offset by 2^63 so that it is never negative and
// written as 20 zero-padded digits: the Lua scripts then compare two expiries as strings, which
// is exact where Lua's floating-point numbers are not.
const (
	stateClaimed   = 'c'
	stateCompleted = 'd'
	expiryDigits   = 20
)

// Claim outcomes of claimScript.
const (
	scriptClaimed   = 1
	scriptDuplicate = 2
	scriptInFlight  = 3
)

// claimScript takes the key over when it is absent or its lease or retention ended at or before
// now, as webhook.Store.Claim specifies. A live claim that already carries the caller's token
// is the caller's (the SET NX of a retried request that had succeeded): claimed, as in the
// sqlstore package. KEYS[1] = key; ARGV = new claim value, now, TTL in ms.
const claimScript = `
local v = redis.call('GET', KEYS[1])
if v then
	local state = string.sub(v, 1, 1)
	if #v < 21 or (state ~= 'c' and state ~= 'd') then
		return redis.error_reply('paykit redisstore: key holds a foreign value')
	end
	if string.sub(v, 2, 21) > ARGV[2] then
		if state == 'd' then return 2 end
		if string.sub(v, 22) == string.sub(ARGV[1], 22) then return 1 end
		return 3
	end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`

// completeScript replaces token's claim by a completed value. KEYS[1] = key; ARGV = token,
// completed value, TTL in ms. Returns 1, or 0 when token does not own the claim.
const completeScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'c' and string.sub(v, 22) == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
	return 1
end
return 0
`

// releaseScript deletes token's claim. KEYS[1] = key; ARGV = token. Returns 1, or 0 when token
// does not own the claim.
const releaseScript = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'c' and string.sub(v, 22) == ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`

// Store is a webhook.Store backed by Redis. It is safe for concurrent use by any number of
// goroutines and processes.
type Store struct {
	rdb                      redis.UniversalClient
	prefix                   string
	claim, complete, release *redis.Script
}

// Option configures New.
type Option func(*config) error

type config struct {
	prefix string
}

// WithPrefix sets the string every key starts with (default DefaultPrefix), to keep several
// services or environments apart on one Redis. Any string is allowed, including "". In a
// Cluster, a prefix with a hash tag such as "{webhooks}:" puts every id in one slot (one node);
// the default spreads ids over the cluster.
func WithPrefix(prefix string) Option {
	return func(c *config) error {
		c.prefix = prefix
		return nil
	}
}

// New returns a Store using rdb. It does not contact the server.
func New(rdb redis.UniversalClient, opts ...Option) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil redis client")
	}
	c := config{prefix: DefaultPrefix}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	return &Store{
		rdb:      rdb,
		prefix:   c.prefix,
		claim:    redis.NewScript(claimScript),
		complete: redis.NewScript(completeScript),
		release:  redis.NewScript(releaseScript),
	}, nil
}

// Key returns the Redis key that holds id's state: the prefix followed by webhook.StoreKey(id).
func (s *Store) Key(id string) string { return s.prefix + webhook.StoreKey(id) }

var errEmptyToken = errors.New("redisstore: claim with an empty token")

// Claim implements webhook.Store.
func (s *Store) Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (webhook.ClaimResult, error) {
	if token == "" {
		return 0, errEmptyToken
	}
	key := s.Key(id)
	// Just below the largest expiry, so that an expiry saturated there never passes.
	nowMicros := min(unixMicro(now), math.MaxInt64-1)
	value := encode(stateClaimed, addMicros(nowMicros, lease), token)
	ttl := claimTTL(lease)
	ok, err := s.rdb.SetNX(ctx, key, value, ttl).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: claim: %w", err)
	}
	if ok {
		return webhook.Claimed, nil
	}
	// The key exists: decide atomically between take-over, duplicate and in flight.
	var now20 [expiryDigits]byte
	res, err := s.claim.Run(ctx, s.rdb, []string{key}, value, string(appendExpiry(now20[:0], nowMicros)), ttlMillis(ttl)).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: claim: %w", err)
	}
	switch res {
	case scriptClaimed:
		return webhook.Claimed, nil
	case scriptDuplicate:
		return webhook.Duplicate, nil
	case scriptInFlight:
		return webhook.InFlight, nil
	}
	return 0, fmt.Errorf("redisstore: claim: unexpected script result %d", res)
}

// Complete implements webhook.Store.
func (s *Store) Complete(ctx context.Context, id, token string, now time.Time, retention time.Duration) error {
	if token == "" {
		return webhook.ErrClaimLost
	}
	value := encode(stateCompleted, addMicros(unixMicro(now), retention), "")
	n, err := s.complete.Run(ctx, s.rdb, []string{s.Key(id)}, token, value, ttlMillis(positiveTTL(retention))).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: complete: %w", err)
	}
	if n != 1 {
		return webhook.ErrClaimLost
	}
	return nil
}

// Release implements webhook.Store.
func (s *Store) Release(ctx context.Context, id, token string) error {
	if token == "" {
		return webhook.ErrClaimLost
	}
	n, err := s.release.Run(ctx, s.rdb, []string{s.Key(id)}, token).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	if n != 1 {
		return webhook.ErrClaimLost
	}
	return nil
}

// encode returns a key value: the state byte, the expiry and the token.
func encode(state byte, expiryMicros int64, token string) string {
	b := make([]byte, 0, 1+expiryDigits+len(token))
	b = append(b, state)
	b = appendExpiry(b, expiryMicros)
	b = append(b, token...)
	return string(b)
}

// appendExpiry appends t (Unix microseconds) offset by 2^63 as 20 zero-padded digits, so that
// the string order of two encodings is their numeric order.
func appendExpiry(b []byte, t int64) []byte {
	u := uint64(t) ^ 1<<63
	var d [expiryDigits]byte
	for i := expiryDigits - 1; i >= 0; i-- {
		d[i] = byte('0' + u%10)
		u /= 10
	}
	return append(b, d[:]...)
}

// unixMicro is t in Unix microseconds, rounded down (like the sqlstore package's times) and
// saturated at the int64 range instead of wrapping.
func unixMicro(t time.Time) int64 {
	const perSec = int64(time.Second / time.Microsecond)
	s, us := t.Unix(), int64(t.Nanosecond())/int64(time.Microsecond)
	switch {
	case s > math.MaxInt64/perSec-1:
		return math.MaxInt64
	case s < math.MinInt64/perSec+1:
		return math.MinInt64
	}
	return s*perSec + us
}

// addMicros returns t+d in microseconds (d rounded down), saturated at the int64 range.
func addMicros(t int64, d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	switch {
	case us > 0 && t > math.MaxInt64-us:
		return math.MaxInt64
	case us < 0 && t < math.MinInt64-us:
		return math.MinInt64
	}
	return t + us
}

// minClaimGrace is the least time a claim's key outlives its lease.
const minClaimGrace = time.Minute

// maxTTL is the largest whole number of milliseconds a Duration holds (about 292 years).
const maxTTL = math.MaxInt64 / time.Millisecond * time.Millisecond

// claimTTL is how long a claim's key lives: the lease plus the lease again, at least
// minClaimGrace more, saturated at maxTTL.
func claimTTL(lease time.Duration) time.Duration {
	lease = positiveTTL(lease)
	grace := max(lease, minClaimGrace)
	if lease > maxTTL-grace {
		return maxTTL
	}
	return lease + grace
}

// positiveTTL is d rounded up to whole milliseconds (Redis's TTL unit), at least 1 ms and at
// most maxTTL.
func positiveTTL(d time.Duration) time.Duration {
	switch {
	case d <= time.Millisecond:
		return time.Millisecond
	case d >= maxTTL:
		return maxTTL
	}
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}

// ttlMillis formats a positiveTTL result as the PX argument.
func ttlMillis(d time.Duration) string { return strconv.FormatInt(int64(d/time.Millisecond), 10) }
