package sortedjson

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAppendDigitsValue checks the eight-digits-at-a-time conversion against the digit-by-digit
// loop, for every length up to 24 digits (beyond 19 both wrap modulo 2^64).
func TestAppendDigitsValue(t *testing.T) {
	loop := func(v uint64, d []byte) uint64 {
		for _, c := range d {
			v = v*10 + uint64(c-'0')
		}
		return v
	}
	r := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 24; n++ {
		for range 2000 {
			d := make([]byte, n)
			for i := range d {
				d[i] = '0' + byte(r.IntN(10))
				if r.IntN(8) == 0 {
					d[i] = "09"[r.IntN(2)]
				}
			}
			v := r.Uint64() >> r.IntN(64)
			assert.Equal(t, loop(v, d), appendDigitsValue(v, d), "v=%d d=%s", v, d)
			assert.Equal(t, loop(loop(0, d[:n/3]), d[n/3:]), digitsValue(d[:n/3], d[n/3:]), "d=%s", d)
		}
	}
	assert.Equal(t, uint64(9853637216235617), digitsValue(nil, []byte("09853637216235617")))
	assert.Equal(t, uint64(12345678901234567), digitsValue([]byte("123456789"), []byte("01234567")))
}

// TestPow5Table checks the table against repeated multiplication.
func TestPow5Table(t *testing.T) {
	want := uint64(1)
	for p := 0; p <= 27; p++ {
		assert.Equal(t, want, pow5Table(p), "5^%d", p)
		want *= 5
	}
}
