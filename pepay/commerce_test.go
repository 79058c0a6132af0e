package pepay_test

import (
	"bytes"
	"context"
	"github.com/paykit-go/paykit"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

const testCommerceKey = "ck_test_commerce_key_that_must_never_leak"

func TestNewCommerceClient(t *testing.T) {
	for _, key := range []string{"", " ", "ck_a b"} {
		_, err := pepay.NewCommerceClient(key)
		assert.Error(t, err, "key %q accepted", key)
	}
	_, err := pepay.NewCommerceClient(testCommerceKey, pepay.WithBaseURL("ftp://x"))
	require.Error(t, err, "bad option: %v", err)
	assert.NotContains(t, err.Error(), testCommerceKey, "bad option: %v", err)
}

func TestCommerceClient_NewWSToken(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := pepay.NewCommerceClient(testCommerceKey, pepay.WithBaseURL(srv.URL))
	require.NoError(t, err)
	mux.HandleFunc("/api/v1/ws/token", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodPost)
		apitest.Header(t, r, "x-commerce-api-key", testCommerceKey)
		assert.Empty(t, r.Header.Get("x-api-key"), "commerce mint carried merchant credentials")
		assert.Empty(t, r.Header.Get("Authorization"), "commerce mint carried merchant credentials")
		apitest.JSONBody(t, r, []byte(`{"scope":"commerce","ttl_seconds":30}`))
		w.Write([]byte(`{"success":true,"data":{"token":"ws_commerce_tok","scope":"commerce","merchant_id":"4242","expires_at":1767225660,"ws_url":"wss://api-beta.pepay.io/ws/commerce/events"}}`))
	})
	tok, err := c.NewWSToken(context.Background(), 30*time.Second)
	require.NoError(t, err)
	want := &pepay.WSToken{Token: "ws_commerce_tok", Scope: pepay.ScopeCommerce, MerchantID: "4242",
		ExpiresAt: time.Unix(1767225660, 0).UTC(), WSURL: "wss://api-beta.pepay.io/ws/commerce/events"}
	assert.Empty(t, cmp.Diff(want, tok), "token (-want +got)")
}

// commerceStream runs CommerceClient.Stream in the background; stop cancels it.
func commerceStream(t *testing.T, c *pepay.CommerceClient, p pepay.CommerceStreamParams, fn func(context.Context, *pepay.Event) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Stream(ctx, p, fn) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Stream did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// Filters and the commerce key reach the upgrade; only matching commerce.order.* events arrive,
// with the order passed through as raw JSON; the merchant stream never sees them.
func TestCommerceStream_filtersAndHeaders(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	cc, err := srv.NewCommerceClient()
	require.NoError(t, err)
	mc, _ := srv.NewClient()
	merchantRec := newRecorder()
	stopMerchant := startStream(t, mc, fast(pepay.StreamParams{}), merchantRec.handle)
	rec := newRecorder()
	var mu sync.Mutex
	var objects []string
	stop := commerceStream(t, cc, pepay.CommerceStreamParams{
		Types: []string{"commerce.order.*"}, CustomerID: "cus_1", WalletAddress: "0xabc", WalletNetwork: "base",
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}, func(ctx context.Context, e *pepay.Event) error {
		mu.Lock()
		objects = append(objects, string(e.Type)+" "+e.ObjectType())
		mu.Unlock()
		return rec.handle(ctx, e)
	})
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 2 })
	mine, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{CustomerID: "cus_1", WalletAddress: "0xabc", WalletNetwork: "base"})
	_, _ = srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{CustomerID: "cus_2", WalletAddress: "0xabc", WalletNetwork: "base"})
	_, err = srv.UpdateCommerceOrder(ctx, mine, "paid")
	require.NoError(t, err)
	marker, _ := srv.Ping(ctx) // reaches the merchant stream, not the commerce one
	// Each stream's last event is logged after everything it must not see: once both have
	// arrived, anything let through by mistake would have arrived before them.
	_, _ = srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{CustomerID: "cus_1", WalletAddress: "0xabc", WalletNetwork: "base"})
	lastPing, _ := srv.Ping(ctx)
	waitFor(t, 5*time.Second, "events", func() bool { return rec.count() == 3 && merchantRec.count() == 2 })
	stop()
	stopMerchant()
	assert.Empty(t, cmp.Diff([]string{marker, lastPing}, merchantRec.ids), "merchant stream (-want +got)")
	assert.Empty(t, cmp.Diff([]string{"commerce.order.created commerce_order", "commerce.order.updated commerce_order", "commerce.order.created commerce_order"}, objects), "events (-want +got)")
	var upgrade *pepaytest.Call
	for _, r := range srv.Calls() {
		if r.Path == pepay.CommerceStreamPath {
			upgrade = &r
		}
	}
	require.NotNil(t, upgrade, "no upgrade")
	assert.Equal(t, srv.CommerceKey, upgrade.Header.Get("x-commerce-api-key"), "upgrade auth headers: %v", upgrade.Header)
	assert.Empty(t, upgrade.Header.Get("x-api-key"), "upgrade auth headers: %v", upgrade.Header)
	assert.Empty(t, upgrade.Query.Get("token"), "upgrade auth headers: %v", upgrade.Header)
	gotQ := map[string]string{}
	for k := range upgrade.Query {
		gotQ[k] = upgrade.Query.Get(k)
	}
	wantQ := map[string]string{"format": "event_v1", "types": "commerce.order.*", "customer_id": "cus_1", "wallet_address": "0xabc", "wallet_network": "base"}
	assert.Empty(t, cmp.Diff(wantQ, gotQ), "query (-want +got)")
}

// Connections cut every 3 frames, each resume sending the 2 events before since again: the
// stream resumes with since and every order event arrives once, in order.
func TestCommerceStream_reconnectsEachEventOnce(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	cc, _ := srv.NewCommerceClient()
	srv.DropStreamEvery(3)
	srv.ResendOnResume(2)
	rec := newRecorder()
	stop := commerceStream(t, cc, pepay.CommerceStreamParams{OnStatus: rec.status, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	for i := range 20 {
		id, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{InvoiceID: "inv_" + string(rune('a'+i))})
		_, _ = srv.UpdateCommerceOrder(ctx, id, "paid")
	}
	waitFor(t, 10*time.Second, "40 events", func() bool { return rec.count() >= 40 })
	stop()
	st := srv.StreamStats()
	assert.GreaterOrEqual(t, st.Resent, 20, "server resent %d frames, want at least 20", st.Resent)
	var want []string
	for _, e := range srv.EventLog() {
		want = append(want, e.ID)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, cmp.Diff(want, rec.ids), "events (-want +got)")
	assert.GreaterOrEqual(t, srv.StreamStats().Drops, 10, "drops")
	sinces := 0
	for _, r := range srv.Calls() {
		if r.Path == pepay.CommerceStreamPath && r.Query.Get("since") != "" {
			sinces++
		}
	}
	assert.GreaterOrEqual(t, sinces, 10, "resumes with since")
}

// A resume Pepay cannot replay is a StreamGap without an events client, and is backfilled
// through the merchant events API with one.
func TestCommerceStream_gapAndBackfill(t *testing.T) {
	ctx := context.Background()
	for _, withEvents := range []bool{false, true} {
		srv := pepaytest.NewServer()
		cc, _ := srv.NewCommerceClient()
		params := pepay.CommerceStreamParams{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
		if withEvents {
			params.EventsClient, _ = srv.NewClient()
		}
		rec := newRecorder()
		params.OnStatus = rec.status
		stop := commerceStream(t, cc, params, rec.handle)
		waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
		first, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{})
		waitFor(t, 5*time.Second, "first event", func() bool { return rec.count() == 1 })
		srv.SetStreamsSilent(true) // hold the reconnect off while events pile up
		srv.DropStreams()
		waitFor(t, 5*time.Second, "silent reconnect", func() bool { return srv.OpenStreams() == 1 })
		_, _ = srv.UpdateCommerceOrder(ctx, first, "paid")
		srv.RefuseResumes(1)
		srv.SetStreamsSilent(false)
		srv.DropStreams()
		second, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{})
		_ = second
		if withEvents {
			waitFor(t, 5*time.Second, "all events", func() bool { return rec.count() == 3 })
			b := rec.states(pepay.StreamBackfilled)
			require.Len(t, b, 1, "backfill reports %+v", b)
			assert.GreaterOrEqual(t, b[0].Backfilled, 1, "backfill reports %+v", b)
		} else {
			waitFor(t, 5*time.Second, "gap", func() bool { return len(rec.states(pepay.StreamGap)) == 1 })
			g := rec.states(pepay.StreamGap)[0]
			assert.ErrorIs(t, g.Err, pepay.ErrStreamGap, "gap err")
		}
		stop()
		srv.Close()
		rec.mu.Lock()
		for id, n := range rec.byID {
			assert.Equal(t, 1, n, "withEvents=%v: %s handled %d times", withEvents, id, n)
		}
		rec.mu.Unlock()
	}
}

// With UseToken every connection mints a commerce-scope token; neither the key nor a token is
// logged. A merchant-scope token is refused on the commerce stream.
func TestCommerceStream_useTokenAndScope(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cc, _ := srv.NewCommerceClient(pepay.WithLogger(logger))
	rec := newRecorder()
	stop := commerceStream(t, cc, pepay.CommerceStreamParams{UseToken: true, OnStatus: rec.status, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, rec.handle)
	waitFor(t, 5*time.Second, "connect", func() bool { return srv.OpenStreams() == 1 })
	srv.DropStreams()
	waitFor(t, 5*time.Second, "reconnect", func() bool { return len(rec.states(pepay.StreamConnected)) == 2 })
	_, _ = srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{})
	waitFor(t, 5*time.Second, "event", func() bool { return rec.count() == 1 })
	stop()
	var tokens []string
	for _, r := range srv.Calls() {
		switch r.Path {
		case "/api/v1/ws/token":
			testJSONBodyBytes(t, r.Body, []byte(`{"scope":"commerce","ttl_seconds":60}`))
			assert.Equal(t, srv.CommerceKey, r.Header.Get("x-commerce-api-key"), "mint not authenticated by the commerce key alone")
			assert.Empty(t, r.Header.Get("x-api-key"), "mint not authenticated by the commerce key alone")
		case pepay.CommerceStreamPath:
			assert.Empty(t, r.Header.Get("x-commerce-api-key"), "upgrade sent the commerce key with UseToken")
			tokens = append(tokens, r.Query.Get("token"))
		}
	}
	require.Len(t, tokens, 2, "tokens %q", tokens)
	assert.NotEmpty(t, tokens[0], "tokens %q", tokens)
	assert.NotEqual(t, tokens[1], tokens[0], "tokens %q", tokens)
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	for _, secret := range append(tokens, srv.CommerceKey) {
		assert.NotContains(t, out, secret, "log leaks")
	}

	// A merchant token on the commerce stream: SCOPE_MISMATCH, terminal. A merchant key cannot
	// mint commerce tokens.
	mc, _ := srv.NewClient()
	mtok, err := mc.NewWSToken(context.Background(), pepay.ScopeMerchant, time.Minute)
	require.NoError(t, err)
	_, err = mc.NewWSToken(context.Background(), pepay.ScopeCommerce, time.Minute)
	assert.Error(t, err, "merchant key minted a commerce token")
	p, _ := pepay.NewPayorClient(pepay.PaymentSessionHeaders{SessionToken: "pst_x", Signature: "sig_x"}, pepay.WithBaseURL(srv.BaseURL))
	err = p.Stream(context.Background(), pepay.WSConnection{Token: mtok.Token, WSURL: srv.URL + pepay.CommerceStreamPath}, fastPayor(), rec.handle)
	var serr *pepay.StreamError
	require.ErrorAs(t, err, &serr, "merchant token on the commerce stream: %v", err)
	assert.Equal(t, "SCOPE_MISMATCH", serr.Code, "merchant token on the commerce stream: %v", err)
	assert.True(t, serr.Terminal(), "merchant token on the commerce stream: %v", err)
}

func TestCommerceStream_invalidParams(t *testing.T) {
	cc, _ := pepay.NewCommerceClient(testCommerceKey, pepay.WithBaseURL("http://127.0.0.1:1"))
	h := func(context.Context, *pepay.Event) error { return nil }
	for name, p := range map[string]pepay.CommerceStreamParams{
		"types":   {Types: []string{"a,b"}},
		"backoff": {MinBackoff: -1},
	} {
		assert.ErrorAs(t, cc.Stream(context.Background(), p, h), new(*paykit.ValidationError), "%s", name)
	}
	assert.Error(t, cc.Stream(context.Background(), pepay.CommerceStreamParams{}, nil), "nil handler accepted")
}
