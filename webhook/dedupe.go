package webhook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Dedupe defaults.
const (
	// DefaultLease is how long a claim lasts before another worker may take it over. It must be
	// longer than the slowest handler run; providers time deliveries out after seconds (JoPay: 8 s).
	DefaultLease = 5 * time.Minute
	// DefaultRetention is how long a completed event id is remembered. Providers retry for about
	// a day; a week also covers manual redeliveries.
	DefaultRetention = 7 * 24 * time.Hour
)

// finishTimeout bounds Complete and Release, which run even when the request context is done:
// recording the outcome must not be skipped because the provider hung up.
const finishTimeout = 10 * time.Second

var (
	// ErrEmptyEventID is returned by Deduper.Do for an empty event id; fn is not run.
	ErrEmptyEventID = errors.New("webhook: empty event id")
	// ErrClaimLost is returned by Store.Complete and Store.Release when the token no longer owns
	// the claim: its lease expired and another worker took it over, or it was purged.
	ErrClaimLost = errors.New("webhook: claim lost (lease expired and taken over)")
)

// ClaimResult is the outcome of Store.Claim.
type ClaimResult int

// Claim outcomes. The zero value is invalid, so a Store that forgets to set one is caught.
const (
	// Claimed: the caller now owns the id under its token until the lease ends.
	Claimed ClaimResult = iota + 1
	// Duplicate: the id was completed and is still within its retention window.
	Duplicate
	// InFlight: another token holds an unexpired claim on the id.
	InFlight
)

// String returns "claimed", "duplicate" or "in_flight".
func (r ClaimResult) String() string {
	switch r {
	case Claimed:
		return "claimed"
	case Duplicate:
		return "duplicate"
	case InFlight:
		return "in_flight"
	}
	return "ClaimResult(" + strconv.Itoa(int(r)) + ")"
}

// Store persists dedupe state for a Deduper. MemoryStore keeps it in process; the sqlstore
// package keeps it in PostgreSQL so several replicas share it. Implement it to use another
// database. Each id is in one of three states: absent, claimed (token, lease end) or completed
// (retention end). All three methods must be atomic per id and safe for concurrent use; times
// come from the Deduper's clock so that every replica judges expiry the same way.
type Store interface {
	// Claim atomically claims id for token until now+lease and reports Claimed when id is
	// absent, claimed with a lease ending at or before now (a crashed worker: take it over), or
	// completed with a retention ending at or before now. It reports Duplicate, changing
	// nothing, when id is completed and still retained, and InFlight when another claim's lease
	// ends after now. Tokens are unique per Deduper.Do call.
	Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (ClaimResult, error)
	// Complete marks id completed until now+retention, if token still owns the claim (even if
	// its lease has ended, as long as no one took it over). Otherwise it returns ErrClaimLost
	// and changes nothing.
	Complete(ctx context.Context, id, token string, now time.Time, retention time.Duration) error
	// Release removes token's claim on id so the next delivery runs the handler again. It
	// returns ErrClaimLost and changes nothing if token does not own the claim.
	Release(ctx context.Context, id, token string) error
}

// Deduper runs a handler at most once per event id at a time and remembers completed ids, so
// provider redeliveries of a processed event are skipped, while a failed or crashed handler
// loses nothing: its claim is released (or its lease expires) and the redelivery runs it again.
//
// Delivery stays at-least-once: if a handler succeeds but the Store cannot record it, or a
// handler outlives its lease and another worker takes over, the handler may run again. Make
// handler side effects idempotent (keyed on the event id) where running twice would hurt.
type Deduper struct {
	store     Store
	lease     time.Duration
	retention time.Duration
	now       func() time.Time
}

// DedupeOption configures NewDeduper.
type DedupeOption func(*Deduper)

// WithLease sets how long a claim protects a running handler before another worker may take the
// event over (default DefaultLease). Non-positive values keep the default.
func WithLease(d time.Duration) DedupeOption {
	return func(dd *Deduper) {
		if d > 0 {
			dd.lease = d
		}
	}
}

// WithRetention sets how long completed ids are remembered (default DefaultRetention).
// Non-positive values keep the default.
func WithRetention(d time.Duration) DedupeOption {
	return func(dd *Deduper) {
		if d > 0 {
			dd.retention = d
		}
	}
}

// WithDedupeClock injects the clock used for leases and retention (tests). nil keeps time.Now.
func WithDedupeClock(now func() time.Time) DedupeOption {
	return func(dd *Deduper) {
		if now != nil {
			dd.now = now
		}
	}
}

// NewDeduper returns a Deduper over store. It panics if store is nil.
func NewDeduper(store Store, opts ...DedupeOption) *Deduper {
	if store == nil {
		panic("webhook: NewDeduper with nil Store")
	}
	d := &Deduper{
		store:     store,
		lease:     DefaultLease,
		retention: DefaultRetention,
		now:       time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(d)
		}
	}
	return d
}

// Do runs fn once for eventID unless it already ran successfully:
//
//   - nil: fn ran and succeeded, and the id is now remembered for the retention window.
//   - ErrDuplicate: the id was completed before; fn was not run.
//   - ErrInFlight: another worker holds an unexpired claim; fn was not run (answer 503 so the
//     provider retries later).
//   - fn's error (errors.Is works on it): the claim was released, so a redelivery runs fn again.
//   - ErrEmptyEventID, or a wrapped Store error: fn was not run.
//   - a wrapped Store error (possibly ErrClaimLost) after fn succeeded: the completion could not
//     be recorded. Treat it as a failure (500) so the provider redelivers; fn may then run again.
//
// If fn panics, the claim is released and the panic continues. Complete and Release run with a
// context that ignores ctx's cancellation (bounded by a short timeout), so a provider hanging up
// does not leave the outcome unrecorded.
func (d *Deduper) Do(ctx context.Context, eventID string, fn func(context.Context) error) (err error) {
	if eventID == "" {
		return ErrEmptyEventID
	}
	token := newToken()
	res, err := d.store.Claim(ctx, eventID, token, d.now(), d.lease)
	if err != nil {
		return fmt.Errorf("webhook: dedupe claim: %w", err)
	}
	switch res {
	case Claimed:
	case Duplicate:
		return ErrDuplicate
	case InFlight:
		return ErrInFlight
	default:
		return fmt.Errorf("webhook: dedupe store returned invalid claim result %v", res)
	}

	finished := false
	defer func() {
		if !finished { // fn panicked: give the event back before the panic continues
			_ = d.release(ctx, eventID, token)
		}
	}()
	fnErr := fn(ctx)
	finished = true

	fctx, cancel := finishContext(ctx)
	defer cancel()
	if fnErr != nil {
		if rerr := d.store.Release(fctx, eventID, token); rerr != nil && !errors.Is(rerr, ErrClaimLost) {
			// The claim stays until its lease ends; redeliveries get ErrInFlight until then.
			return errors.Join(fnErr, fmt.Errorf("webhook: dedupe release: %w", rerr))
		}
		return fnErr
	}
	if cerr := d.store.Complete(fctx, eventID, token, d.now(), d.retention); cerr != nil {
		// Best effort: free the claim so the redelivery can run fn again without waiting for
		// the lease. If the completion was in fact stored, Release changes nothing.
		_ = d.store.Release(fctx, eventID, token)
		return fmt.Errorf("webhook: handler succeeded but dedupe completion failed: %w", cerr)
	}
	return nil
}

func (d *Deduper) release(ctx context.Context, id, token string) error {
	fctx, cancel := finishContext(ctx)
	defer cancel()
	return d.store.Release(fctx, id, token)
}

// finishContext returns the context for Complete and Release: ctx's values without its
// cancellation, bounded by finishTimeout. A context that can never be cancelled is used as is,
// which spares the timer on hot paths that pass context.Background.
func finishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Done() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}

// newToken returns a claim token: 128 random bits in hex. Tokens only need to differ between
// claims of the same id (they are fences, not secrets), so the runtime's per-thread ChaCha8
// generator behind math/rand/v2 is enough, and unlike crypto/rand or a shared counter it costs
// no system call and no cache-line contention between cores.
func newToken() string {
	var b [32]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 15; i >= 0; i-- {
		b[i], b[16+i] = tokenHexDigits[hi&0xf], tokenHexDigits[lo&0xf]
		hi >>= 4
		lo >>= 4
	}
	return string(b[:])
}

const tokenHexDigits = "0123456789abcdef"
