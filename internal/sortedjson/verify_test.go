package sortedjson_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/sortedjson"
	"github.com/paykit-go/paykit/internal/testenv"
	. "github.com/paykit-go/paykit/webhook"
)

// Adversarial bodies through webhook's verifier: the body is canonicalized in every form
// before a signature can be refused, so Verify must stay linear in the body (the cases are
// built in adversarial_test.go).

const benchSecret = "ipn-secret-4f1c"

var (
	advWrongSig      = sortedjson.AdvWrongSig
	formBytes        = sortedjson.FormBytes
	maxFormExpansion = sortedjson.MaxFormExpansion
	timeMin          = sortedjson.TimeMin
	raceEnabled      = sortedjson.RaceEnabled
	adversarialCases = sortedjson.AdversarialCases
)

func mustVerifier(t testing.TB, secret string, opts ...Option) *SortedJSONVerifier {
	t.Helper()
	v, err := NewSortedJSONVerifier(secret, opts...)
	require.NoError(t, err)
	return v
}

// TestPHPSortBudgetVerify: Verify refuses the antiquicksort body of TestPHPSortBudget as a
// payload rather than reporting a mismatch (the signature might be a PHP one), but still
// accepts a signature of another form.
func TestPHPSortBudgetVerify(t *testing.T) {
	const n = 4096
	body := sortedjson.KillerBody(n)
	v := mustVerifier(t, "k")
	assert.ErrorIs(t, v.Verify(body, advWrongSig), ErrInvalidPayload, "Verify with a wrong signature, want ErrInvalidPayload")
	sig, err := SignSortedJSON("k", body)
	require.NoError(t, err)
	assert.NoError(t, v.Verify(body, sig), "Verify with the Node signature")
	_, err = SignSortedJSONForm("k", body, FormPHP)
	assert.ErrorIs(t, err, ErrInvalidPayload, "SignSortedJSONForm PHP, want ErrInvalidPayload")
}

// TestSortedJSONAdversarialCost rejects each adversarial body and its benign twin with a
// signature that matches nothing, and checks that the adversarial body costs at most 8 times
// as much, times how much longer its canonical forms are than the twin's (Verify must write
// and hash them all, so its cost is linear in the body plus its forms, and the forms of a
// top-level string or an array are several times longer than the body). Wall time, the least
// of several interleaved runs (testenv.BoundedRatio). Before the fixes the worst bodies took 70 to 200
// times as long as their twins (seconds for 1 MiB); now the key orders (no expansion) cost at
// most about 3 times as much, and the expanding bodies about 5.
func TestSortedJSONAdversarialCost(t *testing.T) {
	if raceEnabled {
		t.Skip("timings under the race detector mean nothing")
	}
	if testing.Short() {
		t.Skip("times 1 MiB bodies")
	}
	const rounds, runs, limit = 3, 4, 8.0
	v := mustVerifier(t, benchSecret)
	for _, c := range adversarialCases() {
		t.Run(c.Name, func(t *testing.T) {
			want := ErrSignatureMismatch
			if c.Refused {
				want = ErrInvalidPayload
			}
			require.ErrorIs(t, v.Verify(c.Adv, advWrongSig), want, "adversarial body")
			require.ErrorIs(t, v.Verify(c.Benign, advWrongSig), ErrSignatureMismatch, "benign body, want ErrSignatureMismatch")
			expansion := max(1, float64(formBytes(c.Adv))/float64(formBytes(c.Benign)))
			require.LessOrEqual(t, formBytes(c.Adv), maxFormExpansion*len(c.Adv), "canonical forms too large for a %d-byte body", len(c.Adv))
			ratio, adv, benign := testenv.BoundedRatio(rounds, runs, limit*expansion,
				func() { _ = v.Verify(c.Adv, advWrongSig) }, func() { _ = v.Verify(c.Benign, advWrongSig) })
			t.Logf("%d bytes: %v, benign twin %v: %.2fx (forms %.1fx as long)", len(c.Adv), adv, benign, ratio, expansion)
			if ratio > limit*expansion {
				t.Errorf("rejecting the adversarial body took %.1f times as long as its benign twin (limit %v times the forms' expansion %.1f)",
					ratio, limit, expansion)
			}
		})
	}
}

// BenchmarkSortedJSONAdversarial reports, for each adversarial body of 1 MiB, how much longer
// rejecting it takes than rejecting its benign twin: Verify with a signature that matches
// nothing (verify-ratio; Verify then canonicalizes the body in all three forms), and
// Canonical in the form the body targets (<form>-ratio). Each iteration times the
// four interleaved; the ratios are of the shortest times, which load on the machine inflates
// least. The "worst" sub-benchmark reports the largest ratios per targeted form. Target: each
// ratio ≤ 8× its body's output expansion (the bound TestSortedJSONAdversarialCost enforces);
// key-order attacks stay near 3×, as the README says.
func BenchmarkSortedJSONAdversarial(b *testing.B) {
	v, err := NewSortedJSONVerifier(benchSecret)
	require.NoError(b, err)
	reject := func(body []byte) func() {
		return func() {
			if err := v.Verify(body, advWrongSig); err == nil {
				b.Fatal("the wrong signature verified")
			}
		}
	}
	canon := func(body []byte, f sortedjson.Form) func() {
		return func() { _, _ = sortedjson.Canonical(body, f) }
	}
	worstVerify, worstForm := map[sortedjson.Form]float64{}, map[sortedjson.Form]float64{}
	for _, c := range adversarialCases() {
		b.Run(c.Name, func(b *testing.B) {
			inf := time.Duration(1<<63 - 1)
			tv, tvb, tf, tfb := inf, inf, inf, inf
			for b.Loop() {
				tv = min(tv, timeMin(1, reject(c.Adv)))
				tvb = min(tvb, timeMin(1, reject(c.Benign)))
				tf = min(tf, timeMin(1, canon(c.Adv, c.Form)))
				tfb = min(tfb, timeMin(1, canon(c.Benign, c.Form)))
			}
			rv, rf := float64(tv)/float64(tvb), float64(tf)/float64(tfb)
			b.ReportMetric(rv, "verify-ratio")
			b.ReportMetric(rf, c.Form.String()+"-ratio")
			b.ReportMetric(float64(tv)/1e6, "adv-verify-ms")
			b.ReportMetric(float64(tvb)/1e6, "benign-verify-ms")
			worstVerify[c.Form] = max(worstVerify[c.Form], rv)
			worstForm[c.Form] = max(worstForm[c.Form], rf)
		})
	}
	b.Run("worst", func(b *testing.B) {
		for b.Loop() {
		}
		for _, f := range []sortedjson.Form{sortedjson.FormNode, sortedjson.FormPHP, sortedjson.FormPython} {
			b.ReportMetric(worstVerify[f], f.String()+"-verify-ratio")
			b.ReportMetric(worstForm[f], f.String()+"-form-ratio")
		}
	})
}
