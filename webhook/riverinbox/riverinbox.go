package riverinbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/paykit-go/paykit/webhook"
)

// Defaults applied by New.
const (
	// JobKind is the River job kind of stored deliveries.
	JobKind = "paykit.webhook.delivery"
	// DefaultQueue is the River queue deliveries go to when WithQueue is not given.
	DefaultQueue = "paykit_webhooks"
	// DefaultWorkers is how many deliveries a started Inbox runs at once.
	DefaultWorkers = 10
	// DefaultMaxAttempts is how many times a failing delivery runs before it is discarded
	// (River's default: with its backoff the last attempt comes about three weeks after the
	// first).
	DefaultMaxAttempts = 25
	// DefaultJobTimeout bounds one run of a process function; its context is then cancelled
	// and the attempt fails. Keep it below the Deduper's lease (webhook.DefaultLease).
	DefaultJobTimeout = time.Minute
	// DefaultSnooze is how long a delivery waits, without using up an attempt, when it cannot
	// run yet (see WithSnooze).
	DefaultSnooze = 10 * time.Second
	// DefaultListLimit is how many discarded deliveries ListDiscarded returns when
	// ListParams.Limit is zero.
	DefaultListLimit = 100
	// MaxListLimit is the largest ListParams.Limit.
	MaxListLimit = 1000
)

// hardStopTimeout bounds how long Stop waits for cancelled handlers to return once its context
// is done.
const hardStopTimeout = 10 * time.Second

var (
	// ErrAlreadyRegistered is returned by Register for an endpoint name registered before.
	ErrAlreadyRegistered = errors.New("riverinbox: endpoint already registered")
	// ErrNotFound is returned by Retry when no delivery of this inbox has the id (never stored,
	// deleted after its retention period, or a job of another kind or queue).
	ErrNotFound = errors.New("riverinbox: delivery not found")
	// ErrNotDiscarded is returned by Retry for a delivery that is not discarded (still queued,
	// running or completed).
	ErrNotDiscarded = errors.New("riverinbox: delivery is not discarded")
	// ErrSuperseded is returned by Retry when a newer copy of the same (endpoint, key) is
	// already stored (a provider redelivery that arrived after the discard); that copy runs
	// instead.
	ErrSuperseded = errors.New("riverinbox: a newer copy of the delivery is stored")
)

// Option configures New.
type Option func(*config) error

type config struct {
	queue       string
	workers     int
	maxAttempts int
	jobTimeout  time.Duration
	snooze      time.Duration
	schema      string
	logger      *slog.Logger
	river       []func(*river.Config)
}

// queueNameRE is River's rule for queue names.
var queueNameRE = regexp.MustCompile(`^[a-z0-9]+(?:[_|\-]?[a-z0-9]+)*$`)

// schemaNameRE is River's rule for schema names (at most 45 characters, so that notification
// topics stay within PostgreSQL's 63).
var schemaNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,44}$`)

// WithQueue sets the River queue of the inbox (default DefaultQueue): lowercase letters and
// digits, optionally separated by single "_", "-" or "|". Inboxes with different queues in one
// schema are independent; a delivery key is unique within its queue. No other River client may
// work this queue.
func WithQueue(name string) Option {
	return func(c *config) error {
		if len(name) > 128 || !queueNameRE.MatchString(name) {
			return fmt.Errorf("riverinbox: invalid queue name %q", name)
		}
		c.queue = name
		return nil
	}
}

// WithWorkers sets how many deliveries a started Inbox runs at once (default DefaultWorkers).
// It must be positive.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n <= 0 || n > 10000 {
			return fmt.Errorf("riverinbox: workers must be in 1..10000, got %d", n)
		}
		c.workers = n
		return nil
	}
}

// WithMaxAttempts sets how many times a failing delivery runs before it is discarded (default
// DefaultMaxAttempts). It applies to deliveries this Inbox enqueues. It must be positive.
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n <= 0 || n > 1000 {
			return fmt.Errorf("riverinbox: max attempts must be in 1..1000, got %d", n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithJobTimeout bounds one run of a process function (default DefaultJobTimeout): its context
// is then cancelled, and the attempt fails unless it already succeeded. -1 means no timeout.
// Keep it below the Deduper's lease.
func WithJobTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 && d != -1 {
			return fmt.Errorf("riverinbox: job timeout must be positive or -1, got %v", d)
		}
		c.jobTimeout = d
		return nil
	}
}

// WithSnooze sets how long a delivery waits, without using up an attempt, when it cannot run
// yet (default DefaultSnooze): no process function is registered for its endpoint on the replica
// that fetched it, or its process function returned webhook.ErrInFlight because another worker
// holds its dedupe claim. It must be positive.
func WithSnooze(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("riverinbox: snooze must be positive, got %v", d)
		}
		c.snooze = d
		return nil
	}
}

// WithSchema puts River's tables in the PostgreSQL schema name instead of the first schema of
// the connection's search_path. Migrate creates the tables there; the schema itself must exist.
// Letters, digits and underscores, not starting with a digit, at most 45 characters.
func WithSchema(name string) Option {
	return func(c *config) error {
		if !schemaNameRE.MatchString(name) {
			return fmt.Errorf("riverinbox: invalid schema name %q", name)
		}
		c.schema = name
		return nil
	}
}

// WithLogger sets the logger of the inbox and of its River client (default slog.Default()).
// The inbox logs deliveries discarded after their last attempt (Error) and deliveries whose
// endpoint is not registered (Warn), with the endpoint, key and job id, never bodies or headers.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("riverinbox: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRiverConfig lets fn adjust the River client configuration after the inbox filled it in:
// OpenTelemetry or other middleware and hooks, RetryPolicy, FetchCooldown and
// FetchPollInterval, job retention periods, RescueStuckJobsAfter, LeaderElectionDisabled. The
// inbox keeps its own Workers and its queue in Queues, whatever fn does to them. Several
// WithRiverConfig options run in order.
func WithRiverConfig(fn func(*river.Config)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("riverinbox: nil River config function")
		}
		c.river = append(c.river, fn)
		return nil
	}
}

// Inbox is a webhook.Inbox on River. Every replica of a service creates one over the same
// database (and schema); those that call Start run the workers. It is safe for concurrent use.
type Inbox struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
	cfg    config
	log    *slog.Logger
	lock   int64 // advisory lock key serialising Migrate

	mu         sync.RWMutex
	processors map[string]func(context.Context, *webhook.Delivery) error
	stopWatch  func() bool // unregisters the watch on Start's context
}

var _ webhook.Inbox = (*Inbox)(nil)

// New returns an Inbox storing deliveries through pool. It does not touch the database: call
// Migrate to create River's tables, and Start to run workers.
func New(pool *pgxpool.Pool, opts ...Option) (*Inbox, error) {
	if pool == nil {
		return nil, errors.New("riverinbox: nil *pgxpool.Pool")
	}
	cfg := config{
		queue:       DefaultQueue,
		workers:     DefaultWorkers,
		maxAttempts: DefaultMaxAttempts,
		jobTimeout:  DefaultJobTimeout,
		snooze:      DefaultSnooze,
		logger:      slog.Default(),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	ib := &Inbox{
		pool:       pool,
		cfg:        cfg,
		log:        cfg.logger,
		lock:       migrateLockKey(cfg.schema),
		processors: make(map[string]func(context.Context, *webhook.Delivery) error),
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely[deliveryArgs](workers, &worker{ib: ib}); err != nil {
		return nil, fmt.Errorf("riverinbox: %w", err)
	}
	rc := &river.Config{
		JobTimeout:  cfg.jobTimeout,
		Logger:      cfg.logger,
		MaxAttempts: cfg.maxAttempts,
		Schema:      cfg.schema,
	}
	for _, fn := range cfg.river {
		fn(rc)
	}
	rc.Workers = workers
	if rc.Queues == nil {
		rc.Queues = make(map[string]river.QueueConfig)
	}
	rc.Queues[cfg.queue] = river.QueueConfig{MaxWorkers: cfg.workers}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("riverinbox: %w", err)
	}
	ib.client = client
	return ib, nil
}

// migrateLockKey returns the advisory lock key that serialises Migrate for schema.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/paykit-go/paykit/webhook/riverinbox.Migrate\x00" + schema))
	return int64(h.Sum64())
}

// River returns the underlying River client, for what the inbox does not wrap: subscribing
// to job events, pausing the queue, River's UI. Do not insert jobs of kind JobKind through it.
func (ib *Inbox) River() *river.Client[pgx.Tx] { return ib.client }

// Migrate runs River's migrations up to the version this build knows. It is idempotent and safe
// to run from every replica at startup, concurrently: runs are serialised with a PostgreSQL
// advisory lock held on one pool connection (the migrations use another, so the pool needs at
// least two).
func (ib *Inbox) Migrate(ctx context.Context) error {
	conn, err := ib.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", ib.lock); err != nil {
		return fmt.Errorf("riverinbox: migrate: lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", ib.lock); err != nil {
			// Never hand a connection that may still hold the lock back to the pool.
			_ = conn.Conn().Close(uctx)
		}
	}()
	migrator, err := rivermigrate.New(riverpgxv5.New(ib.pool), &rivermigrate.Config{Schema: ib.cfg.schema, Logger: ib.log})
	if err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	return nil
}

// Start runs the workers in the background until Stop, or until ctx is done, which stops them
// like Stop with an expired context: running process functions are cancelled and their
// deliveries go back to the queue. Process functions get ctx's values. Register the endpoints
// first; deliveries for endpoints registered later wait (see WithSnooze). Replicas that only
// receive webhooks need not start.
func (ib *Inbox) Start(ctx context.Context) error {
	if err := ib.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("riverinbox: start: %w", err)
	}
	watch := context.AfterFunc(ctx, func() {
		// Cancelled handlers return their jobs to the queue without using up an attempt;
		// this waits until they returned.
		if err := ib.client.StopAndCancel(context.Background()); err != nil {
			ib.log.Error("riverinbox: stop after context end failed", slog.String("error", err.Error()))
		}
	})
	ib.mu.Lock()
	if ib.stopWatch != nil {
		ib.stopWatch()
	}
	ib.stopWatch = watch
	ib.mu.Unlock()
	return nil
}

// Stop stops fetching deliveries and waits for the running ones to finish. When ctx is done
// first, it cancels them (a process function that returns its context's error gives its
// delivery back to the queue without using up an attempt), waits up to 10 seconds more for them
// to return, and returns an error wrapping ctx's. A process function that ignores cancellation
// leaves its job running in the table until River's rescuer retries it (RescueStuckJobsAfter).
func (ib *Inbox) Stop(ctx context.Context) error {
	ib.mu.Lock()
	if ib.stopWatch != nil {
		ib.stopWatch()
		ib.stopWatch = nil
	}
	ib.mu.Unlock()
	err := ib.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		if err != nil {
			return fmt.Errorf("riverinbox: stop: %w", err)
		}
		return nil
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
	defer cancel()
	if herr := ib.client.StopAndCancel(hctx); herr != nil {
		return fmt.Errorf("riverinbox: stop: running handlers did not return after cancellation: %w", errors.Join(ctx.Err(), herr))
	}
	return fmt.Errorf("riverinbox: stop: running handlers cancelled: %w", ctx.Err())
}

// Register sets the function that processes deliveries stored under endpoint. It returns
// ErrAlreadyRegistered for an endpoint registered before, and an error for an empty endpoint
// or a nil function. It may be called before or after Start.
//
// process runs with a context bounded by the job timeout. Its result decides the delivery's
// fate: nil or webhook.ErrDuplicate completes it, webhook.ErrInFlight puts it back for the
// snooze delay, and any other error (or a panic) fails the attempt: River retries it with
// backoff, and discards it after the last attempt.
func (ib *Inbox) Register(endpoint string, process func(ctx context.Context, d *webhook.Delivery) error) error {
	if endpoint == "" {
		return errors.New("riverinbox: empty endpoint name")
	}
	if process == nil {
		return fmt.Errorf("riverinbox: nil process function for endpoint %q", endpoint)
	}
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if _, ok := ib.processors[endpoint]; ok {
		return fmt.Errorf("%w: %q", ErrAlreadyRegistered, endpoint)
	}
	ib.processors[endpoint] = process
	return nil
}

func (ib *Inbox) processor(endpoint string) func(context.Context, *webhook.Delivery) error {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	return ib.processors[endpoint]
}

// Enqueue stores d as a River job and returns nil once the insert has committed. A delivery
// with a non-empty Key is not stored again while a job with the same endpoint and key is
// pending, scheduled, available, running, retryable, or completed and retained in this queue:
// Enqueue then returns nil without inserting. A zero ReceivedAt is stored as the current time.
// d.Endpoint need not be registered on this replica.
func (ib *Inbox) Enqueue(ctx context.Context, d *webhook.Delivery) error {
	if d == nil {
		return errors.New("riverinbox: nil delivery")
	}
	if d.Endpoint == "" {
		return errors.New("riverinbox: delivery without endpoint name")
	}
	args := deliveryArgs{Endpoint: d.Endpoint, Key: d.Key, Body: d.Body, Header: d.Header, ReceivedAt: d.ReceivedAt}
	if args.ReceivedAt.IsZero() {
		args.ReceivedAt = time.Now()
	}
	opts := &river.InsertOpts{Queue: ib.cfg.queue, MaxAttempts: ib.cfg.maxAttempts}
	if d.Key != "" {
		// Unique by the fields tagged river:"unique" (endpoint and key), within the queue, in
		// River's default states: every state but cancelled and discarded.
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByQueue: true}
	}
	if _, err := ib.client.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("riverinbox: enqueue delivery for endpoint %q: %w", d.Endpoint, err)
	}
	return nil
}

// ListParams selects discarded deliveries for ListDiscarded.
type ListParams struct {
	// Endpoint lists only deliveries of this endpoint; "" lists all.
	Endpoint string
	// Limit is the page size: DefaultListLimit when zero, at most MaxListLimit.
	Limit int
	// Cursor continues after the page that returned it; "" starts with the oldest delivery.
	Cursor string
}

// DiscardedDelivery is a delivery that failed on its last attempt.
type DiscardedDelivery struct {
	// ID is the River job id, for Retry.
	ID int64
	// Delivery is the stored delivery. Its Header includes the signature headers.
	Delivery webhook.Delivery
	// Attempts is how many times the delivery ran.
	Attempts int
	// MaxAttempts is how many attempts it was allowed.
	MaxAttempts int
	// Errors holds the error of every failed attempt, oldest first.
	Errors []AttemptError
	// CreatedAt is when the delivery was stored.
	CreatedAt time.Time
	// DiscardedAt is when its last attempt failed.
	DiscardedAt time.Time
}

// LastError returns the error of the last failed attempt, or "" when none was recorded.
func (d *DiscardedDelivery) LastError() string {
	if len(d.Errors) == 0 {
		return ""
	}
	return d.Errors[len(d.Errors)-1].Error
}

// AttemptError is the error of one failed attempt.
type AttemptError struct {
	// Attempt is the attempt's number, from 1.
	Attempt int
	// At is when the attempt started.
	At time.Time
	// Error is the error the process function returned, or the panic value.
	Error string
}

// ListDiscarded returns discarded deliveries of this inbox's queue, oldest first, and the cursor
// of the next page ("" after the last page). Discarded deliveries are kept for River's
// DiscardedJobRetentionPeriod (7 days by default).
func (ib *Inbox) ListDiscarded(ctx context.Context, p ListParams) ([]DiscardedDelivery, string, error) {
	limit := p.Limit
	switch {
	case limit == 0:
		limit = DefaultListLimit
	case limit < 0 || limit > MaxListLimit:
		return nil, "", fmt.Errorf("riverinbox: list limit must be in 1..%d, got %d", MaxListLimit, p.Limit)
	}
	params := river.NewJobListParams().
		States(rivertype.JobStateDiscarded).
		Kinds(JobKind).
		Queues(ib.cfg.queue).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(limit)
	if p.Endpoint != "" {
		params = params.Where("args->>'endpoint' = @endpoint", river.NamedArgs{"endpoint": p.Endpoint})
	}
	if p.Cursor != "" {
		var cur river.JobListCursor
		if err := cur.UnmarshalText([]byte(p.Cursor)); err != nil {
			return nil, "", fmt.Errorf("riverinbox: invalid list cursor: %w", err)
		}
		params = params.After(&cur)
	}
	res, err := ib.client.JobList(ctx, params)
	if err != nil {
		return nil, "", fmt.Errorf("riverinbox: list discarded deliveries: %w", err)
	}
	out := make([]DiscardedDelivery, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		d, err := discardedFromRow(row)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	next := ""
	if len(res.Jobs) == limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return nil, "", fmt.Errorf("riverinbox: list cursor: %w", err)
		}
		next = string(b)
	}
	return out, next, nil
}

func discardedFromRow(row *rivertype.JobRow) (DiscardedDelivery, error) {
	var args deliveryArgs
	if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
		return DiscardedDelivery{}, fmt.Errorf("riverinbox: job %d: decode args: %w", row.ID, err)
	}
	d := DiscardedDelivery{
		ID:          row.ID,
		Delivery:    *args.delivery(),
		Attempts:    row.Attempt,
		MaxAttempts: row.MaxAttempts,
		CreatedAt:   row.CreatedAt,
	}
	if row.FinalizedAt != nil {
		d.DiscardedAt = *row.FinalizedAt
	}
	for _, e := range row.Errors {
		d.Errors = append(d.Errors, AttemptError{Attempt: e.Attempt, At: e.At, Error: e.Error})
	}
	return d, nil
}

// Retry makes the discarded delivery id available to run again at once, with one more attempt.
// It returns ErrNotFound when this inbox has no delivery with that id, ErrNotDiscarded when
// the delivery is not discarded, and ErrSuperseded when a newer copy with the same endpoint and
// key is stored (that copy runs instead).
func (ib *Inbox) Retry(ctx context.Context, id int64) error {
	row, err := ib.client.JobGet(ctx, id)
	switch {
	case errors.Is(err, river.ErrNotFound):
		return fmt.Errorf("%w: id %d", ErrNotFound, id)
	case err != nil:
		return fmt.Errorf("riverinbox: retry delivery %d: %w", id, err)
	}
	if row.Kind != JobKind || row.Queue != ib.cfg.queue {
		return fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	if row.State != rivertype.JobStateDiscarded {
		return fmt.Errorf("%w: id %d is %s", ErrNotDiscarded, id, row.State)
	}
	if _, err := ib.client.JobRetry(ctx, id); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation on unique_key
			return fmt.Errorf("%w: id %d", ErrSuperseded, id)
		}
		if errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("%w: id %d", ErrNotFound, id)
		}
		return fmt.Errorf("riverinbox: retry delivery %d: %w", id, err)
	}
	return nil
}

// deliveryArgs are the River job args of a stored delivery. Unique jobs hash the fields tagged
// river:"unique".
type deliveryArgs struct {
	Endpoint   string      `json:"endpoint" river:"unique"`
	Key        string      `json:"key" river:"unique"`
	Body       []byte      `json:"body"`
	Header     http.Header `json:"header,omitempty"`
	ReceivedAt time.Time   `json:"received_at"`
}

// Kind implements river.JobArgs.
func (deliveryArgs) Kind() string { return JobKind }

func (a *deliveryArgs) delivery() *webhook.Delivery {
	return &webhook.Delivery{Endpoint: a.Endpoint, Key: a.Key, Body: a.Body, Header: a.Header, ReceivedAt: a.ReceivedAt}
}

// worker runs stored deliveries through the registered process functions.
type worker struct {
	river.WorkerDefaults[deliveryArgs]
	ib *Inbox
}

// Work implements river.Worker.
func (w *worker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	ib := w.ib
	process := ib.processor(job.Args.Endpoint)
	if process == nil {
		ib.log.LogAttrs(ctx, slog.LevelWarn, "riverinbox: no process function registered for endpoint; delivery snoozed",
			slog.String("endpoint", job.Args.Endpoint), slog.String("key", job.Args.Key),
			slog.Int64("job_id", job.ID), slog.Duration("snooze", ib.cfg.snooze))
		return river.JobSnooze(ib.cfg.snooze)
	}
	err := process(ctx, job.Args.delivery())
	switch {
	case err == nil, errors.Is(err, webhook.ErrDuplicate):
		return nil
	case errors.Is(err, webhook.ErrInFlight):
		return river.JobSnooze(ib.cfg.snooze)
	}
	if job.Attempt >= job.MaxAttempts && !errors.Is(ctx.Err(), context.Canceled) { // not a stop: discarded
		ib.log.LogAttrs(ctx, slog.LevelError, "riverinbox: delivery discarded after its last attempt",
			slog.String("endpoint", job.Args.Endpoint), slog.String("key", job.Args.Key),
			slog.Int64("job_id", job.ID), slog.Int("attempts", job.Attempt), slog.String("error", err.Error()))
	}
	return err
}
