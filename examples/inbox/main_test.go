package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paykit-go/paykit/internal/testenv"
)

func TestRun(t *testing.T) {
	dsn := testenv.Getenv(t, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	t.Setenv("DATABASE_URL", dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"waits 800ms for an answer",
		"payment.proof_verified delivery answered 503 after 8",
		"cut off at the deadline, JoPay will redeliver",
		"fulfilment of order A-1 interrupted after",
		"JoPay: gives up after 3 attempts",
		"order A-1 fulfilled 0 time(s)",
		"JoPay: delivered after 1 attempt(s)",
		"order A-2 fulfilled after 1.5s (fulfilment #1)",
		"3. JoPay redelivers A-2's payment.proof_verified",
		"order A-2 fulfilled 1 time(s)",
		"Discarded deliveries (failed on every attempt, retry with inbox.Retry(ctx, id)): 0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(got, "payment.proof_verified delivery answered 503"); n != 3 {
		t.Errorf("%d deliveries cut off without the inbox, want 3", n)
	}
	if n := strings.Count(got, "fulfilment #"); n != 1 {
		t.Errorf("%d fulfilments, want 1", n)
	}
	// With the inbox, every answer is fast: 200 within a fraction of the deadline.
	fast := regexp.MustCompile(`payment\.proof_verified delivery answered 200 after (\d+)ms`)
	answers := fast.FindAllStringSubmatch(got, -1)
	if len(answers) != 2 {
		t.Errorf("%d 200 answers to payment.proof_verified, want 2 (delivery and redelivery)\n%s", len(answers), got)
	}
	for _, m := range answers {
		if ms, err := strconv.Atoi(m[1]); err != nil || ms >= 400 {
			t.Errorf("an inbox answer took %sms, want well under the 800 ms deadline", m[1])
		}
	}
	// The schema is gone.
	schema := regexp.MustCompile(`schema (paykit_inbox_example_[0-9a-f]+)`).FindStringSubmatch(got)
	if schema == nil {
		t.Fatalf("no schema line in\n%s", got)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema[1]).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s left behind (%d, %v)", schema[1], n, err)
	}
}

func TestRunWithoutDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PAYKIT_TEST_POSTGRES_DSN", "")
	var out bytes.Buffer
	err := run(context.Background(), &out)
	if !errors.Is(err, errNoDatabase) || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("run without a database = %v, want the message naming DATABASE_URL", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q before failing", out.String())
	}
}
