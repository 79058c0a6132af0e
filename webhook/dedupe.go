package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
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
// package keeps it in PostgreSQL and the redisstore package in Redis, so several replicas share
// it. Implement it to use another database. Each id is in one of three states: absent, claimed
// (token, lease end) or completed (retention end). All three methods must be atomic per id and
// safe for concurrent use; times come from the Deduper's clock so that every replica judges
// expiry the same way.
//
// Ids are opaque: a Store must accept any non-empty id, of any length and any bytes (NUL,
// invalid UTF-8), since it comes from the provider's payload. A store whose keys must be short
// text persists StoreKey(id) instead of id. Durations may be as large as math.MaxInt64 (meaning
// "forever"): now+lease and now+retention must saturate rather than overflow.
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
//
// Over a MemoryStore with the default clock, Do takes the time from a clock that a timer
// refreshes every 10 ms while Do is in use, instead of reading the system clock (which can cost
// more than the whole lookup) on every call. The reading errs on the safe side: it may lag by
// about a tick, so an id can be judged in flight or a duplicate for that much longer, never
// claimed early, and leases are padded by a tick so that they are not shorter than asked.
// Retention may start up to a tick early. Over other stores, or with WithDedupeClock, every
// decision reads the clock.
type Deduper struct {
	store     Store
	mem       *MemoryStore // store, when it is one: Do then uses its allocation-free claims
	lease     time.Duration
	memLease  time.Duration // lease of Do's claims over mem: padded by a tick with coarse
	retention time.Duration
	now       func() time.Time
	custom    bool         // now was set by WithDedupeClock
	coarse    *coarseClock // the clock Do reads over mem unless custom
	obs       Observer     // WithDedupeObserver; nil: report nothing
}

// DedupeOption configures NewDeduper. An invalid value makes NewDeduper panic with a message
// naming the option ("webhook: NewDeduper: WithLease: must be positive, got 0s"): like a nil
// Store, it is a programming error, reported at construction the way regexp.MustCompile
// reports a bad pattern.
type DedupeOption func(*Deduper)

// WithLease sets how long a claim protects a running handler before another worker may take the
// event over (default DefaultLease). It must be positive. Durations too large to add to the
// current time saturate, so math.MaxInt64 means a crashed claim is never taken over.
func WithLease(d time.Duration) DedupeOption {
	return func(dd *Deduper) {
		if d <= 0 {
			panic(fmt.Sprintf("webhook: NewDeduper: WithLease: must be positive, got %v", d))
		}
		dd.lease = d
	}
}

// WithRetention sets how long completed ids are remembered (default DefaultRetention). It must
// be positive. Durations too large to add to the current time saturate, so math.MaxInt64
// remembers ids for as long as the store keeps them.
func WithRetention(d time.Duration) DedupeOption {
	return func(dd *Deduper) {
		if d <= 0 {
			panic(fmt.Sprintf("webhook: NewDeduper: WithRetention: must be positive, got %v", d))
		}
		dd.retention = d
	}
}

// WithDedupeClock injects the clock used for leases and retention (tests). It must not be nil.
func WithDedupeClock(now func() time.Time) DedupeOption {
	return func(dd *Deduper) {
		if now == nil {
			panic("webhook: NewDeduper: WithDedupeClock: nil clock")
		}
		dd.now, dd.custom = now, true
	}
}

// NewDeduper returns a Deduper over store. It panics if store is nil or an option is invalid
// (see DedupeOption).
func NewDeduper(store Store, opts ...DedupeOption) *Deduper {
	if store == nil {
		panic("webhook: NewDeduper: store: nil Store")
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
	if m, ok := store.(*MemoryStore); ok {
		d.mem = m
		d.memLease = d.lease
		if !d.custom {
			d.coarse = new(coarseClock)
			d.memLease = satDuration(d.lease, coarseTick) // the reading may be a tick old
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
// With WithDedupeObserver, each call reports one DedupeOutcome, once its outcome is decided:
// before Do returns, or before a panic from fn continues.
//
// If fn panics, the claim is released and the panic continues. Complete and Release run with a
// context that ignores ctx's cancellation (bounded by a short timeout), so a provider hanging up
// does not leave the outcome unrecorded.
func (d *Deduper) Do(ctx context.Context, eventID string, fn func(context.Context) error) error {
	m := d.mem
	if m == nil || eventID == "" {
		return d.doStore(ctx, eventID, fn)
	}
	// Over a MemoryStore: claim inline, so that the id is hashed once for its shard and its
	// table position, a duplicate costs one probe under the shard's lock, and a first delivery
	// one probe that inserts.
	var n int64
	if c := d.coarse; c != nil {
		if n = c.now.Load(); n == 0 || !c.used.Load() {
			n = c.mark()
		}
	} else {
		n = d.customNow()
	}
	h := m.hash(eventID)
	sh := m.shard(h)
	sh.mu.Lock()
	pos, ok := sh.t.find(eventID, h)
	if ok {
		if v := sh.t.slot(pos).v; v >= memCompletedMin && live(v, n) {
			sh.mu.Unlock()
			d.observe(ctx, DedupeDuplicate)
			return ErrDuplicate
		}
	}
	res, ref := sh.claimAt(eventID, h, "", n, d.memLease, pos, ok)
	sh.mu.Unlock()
	if res == InFlight {
		d.observe(ctx, DedupeInFlight)
		return ErrInFlight
	}
	return d.runClaimed(ctx, eventID, ref, fn)
}

// doStore is Do over any Store. Its defers stay out of Do: a function with that many returns
// and defers goes through the runtime's defer handling on every return, which would cost the
// MemoryStore path as much as its table lookup.
func (d *Deduper) doStore(ctx context.Context, eventID string, fn func(context.Context) error) error {
	if eventID == "" {
		d.observe(ctx, DedupeEmptyID)
		return ErrEmptyEventID
	}
	token := newToken()
	res, err := d.store.Claim(ctx, eventID, token, d.now(), d.lease)
	if err != nil {
		d.observe(ctx, DedupeStoreError)
		return fmt.Errorf("webhook: dedupe claim: %w", err)
	}
	switch res {
	case Claimed:
	case Duplicate:
		d.observe(ctx, DedupeDuplicate)
		return ErrDuplicate
	case InFlight:
		d.observe(ctx, DedupeInFlight)
		return ErrInFlight
	default:
		d.observe(ctx, DedupeStoreError)
		return fmt.Errorf("webhook: dedupe store returned invalid claim result %v", res)
	}

	finished := false
	defer func() {
		if !finished { // fn panicked: give the event back before the panic continues
			_ = d.release(ctx, eventID, token)
			d.observe(ctx, DedupeFailed)
		}
	}()
	fnErr := fn(ctx)
	finished = true

	fctx, cancel := finishContext(ctx)
	defer cancel()
	if fnErr != nil {
		d.observe(ctx, DedupeFailed)
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
		d.observe(ctx, DedupeStoreError)
		return fmt.Errorf("webhook: handler succeeded but dedupe completion failed: %w", cerr)
	}
	d.observe(ctx, DedupeProcessed)
	return nil
}

// runClaimed runs fn under the MemoryStore claim ref that Do made on eventID and records the
// outcome: the same outcomes as doStore, without tokens to format, contexts to derive or Store
// errors other than ErrClaimLost.
func (d *Deduper) runClaimed(ctx context.Context, eventID string, ref memRef, fn func(context.Context) error) error {
	finished := false
	defer func() {
		if !finished { // fn panicked: give the event back before the panic continues
			_ = d.mem.release(eventID, ref)
			d.observe(ctx, DedupeFailed)
		}
	}()
	fnErr := fn(ctx)
	finished = true
	if fnErr != nil {
		_ = d.mem.release(eventID, ref) // ErrClaimLost: the claim is no longer ours to give back
		d.observe(ctx, DedupeFailed)
		return fnErr
	}
	if cerr := d.mem.complete(eventID, ref, d.memNow(), d.retention); cerr != nil {
		d.observe(ctx, DedupeStoreError)
		return fmt.Errorf("webhook: handler succeeded but dedupe completion failed: %w", cerr)
	}
	d.observe(ctx, DedupeProcessed)
	return nil
}

// memNow returns the time (unix ns) for a MemoryStore decision.
func (d *Deduper) memNow() int64 {
	if d.coarse != nil {
		return d.coarse.read()
	}
	return d.customNow()
}

func (d *Deduper) customNow() int64 { return unixNano(d.now()) }

// satDuration returns a+b (both positive) saturated at math.MaxInt64.
func satDuration(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// coarseTick is how often a busy coarseClock is refreshed: rarely enough that the timer costs
// well under 1% of a core, often enough to be negligible against leases and retention.
const coarseTick = 10 * time.Millisecond

// coarseClock is a wall clock read with an atomic load. A timer refreshes it every coarseTick
// while it is read, and stops after a tick without reads; the next read then takes the time
// from the system clock and starts the timer again. Each Deduper has its own, so the timer
// lives where the Deduper was first used (a testing/synctest bubble, say).
type coarseClock struct {
	now  atomic.Int64 // latest reading, unix ns; 0 while stopped
	used atomic.Bool  // read since the last refresh
	mu   sync.Mutex   // orders starting against stopping
}

// read returns the latest reading: at most about a tick old while the timer keeps up. Do
// repeats its fast path inline.
func (c *coarseClock) read() int64 {
	if n := c.now.Load(); n != 0 && c.used.Load() {
		return n
	}
	return c.mark()
}

// mark is read's slow path: the first read after a refresh flags the clock as used (so only
// it writes the shared flag), and a read of a stopped clock starts it.
func (c *coarseClock) mark() int64 {
	c.used.Store(true)
	if n := c.now.Load(); n != 0 {
		return n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used.Store(true)
	if n := c.now.Load(); n != 0 {
		return n
	}
	n := max(unixNano(time.Now()), 1) // 0 means stopped
	c.now.Store(n)
	time.AfterFunc(coarseTick, c.tick)
	return n
}

// tick refreshes the reading and re-arms the timer, or stops it if nothing read it.
func (c *coarseClock) tick() {
	if !c.used.Swap(false) {
		c.mu.Lock()
		c.now.Store(0)
		c.mu.Unlock()
		return
	}
	c.now.Store(max(unixNano(time.Now()), 1))
	time.AfterFunc(coarseTick, c.tick)
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

// StoreKeyDigestPrefix starts every key StoreKey derives by hashing an id.
const StoreKeyDigestPrefix = "paykit:sha256:"

// maxVerbatimStoreKey is the longest id StoreKey keeps as is: far below PostgreSQL's B-tree
// entry limit (about 2.7 kB) and longer than any provider's event ids.
const maxVerbatimStoreKey = 1024

// StoreKey returns the key under which a Store persists event id: short, valid text for any id,
// and distinct for distinct ids.
//
// An id that is valid UTF-8, at most 1024 bytes long, free of NUL bytes and not starting with
// StoreKeyDigestPrefix is its own key, so rows stored by versions that kept ids verbatim still
// match. Any other id (long, binary, or one that looks like a digest) maps to
// StoreKeyDigestPrefix followed by the lowercase hex SHA-256 of the id: 78 bytes of ASCII. No
// verbatim key starts with the prefix and every digested one does, so two distinct ids share a
// key only if they collide under SHA-256. The cost is linear in len(id), and a verbatim id is
// returned without copying.
//
// The sqlstore and redisstore packages key their rows by StoreKey(id); MemoryStore needs no key
// mapping and uses ids as they are.
func StoreKey(id string) string {
	if len(id) <= maxVerbatimStoreKey && !strings.HasPrefix(id, StoreKeyDigestPrefix) &&
		strings.IndexByte(id, 0) < 0 && utf8.ValidString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	var b [len(StoreKeyDigestPrefix) + 2*sha256.Size]byte
	copy(b[:], StoreKeyDigestPrefix)
	hex.Encode(b[len(StoreKeyDigestPrefix):], sum[:])
	return string(b[:])
}
