package webhook

import "strconv"

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

// appendPHPRoot writes the PHP form of the parsed document; false means the reference program
// fails on it.
func (c *canon) appendPHPRoot(dst []byte) ([]byte, bool) {
	if c.doc.lone {
		return dst, false // json_decode: "Single unpaired UTF-16 surrogate" -> null -> TypeError
	}
	if k := c.doc.nodes[0].kind; k != kindObject && k != kindArray {
		return dst, false // ksort(): Argument #1 ($array) must be of type array
	}
	return c.appendPHPValue(dst, 0), true
}

func (c *canon) appendPHPValue(dst []byte, i int32) []byte {
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
	if n.flags&oPHPOrder != 0 {
		// No key can be an int key or a numeric string: ksort() compares them all with
		// memcmp, so byte order it is, and an array with string keys is never a list.
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
	mark := len(c.php)
	ki := i + 1
	for k := uint32(0); k < n.n; k++ {
		c.php = append(c.php, newPHPKey(d.str0(ki), int32(k), ki))
		ki = int32(d.nodes[ki+1].end)
	}
	keys := c.php[mark:]
	zendSort(keys)
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
