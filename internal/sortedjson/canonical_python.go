package sortedjson

// The Python reference is
//
//	json.dumps(json.loads(body), separators=(',', ':'), sort_keys=True)
//
// which keeps arrays, sorts keys by code point, escapes everything outside printable ASCII
// (ensure_ascii), keeps integers exact and prints floats with repr(). It never fails on a body
// the tokenizer accepts.

func (c *canon) appendPythonValue(dst []byte, i int32) []byte {
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
		if n.flags&(nFrac|nExp) == 0 { // a Python int: exact digits
			if isNegZeroInt(raw) {
				return append(dst, '0')
			}
			return append(dst, raw...)
		}
		c.num.parse(raw)
		return c.num.appendPython(dst)
	case kindString:
		return appendPythonString(dst, d.text(n), n.flags)
	case kindArray:
		dst = append(dst, '[')
		child := i + 1
		for k := uint32(0); k < n.n; k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = c.appendPythonValue(dst, child)
			child = int32(d.nodes[child].end)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for k, ki := range d.order[n.off : n.off+n.n] {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendPythonString(dst, d.str0(ki), d.nodes[ki].flags)
		dst = append(dst, ':')
		dst = c.appendPythonValue(dst, ki+1)
	}
	return append(dst, '}')
}
