// Package riverinbox is a durable webhook.Inbox on River (github.com/riverqueue/river), the
// PostgreSQL job queue, through its pgx v5 driver. A webhook handler given an inbox verifies
// and parses each delivery, stores it as a River job and answers 200 as soon as that insert has
// committed; River workers then run the handler function, with retries, on any replica.
// Providers that time deliveries out (JoPay waits 8 seconds) no longer see slow handlers.
//
// It lives in its own package so that only programs that use it compile River and pgx.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	inbox, err := riverinbox.New(pool, riverinbox.WithWorkers(4))
//	err = inbox.Migrate(ctx) // River's migrations; safe from every replica at startup
//	h, err := jopay.NewWebhookHandler(secret, fulfil,
//		webhook.WithInbox(inbox, "jopay"), webhook.WithDeduper(dedupe))
//	err = inbox.Start(ctx) // run workers (skip on replicas that only receive)
//	defer inbox.Stop(shutdownCtx)
//
// # What it guarantees
//
// Accepted means stored: Enqueue returns nil only after the transaction inserting the job has
// committed, so a handler answers 200 only for deliveries that are in PostgreSQL; a failed
// insert is an error, the handler answers 500 and the provider redelivers.
//
// At-least-once processing: every stored delivery is run by a worker until its process function
// returns nil, or until it has failed on MaxAttempts attempts (see Discarded deliveries). A
// delivery is never dropped because a worker stopped or died while running it:
//
//   - Stop, or cancelling the context given to Start, cancels running handlers; a handler that
//     returns the context's error gives its job back to the queue at once, without using up an
//     attempt, and another worker (or this one after a restart) runs it again.
//   - A handler that fails, times out (WithJobTimeout) or panics uses up an attempt; River
//     retries it later with its backoff (by default attempt⁴ seconds plus jitter).
//   - A process that crashes or loses its database connections mid-handler leaves the job
//     running in the table; River's leader rescues it after RescueStuckJobsAfter (one hour by
//     default, at least the job timeout; set it with WithRiverConfig) and runs it again.
//     Connections that drop are replaced by the pool; River retries recording a job's outcome.
//
// Effects once: with a webhook.Deduper the handler function's effects are committed once per
// dedupe key, however many times the job runs, as long as the function commits its effects only
// when it returns nil (a transaction, or an idempotent write keyed on the event). The Deduper's
// store must be shared by every replica that runs workers, for example webhook/sqlstore in the
// same PostgreSQL database; a webhook.MemoryStore dedupes within one process only. The process
// function may return webhook.ErrDuplicate, which completes the job (its effects were already
// committed), or webhook.ErrInFlight, which puts the job back for WithSnooze without using up an
// attempt while another worker holds the claim (for instance a crashed one, until its lease ends).
//
// Stored once per key: a delivery with a non-empty Key is inserted at most once per (endpoint,
// key) and queue while an earlier one is pending, scheduled, available, running, retryable or
// completed and still retained (River keeps completed jobs for CompletedJobRetentionPeriod, 24
// hours by default); a provider redelivery is then answered 200 without a second job. After that
// window, or once the earlier job was discarded or cancelled, a redelivery is stored again and
// the Deduper (whose retention defaults to 7 days) skips its effects.
//
// Not guaranteed: order. Deliveries run concurrently, on any replica, and a retried delivery
// runs after later ones. Handlers must not rely on seeing events in the order they happened.
//
// # Discarded deliveries
//
// A delivery whose process function failed on every one of its MaxAttempts attempts is
// discarded: its job stays in River's table, with every attempt's error, for
// DiscardedJobRetentionPeriod (7 days by default), and it is logged at Error level. Its Deduper
// claim was released when the last attempt failed, so nothing remembers it as done. ListDiscarded
// lists such deliveries and Retry runs one again (one more attempt; River raises its MaxAttempts
// by one). A provider redelivery of the same event is stored as a new job and runs too.
//
// A delivery whose endpoint has no process function registered on the replica that fetched it
// (a rolling deploy, a replica running other handlers) is not failed either: it is put back for
// WithSnooze without using up an attempt, and logged at Warn level, until a replica that knows the
// endpoint runs it.
//
// # Data stored
//
// Each job holds the endpoint name, the dedupe key, the raw body (base64 in River's JSON args),
// the request headers and the receive time. Headers include the provider's signature headers:
// the table is as sensitive as a request log. Nothing here logs bodies or headers.
//
// # Several replicas and connection pools
//
// Every replica may run New, Migrate and Start on the same database and schema: migrations are
// serialised with a PostgreSQL advisory lock, one River client is elected leader and runs the
// maintenance (scheduling retries, rescuing stuck jobs, deleting old jobs), and every started
// client fetches jobs with FOR UPDATE SKIP LOCKED, so each job runs on one worker at a time.
// Replicas that only receive webhooks call New and Enqueue, never Start.
//
// River holds one connection of the pool for LISTEN/NOTIFY and briefly takes a few more to fetch
// jobs, record outcomes and run maintenance; each Enqueue takes one for its insert. Give the
// pgxpool at least workers + expected concurrent webhook requests + 5 connections (MaxConns), plus
// what the handler functions use from the same pool. Each fetch takes at most as many jobs as
// the replica has idle workers and fetches run at most every FetchCooldown (100 ms by default):
// a replica with few workers and fast handlers processes about workers × 10 deliveries a second
// unless that is lowered with WithRiverConfig.
//
// OpenTelemetry and other River hooks or middleware (for example River's otelriver package)
// are installed with WithRiverConfig.
package riverinbox
