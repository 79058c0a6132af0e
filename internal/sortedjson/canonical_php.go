package sortedjson

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// The PHP reference is
//
//	$request_data = json_decode($request_json, true);
//	tksort($request_data);                 // recursive ksort()
//	$sorted = json_encode($request_data, JSON_UNESCAPED_SLASHES);
//	hash_hmac("sha512", $sorted, trim($secret));
//
// which, run as written on PHP 8.2+, means:
//   - objects become PHP arrays whose canonical-integer keys ("7", "-3", not "07" or "-0")
//     turn into int keys; ksort() orders mixed int/string keys with PHP 8 comparison rules
//     (numeric strings compare as numbers) using zend_sort, a hybrid insertion sort whose
//     outcome we reproduce step by step because those rules are not a total order;
//   - an array whose keys end up exactly 0..n-1 is written as a JSON list: {} becomes [] and
//     {"1":"b","0":"a"} becomes ["a","b"];
//   - integers that fit int64 stay exact, other numbers are doubles printed with
//     serialize_precision -1 (1.0e-7, 1.0e+25, -0, no ".0" on integral values);
//   - strings escape every non-ASCII char as \uXXXX, but not '/' nor DEL;
//   - json_decode fails on a lone surrogate escape and ksort() throws a TypeError on anything
//     but an array at the top level: no PHP signature exists for such bodies.
//
// Reproducing ksort() costs linear time on every body: keys that all compare as integers, or
// all as plain strings, are in a strict total order, where any O(n log n) sort gives
// zend_sort's result; only objects mixing the two kinds run the zend_sort port, whose
// quicksort an adversarial key order makes quadratic. That port runs with a comparison budget,
// and a body that exhausts it is refused with ErrInvalidPayload rather than sorted: real IPNs
// (20 to 40 keys, words) never come near it.

// The comparison budget of the zend_sort port: phpSortBudgetBase for the body, plus
// phpSortBudgetPerKey for each key of the objects it sorts. zend_sort needs about
// 1.2 n log2 n comparisons for n keys in random order (under 21 per key for the 200,000 keys
// that fit in a 1 MiB body) and fewer in sorted order; an object of 60 keys in its worst
// order stays within the base alone.
const (
	phpSortBudgetBase   = 4096
	phpSortBudgetPerKey = 32
)

// errPHPSortBudget is the reason the PHP form is refused when the budget runs out.
func errPHPSortBudget(keys int) error {
	return fmt.Errorf("%w: reproducing PHP's ksort() of an object of %d mixed integer and string keys takes more comparisons than allowed (%d, plus %d per key)",
		ErrInvalidPayload, keys, phpSortBudgetBase, phpSortBudgetPerKey)
}

// phpOrder is how the keys of one object can be put in ksort() order.
type phpOrder uint8

const (
	// phpOrderBytes: no key is an integer key or a numeric string; ksort() compares them
	// all with memcmp, so byte order (the parser's d.order) it is.
	phpOrderBytes phpOrder = iota
	// phpOrderValue: every key has an exact integer value (an integer key, or a numeric
	// string such as "07" or " 7" that PHP reads as a long); ksort() orders them by value,
	// ties (a string equal in value to another key) by position.
	phpOrderValue
	// phpOrderZend: anything else, whose comparison need not be transitive: only zend_sort's
	// own sequence of comparisons gives PHP's order.
	phpOrderZend
)

// phpOrderOf classifies keys.
func phpOrderOf(keys []phpKey) phpOrder {
	exact, words := false, false
	for k := range keys {
		switch key := &keys[k]; {
		case key.isInt || key.typ == phpLong:
			exact = true
		case key.typ == phpNotNumeric:
			words = true
		default:
			return phpOrderZend // a numeric string PHP reads as a double
		}
	}
	switch {
	case !words:
		return phpOrderValue
	case !exact:
		return phpOrderBytes
	}
	return phpOrderZend
}

// value is the exact integer value of a key of a phpOrderValue object.
func (k *phpKey) value() int64 {
	if k.isInt {
		return k.ival
	}
	return k.lval
}

// appendPHPRoot writes the PHP form of the parsed document; false means the reference program
// fails on it, or, with c.err set, that reproducing it would exceed the sort budget.
func (c *canon) appendPHPRoot(dst []byte) ([]byte, bool) {
	c.err, c.phpLeft = nil, phpSortBudgetBase
	if c.doc.lone {
		return dst, false // json_decode: "Single unpaired UTF-16 surrogate" -> null -> TypeError
	}
	if k := c.doc.nodes[0].kind; k != kindObject && k != kindArray {
		return dst, false // ksort(): Argument #1 ($array) must be of type array
	}
	dst = c.appendPHPValue(dst, 0)
	return dst, c.err == nil
}

func (c *canon) appendPHPValue(dst []byte, i int32) []byte {
	if c.err != nil {
		return dst // the sort budget ran out: the form is abandoned
	}
	d := &c.doc
	n := &d.nodes[i]
	switch n.kind {
	case kindNull:
		return append(dst, "null"...)
	case kindTrue:
		return append(dst, "true"...)
	case kindFalse:
		return append(dst, "false"...)
	case kindNumber:
		raw := d.text(n)
		if n.flags&(nFrac|nExp) == 0 && !phpIsBigInt(raw) {
			if isNegZeroInt(raw) {
				return append(dst, '0')
			}
			return append(dst, raw...)
		}
		c.num.parse(raw)
		return c.num.appendPHP(dst)
	case kindString:
		return appendPHPString(dst, d.text(n), n.flags)
	case kindArray:
		dst = append(dst, '[')
		child := i + 1
		for k := uint32(0); k < n.n; k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = c.appendPHPValue(dst, child)
			child = int32(d.nodes[child].end)
		}
		return append(dst, ']')
	}
	// Object.
	if n.n == 0 {
		return append(dst, '[', ']') // an empty PHP array is a list
	}
	if n.flags&oPHPOrder == 0 {
		// Some key may be an int key or a numeric string.
		mark := len(c.php)
		ki := i + 1
		for k := uint32(0); k < n.n; k++ {
			c.php = append(c.php, newPHPKey(d.str0(ki), int32(k), ki))
			ki = int32(d.nodes[ki+1].end)
		}
		keys := c.php[mark:]
		if byBytes := c.sortPHPKeys(keys); !byBytes {
			if c.err != nil {
				c.php = c.php[:mark]
				return dst
			}
			return c.appendPHPMembers(dst, keys, mark)
		}
		c.php = c.php[:mark] // the parser's byte order is ksort()'s
	}
	// No key is an int key or a numeric string: ksort() compares them all with memcmp, so
	// byte order it is, and an array with string keys is never a list.
	dst = append(dst, '{')
	for k, ki := range d.order[n.off : n.off+n.n] {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendPHPString(dst, d.str0(ki), d.nodes[ki].flags)
		dst = append(dst, ':')
		dst = c.appendPHPValue(dst, ki+1)
	}
	return append(dst, '}')
}

// sortPHPKeys puts the keys of one object in ksort() order, or reports byBytes when that is
// their byte order (phpOrderBytes), leaving them as they are. When the zend_sort port runs out
// of budget it sets c.err, and the keys are in no particular order.
func (c *canon) sortPHPKeys(keys []phpKey) (byBytes bool) {
	switch phpOrderOf(keys) {
	case phpOrderBytes:
		return true
	case phpOrderValue:
		slices.SortFunc(keys, func(a, b phpKey) int {
			c.cmps++
			if r := cmp.Compare(a.value(), b.value()); r != 0 {
				return r
			}
			return cmp.Compare(a.ord, b.ord)
		})
		return false
	}
	before := c.phpLeft + phpSortBudgetPerKey*len(keys)
	c.phpLeft = zendSort(keys, before)
	c.cmps += before - c.phpLeft
	if c.phpLeft < 0 {
		c.err = errPHPSortBudget(len(keys))
	}
	return false
}

// appendPHPMembers writes an object whose keys, c.php[mark:], are in ksort() order, as a list
// when they are exactly 0..n-1, and releases them from c.php.
func (c *canon) appendPHPMembers(dst []byte, keys []phpKey, mark int) []byte {
	d := &c.doc
	list := true
	for k := range keys {
		if !keys[k].isInt || keys[k].ival != int64(k) {
			list = false
			break
		}
	}
	if list {
		dst = append(dst, '[')
	} else {
		dst = append(dst, '{')
	}
	for k := range keys {
		if k > 0 {
			dst = append(dst, ',')
		}
		key := &keys[k]
		if !list {
			if key.isInt {
				dst = append(dst, '"')
				dst = strconv.AppendInt(dst, key.ival, 10)
				dst = append(dst, '"')
			} else {
				dst = appendPHPString(dst, key.key, d.nodes[key.node].flags)
			}
			dst = append(dst, ':')
		}
		dst = c.appendPHPValue(dst, key.node+1)
	}
	c.php = c.php[:mark]
	if list {
		return append(dst, ']')
	}
	return append(dst, '}')
}
