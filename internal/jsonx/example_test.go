package jsonx_test

import (
	"encoding/json"
	"fmt"

	"github.com/paykit-go/paykit/internal/jsonx"
)

// Provider responses mix encodings; one struct decodes them all.
func Example() {
	var p struct {
		ID        jsonx.ID    `json:"id"`
		Amount    jsonx.Int64 `json:"usdc_micro"`
		CreatedAt jsonx.Time  `json:"created_at"`
		Updated   jsonx.Time  `json:"updated"`
		PaidAt    jsonx.Time  `json:"paid_at"`
		Live      jsonx.Bool  `json:"livemode"`
	}
	in := `{"id":5077,"usdc_micro":"2750000","created_at":"2025-03-04T05:06:07.120Z",
	        "updated":1700000000123,"paid_at":null,"livemode":"true"}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.ID, p.Amount, p.CreatedAt.UTC(), p.Updated.UTC(), p.PaidAt.IsZero(), p.Live)

	out, _ := json.Marshal(p)
	fmt.Println(string(out))
	// Output:
	// 5077 2750000 2025-03-04 05:06:07.12 +0000 UTC 2023-11-14 22:13:20.123 +0000 UTC true true
	// {"id":"5077","usdc_micro":2750000,"created_at":"2025-03-04T05:06:07.12Z","updated":"2023-11-14T22:13:20.123Z","paid_at":null,"livemode":true}
}

func ExampleTime_UnmarshalJSON() {
	for _, in := range []string{`"2025-03-04"`, `1700000000`, `1700000000123`, `"soon"`} {
		var t jsonx.Time
		if err := json.Unmarshal([]byte(in), &t); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t.Format("2006-01-02T15:04:05.000Z07:00"))
	}
	// Output:
	// 2025-03-04T00:00:00.000Z
	// 2023-11-14T22:13:20.000Z
	// 2023-11-14T22:13:20.123Z
	// jsonx: cannot parse time "soon"
}

func ExampleInt64_UnmarshalJSON() {
	var n jsonx.Int64
	fmt.Println(json.Unmarshal([]byte(`"2750000"`), &n), n)
	fmt.Println(json.Unmarshal([]byte(`2.75`), &n))
	// Output:
	// <nil> 2750000
	// jsonx: cannot parse integer "2.75": not an integer
}
