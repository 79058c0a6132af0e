package jopay

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		require.NoError(t, json.Unmarshal([]byte(in), &want), "%s", in)
		var got stringMap
		if !assert.NoError(t, json.Unmarshal([]byte(in), &got), in) {
			continue
		}
		assert.True(t, maps.Equal(map[string]string(got), want), "%s: got %#v, want %#v", in, got, want)
		assert.Equal(t, want == nil, got == nil, "%s: got %#v, want %#v (nil-ness)", in, got, want)
	}
	for _, in := range []string{`{"a":1}`, `{"a":true}`, `{"a":{"b":"c"}}`, `{"a":["b"]}`, `[]`, `"s"`, `3`} {
		var got stringMap
		assert.Error(t, json.Unmarshal([]byte(in), &got), "%s: decoded as %#v, want an error", in, got)
	}
	for _, in := range []string{`{"a":"b"`, `{"a" "b"}`, `{"a":"b",}`, `{"a":"b"}x`, `{a:"b"}`, "{\"a\":\"\x01\"}", `nul`} {
		var got stringMap
		assert.Error(t, got.UnmarshalJSON([]byte(in)), "%s: decoded as %#v, want an error", in, got)
	}
}

// TestFastRequestTolerantMetadata: metadata that is not all strings still decodes, through
// the tolerant path.
func TestFastRequestTolerantMetadata(t *testing.T) {
	var w wireRequest
	require.NoError(t, w.DecodeBody([]byte(`{"request_id":"r1","metadata":{"a":"x","n":3,"z":null}}`)))
	r, err := w.result()
	require.NoError(t, err)
	want := map[string]string{"a": "x", "n": "3"}
	assert.True(t, maps.Equal(r.Metadata, want), "metadata %#v, want %#v", r.Metadata, want)
}

// TestFastListReuse: a page decoded after another shows none of the earlier page's fields.
func TestFastListReuse(t *testing.T) {
	first := `{"requests":[{"request_id":"a","memo":"first","metadata":{"k":"v"},"created_at":"2026-01-02T03:04:05Z"},{"request_id":"b","memo":"also"}],"has_more":true,"next_cursor":"c1"}`
	second := `{"requests":[{"request_id":"c"}]}`
	for i := 0; i < 3; i++ {
		var l1, l2 wireList
		require.NoError(t, l1.DecodeBody([]byte(first)))
		require.NoError(t, l2.DecodeBody([]byte(second)))
		require.Len(t, l1.fast, 2, "first page: %+v", l1)
		require.Equal(t, "first", l1.fast[0].Memo, "first page: %+v", l1)
		require.Equal(t, "v", l1.fast[0].Metadata["k"], "first page: %+v", l1)
		require.Equal(t, "c1", l1.NextCursor, "first page: %+v", l1)
		r := l2.fast
		require.Len(t, r, 1, "second page: %+v", l2)
		require.Equal(t, "c", r[0].ID, "second page shows the first: %+v %+v", l2, r[0])
		require.Empty(t, r[0].Memo, "second page shows the first: %+v %+v", l2, r[0])
		require.Nil(t, r[0].Metadata, "second page shows the first: %+v %+v", l2, r[0])
		require.True(t, r[0].CreatedAt.IsZero(), "second page shows the first: %+v %+v", l2, r[0])
		require.False(t, l2.HasMore, "second page shows the first: %+v %+v", l2, r[0])
		require.Empty(t, l2.NextCursor, "second page shows the first: %+v %+v", l2, r[0])
	}
}
