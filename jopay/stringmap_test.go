package jopay

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestStringMapMatchesEncodingJSON decodes objects of strings as encoding/json decodes them
// into a map[string]string, and refuses everything else.
func TestStringMapMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `null`, ` null `,
		`{"a":"b"}`, `{ "a" : "b" , "c":"" }`, `{"a":"b","a":"c"}`,
		`{"k\"q":"v\\w","u":"\u00e9\ud83d\ude00","n":null}`,
		"{\"é\":\"ü\xff\"}", `{"a":"line\nbreak\t\/"}`,
	} {
		var want map[string]string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var got stringMap
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !maps.Equal(map[string]string(got), want) || (got == nil) != (want == nil) {
			t.Errorf("%s: got %#v, want %#v", in, got, want)
		}
	}
	for _, in := range []string{`{"a":1}`, `{"a":true}`, `{"a":{"b":"c"}}`, `{"a":["b"]}`, `[]`, `"s"`, `3`} {
		var got stringMap
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("%s: decoded as %#v, want an error", in, got)
		}
	}
	for _, in := range []string{`{"a":"b"`, `{"a" "b"}`, `{"a":"b",}`, `{"a":"b"}x`, `{a:"b"}`, "{\"a\":\"\x01\"}", `nul`} {
		var got stringMap
		if err := got.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s: decoded as %#v, want an error", in, got)
		}
	}
}

// TestFastRequestTolerantMetadata: metadata that is not all strings still decodes, through
// the tolerant path.
func TestFastRequestTolerantMetadata(t *testing.T) {
	var w wireRequest
	if err := w.DecodeBody([]byte(`{"request_id":"r1","metadata":{"a":"x","n":3,"z":null}}`)); err != nil {
		t.Fatal(err)
	}
	r, err := w.result()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "x", "n": "3"}; !maps.Equal(r.Metadata, want) {
		t.Errorf("metadata %#v, want %#v", r.Metadata, want)
	}
}

// TestFastListReuse: a page decoded after another shows none of the earlier page's fields.
func TestFastListReuse(t *testing.T) {
	first := `{"requests":[{"request_id":"a","memo":"first","metadata":{"k":"v"},"created_at":"2026-01-02T03:04:05Z"},{"request_id":"b","memo":"also"}],"has_more":true,"next_cursor":"c1"}`
	second := `{"requests":[{"request_id":"c"}]}`
	for i := 0; i < 3; i++ {
		var l1, l2 wireList
		if err := l1.DecodeBody([]byte(first)); err != nil {
			t.Fatal(err)
		}
		if err := l2.DecodeBody([]byte(second)); err != nil {
			t.Fatal(err)
		}
		if len(l1.fast) != 2 || l1.fast[0].Memo != "first" || l1.fast[0].Metadata["k"] != "v" || l1.NextCursor != "c1" {
			t.Fatalf("first page: %+v", l1)
		}
		r := l2.fast
		if len(r) != 1 || r[0].ID != "c" || r[0].Memo != "" || r[0].Metadata != nil || !r[0].CreatedAt.IsZero() ||
			l2.HasMore || l2.NextCursor != "" {
			t.Fatalf("second page shows the first: %+v %+v", l2, r[0])
		}
	}
}
