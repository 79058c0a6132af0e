package sortedjson

import "strconv"

// Exports for the tests in package sortedjson_test, which check the canonical forms through
// webhook's verifier and signers (package sortedjson cannot import webhook).

// DocGen generates JSON documents for the differential tests.
type DocGen struct {
	g   *jsonGen
	ipn bool
}

// NewDocGen returns a generator of random documents seeded with seed.
func NewDocGen(seed uint64) *DocGen { return &DocGen{g: newJSONGen(seed)} }

// NewIPNDocGen returns a generator of IPN-shaped documents seeded with seed, mostly inside
// the subset of the one-pass Node fast path.
func NewIPNDocGen(seed uint64) *DocGen { return &DocGen{g: newJSONGen(seed), ipn: true} }

// Doc returns the next document.
func (d *DocGen) Doc() []byte {
	if d.ipn {
		return ipnGen{d.g, false}.doc()
	}
	return d.g.doc()
}

// KeyStressDoc returns the next document built to stress key ordering.
func (d *DocGen) KeyStressDoc() []byte { return d.g.keyStressDoc() }

// AdvCase is an adversarial body and its benign twin (advCase).
type AdvCase struct {
	Name        string
	Form        Form
	Adv, Benign []byte
	Refused     bool
}

// AdversarialCases returns adversarialCases().
func AdversarialCases() []AdvCase {
	var cs []AdvCase
	for _, c := range adversarialCases() {
		cs = append(cs, AdvCase{Name: c.name, Form: c.form, Adv: c.adv, Benign: c.benign, Refused: c.refused})
	}
	return cs
}

// KillerBody is the object of n keys 0..n-2 and "z" in the antiquicksort order of the
// unbounded zend_sort port, which the PHP comparison budget refuses.
func KillerBody(n int) []byte {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	keys[n-1] = "z"
	return objectOf(permuted(keys, zendKiller(n)), "1")
}

// The adversarial-cost helpers of adversarial_test.go, for verify_test.go.
var (
	FormBytes        = formBytes
	MaxFormExpansion = maxFormExpansion
	TimeMin          = timeMin
	AdvWrongSig      = advWrongSig
	RaceEnabled      = raceEnabled
)
