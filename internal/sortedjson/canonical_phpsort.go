package sortedjson

import (
	"bytes"
	"math"
	"strconv"
)

// PHP's ksort(), reproduced exactly (PHP 8.2+, 64-bit). Keys compare with PHP 8 rules: two int
// keys by value; two string keys with zendi_smart_strcmp (numerically when both are numeric
// strings, else memcmp); an int and a string numerically when the string is numeric, else as
// strings. Those rules are not transitive (2 < "1e1" < "1f" < 2), so the result depends on the
// algorithm: zend_sort (insertion sort up to 16 elements, else a quicksort) with PHP's stable
// fallback on the original position. Porting both keeps the PHP form byte-exact for any keys.

const (
	phpNotNumeric uint8 = iota
	phpLong
	phpDouble
)

// phpKey is one member of an object being sorted the PHP way.
type phpKey struct {
	key   []byte // decoded key text
	isInt bool   // json_decode turned the key into an int key
	ival  int64
	typ   uint8 // is_numeric_string() of a string key
	lval  int64
	dval  float64
	oflow int
	ord   int32 // position in the document: the stable-sort fallback
	node  int32 // key node; its value node follows it
}

func newPHPKey(key []byte, ord, node int32) phpKey {
	k := phpKey{key: key, ord: ord, node: node}
	if v, ok := phpIntKey(key); ok {
		k.isInt, k.ival = true, v
		return k
	}
	k.typ, k.lval, k.dval, k.oflow = phpNumeric(key)
	return k
}

// phpIntKey mirrors ZEND_HANDLE_NUMERIC_STR: a decimal integer without leading zeros (and
// not "-0") that fits a zend_long becomes an int key.
func phpIntKey(k []byte) (int64, bool) {
	if len(k) == 0 || k[0] > '9' {
		return 0, false
	}
	t := 0
	if k[0] < '0' {
		if k[0] != '-' || len(k) < 2 || k[1] < '0' || k[1] > '9' {
			return 0, false
		}
		t = 1
	}
	if (k[t] == '0' && len(k) > 1) || len(k)-t > 19 {
		return 0, false
	}
	idx := uint64(k[t] - '0')
	for _, c := range k[t+1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		idx = idx*10 + uint64(c-'0')
	}
	if k[0] == '-' {
		if idx-1 > math.MaxInt64 {
			return 0, false
		}
		return int64(-idx), true
	}
	if idx > math.MaxInt64 {
		return 0, false
	}
	return int64(idx), true
}

func isPHPSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// phpNumeric mirrors _is_numeric_string_ex(str, len, &lval, &dval, allow_errors=false,
// &oflow, NULL): optional leading and trailing whitespace, a sign, digits, '.', exponent.
func phpNumeric(s []byte) (typ uint8, lval int64, dval float64, oflow int) {
	if len(s) == 0 || s[0] > '9' {
		return phpNotNumeric, 0, 0, 0
	}
	at := func(i int) byte { // C strings end in NUL
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	str := 0
	for str < len(s) && isPHPSpace(s[str]) {
		str++
	}
	ptr := str
	neg := false
	switch at(ptr) {
	case '-':
		neg = true
		ptr++
	case '+':
		ptr++
	}
	digits := 0
	var tmp uint64
	double := false
	if isDigit(at(ptr)) {
		for at(ptr) == '0' {
			ptr++
		}
	loop:
		for ; digits < 20; digits, ptr = digits+1, ptr+1 {
			c := at(ptr)
			switch {
			case isDigit(c):
				tmp = tmp*10 + uint64(c-'0')
				continue
			case c == '.':
				double = true
				break loop
			case c == 'e' || c == 'E':
				e := ptr + 1
				if at(e) == '-' || at(e) == '+' {
					ptr = e
					e++
				}
				if isDigit(at(e)) {
					double = true
				}
				break loop
			}
			break
		}
		if !double && digits >= 20 {
			if neg {
				oflow = -1
			} else {
				oflow = 1
			}
			double = true
		}
	} else if at(ptr) == '.' && isDigit(at(ptr+1)) {
		double = true
	} else {
		return phpNotNumeric, 0, 0, 0
	}
	if double {
		dval, ptr = phpStrtod(s, str)
	}
	for end := ptr; end < len(s); end++ {
		if !isPHPSpace(s[end]) {
			return phpNotNumeric, 0, 0, 0
		}
	}
	if double {
		return phpDouble, 0, dval, oflow
	}
	if digits == 19 {
		c := bytes.Compare(s[ptr-digits:], []byte("9223372036854775808"))
		if !(c < 0 || (c == 0 && neg)) {
			dval, _ = phpStrtod(s, str)
			if neg {
				oflow = -1
			} else {
				oflow = 1
			}
			return phpDouble, 0, dval, oflow
		}
	}
	if neg {
		tmp = -tmp
	}
	return phpLong, int64(tmp), 0, 0
}

// phpStrtod mirrors zend_strtod(s+start, &end): the longest prefix of the form
// [sign] digits [. digits] [e [sign] digits], correctly rounded.
func phpStrtod(s []byte, start int) (float64, int) {
	j := start
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		e := j + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e < len(s) && isDigit(s[e]) {
			for e < len(s) && isDigit(s[e]) {
				e++
			}
			j = e
		}
	}
	f, _ := strconv.ParseFloat(string(s[start:j]), 64) // ±Inf on overflow, like strtod
	return f, j
}

func normalizeFloat(d float64) int {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	return 1 // ZEND_NORMALIZE_BOOL treats NaN as true and not negative
}

func normalizeInt(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// smartStrcmp mirrors zendi_smart_strcmp for two string keys.
func smartStrcmp(a, b *phpKey) int {
	if a.typ != phpNotNumeric && b.typ != phpNotNumeric {
		if a.oflow != 0 && a.oflow == b.oflow && a.dval-b.dval == 0 {
			// Both overflowed to the same side: the double comparison lost precision.
			return normalizeInt(bytes.Compare(a.key, b.key))
		}
		if a.typ == phpDouble || b.typ == phpDouble {
			d1, d2 := a.dval, b.dval
			switch {
			case a.typ != phpDouble:
				if b.oflow != 0 {
					return -b.oflow
				}
				d1 = float64(a.lval)
			case b.typ != phpDouble:
				if a.oflow != 0 {
					return a.oflow
				}
				d2 = float64(b.lval)
			case d1 == d2 && math.IsInf(d1, 0):
				return normalizeInt(bytes.Compare(a.key, b.key))
			}
			return normalizeFloat(d1 - d2)
		}
		switch {
		case a.lval > b.lval:
			return 1
		case a.lval < b.lval:
			return -1
		}
		return 0
	}
	return normalizeInt(bytes.Compare(a.key, b.key))
}

// compareLongToString mirrors compare_longs_to_string (zend_compare of an int and a string)
// for the int key li and the string key s. PHP compares a non-numeric s with the int's
// decimal text, which is li's own key text (phpIntKey accepts only the canonical form).
func compareLongToString(li, s *phpKey) int {
	l := li.ival
	switch s.typ {
	case phpLong:
		switch {
		case l > s.lval:
			return 1
		case l < s.lval:
			return -1
		}
		return 0
	case phpDouble:
		return normalizeFloat(float64(l) - s.dval)
	}
	return normalizeInt(bytes.Compare(li.key, s.key))
}

// phpKeyCompare mirrors php_array_key_compare (ksort's SORT_REGULAR comparator), including
// the stable fallback on the original position.
func phpKeyCompare(a, b *phpKey) int {
	var r int
	switch {
	case a.isInt && b.isInt:
		if a.ival > b.ival {
			return 1
		}
		return -1
	case !a.isInt && !b.isInt:
		r = smartStrcmp(a, b)
	case a.isInt:
		r = compareLongToString(a, b)
	default:
		r = -compareLongToString(b, a)
	}
	if r != 0 {
		return r
	}
	switch {
	case a.ord > b.ord:
		return 1
	case a.ord < b.ord:
		return -1
	}
	return 0
}

// zendOps is what the zend_sort port needs of the sequence it sorts: compare and swap by
// index (standing in for the C pointers), and whether it has run out of comparisons. The
// port is generic so that a test can run the very same algorithm against McIlroy's
// "antiquicksort" adversary, which answers comparisons as it goes.
type zendOps interface {
	// cmp returns > 0 when the element at i sorts after the one at j.
	cmp(i, j int) int
	swp(i, j int)
	// spent reports that the comparison budget is exhausted: the sort then returns at once
	// and its result is meaningless.
	spent() bool
}

// zendSorter sorts PHP keys with a comparison budget.
type zendSorter struct {
	keys []phpKey
	left int // comparisons still allowed; negative once the budget is exceeded
}

func (s *zendSorter) cmp(i, j int) int {
	if s.left--; s.left < 0 {
		return 0 // over budget: any answer will do, the sort is abandoned
	}
	return phpKeyCompare(&s.keys[i], &s.keys[j])
}

func (s *zendSorter) swp(i, j int) { s.keys[i], s.keys[j] = s.keys[j], s.keys[i] }
func (s *zendSorter) spent() bool  { return s.left < 0 }

// zendSort sorts keys as ksort() does, unless that takes more than budget comparisons. It
// returns the comparisons left, negative when the budget ran out (keys are then in some
// unspecified order).
func zendSort(keys []phpKey, budget int) int {
	s := zendSorter{keys: keys, left: budget}
	zsort(&s, 0, len(keys))
	return s.left
}

func zsort2[S zendOps](s S, a, b int) {
	if s.cmp(a, b) > 0 {
		s.swp(a, b)
	}
}

func zsort3[S zendOps](s S, a, b, c int) {
	if !(s.cmp(a, b) > 0) {
		if !(s.cmp(b, c) > 0) {
			return
		}
		s.swp(b, c)
		if s.cmp(a, b) > 0 {
			s.swp(a, b)
		}
		return
	}
	if !(s.cmp(c, b) > 0) {
		s.swp(a, c)
		return
	}
	s.swp(a, b)
	if s.cmp(b, c) > 0 {
		s.swp(b, c)
	}
}

func zsort4[S zendOps](s S, a, b, c, d int) {
	zsort3(s, a, b, c)
	if s.cmp(c, d) > 0 {
		s.swp(c, d)
		if s.cmp(b, c) > 0 {
			s.swp(b, c)
			if s.cmp(a, b) > 0 {
				s.swp(a, b)
			}
		}
	}
}

func zsort5[S zendOps](s S, a, b, c, d, e int) {
	zsort4(s, a, b, c, d)
	if s.cmp(d, e) > 0 {
		s.swp(d, e)
		if s.cmp(c, d) > 0 {
			s.swp(c, d)
			if s.cmp(b, c) > 0 {
				s.swp(b, c)
				if s.cmp(a, b) > 0 {
					s.swp(a, b)
				}
			}
		}
	}
}

// zinsertSort is zend_insert_sort. It only ever sorts up to 16 elements (zsort hands it
// nothing longer), so its element moves are bounded too.
func zinsertSort[S zendOps](s S, base, nmemb int) {
	switch nmemb {
	case 0, 1:
		return
	case 2:
		zsort2(s, base, base+1)
		return
	case 3:
		zsort3(s, base, base+1, base+2)
		return
	case 4:
		zsort4(s, base, base+1, base+2, base+3)
		return
	case 5:
		zsort5(s, base, base+1, base+2, base+3, base+4)
		return
	}
	start, end := base, base+nmemb
	sentry := start + 6
	for i := start + 1; i < sentry; i++ {
		j := i - 1
		if !(s.cmp(j, i) > 0) {
			continue
		}
		for j != start {
			j--
			if !(s.cmp(j, i) > 0) {
				j++
				break
			}
		}
		for k := i; k > j; k-- {
			s.swp(k, k-1)
		}
	}
	for i := sentry; i < end; i++ {
		j := i - 1
		if !(s.cmp(j, i) > 0) {
			continue
		}
		for {
			j -= 2
			if !(s.cmp(j, i) > 0) {
				j++
				if !(s.cmp(j, i) > 0) {
					j++
				}
				break
			}
			if j == start {
				break
			}
			if j == start+1 {
				j--
				if s.cmp(i, j) > 0 {
					j++
				}
				break
			}
		}
		for k := i; k > j; k-- {
			s.swp(k, k-1)
		}
	}
}

// zsort is zend_sort (derived from libc++'s std::sort). Without a budget its quicksort has
// no worst-case guard: an adversarial key order makes it quadratic.
func zsort[S zendOps](s S, base, nmemb int) {
	for !s.spent() {
		if nmemb <= 16 {
			zinsertSort(s, base, nmemb)
			return
		}
		start, end := base, base+nmemb
		offset := nmemb >> 1
		pivot := start + offset
		if nmemb>>10 != 0 {
			delta := offset >> 1
			zsort5(s, start, start+delta, pivot, pivot+delta, end-1)
		} else {
			zsort3(s, start, pivot, end-1)
		}
		s.swp(start+1, pivot)
		pivot = start + 1
		i, j := pivot+1, end-1
	partition:
		for {
			for s.cmp(pivot, i) > 0 {
				i++
				if i == j {
					break partition
				}
			}
			j--
			if j == i {
				break partition
			}
			for s.cmp(j, pivot) > 0 {
				j--
				if j == i {
					break partition
				}
			}
			s.swp(i, j)
			i++
			if i == j {
				break partition
			}
		}
		s.swp(pivot, i-1)
		if (i-1)-start < end-i {
			zsort(s, start, i-start-1)
			base, nmemb = i, end-i
		} else {
			zsort(s, i, end-i)
			base, nmemb = start, i-start-1
		}
	}
}
