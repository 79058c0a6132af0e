package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	dsn := testenv.Getenv(t, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	t.Setenv("DATABASE_URL", dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
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
		assert.Contains(t, got, want, "output lacks")
	}
	assert.Equal(t, 3, strings.Count(got, "payment.proof_verified delivery answered 503"), "deliveries cut off without the inbox")
	assert.Equal(t, 1, strings.Count(got, "fulfilment #"), "fulfilments")
	// With the inbox, every answer is fast: 200 within a fraction of the deadline.
	fast := regexp.MustCompile(`payment\.proof_verified delivery answered 200 after (\d+)ms`)
	answers := fast.FindAllStringSubmatch(got, -1)
	assert.Len(t, answers, 2, "200 answers to payment.proof_verified, want the delivery and the redelivery:\n%s", got)
	for _, m := range answers {
		ms, err := strconv.Atoi(m[1])
		if assert.NoError(t, err, m[1]) {
			assert.Less(t, ms, 400, "an inbox answer took %sms, want well under the 800 ms deadline", m[1])
		}
	}
	// The schema is gone.
	schema := regexp.MustCompile(`schema (paykit_inbox_example_[0-9a-f]+)`).FindStringSubmatch(got)
	require.NotNil(t, schema, "no schema line in\n%s", got)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var n int
	assert.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema[1]).Scan(&n))
	assert.Zero(t, n, "schema %s left behind", schema[1])
}

func TestRunWithoutDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PAYKIT_TEST_POSTGRES_DSN", "")
	var out bytes.Buffer
	err := run(context.Background(), &out)
	if assert.ErrorIs(t, err, errNoDatabase, "run without a database") {
		assert.Contains(t, err.Error(), "DATABASE_URL", "run without a database: want the message naming DATABASE_URL")
	}
	assert.Empty(t, out.String(), "printed %q before failing", out.String())
}
