package webhook_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paykit-go/paykit/webhook"
)

// A JovePay IPN as it arrives: the signature header covers the body with its keys sorted.
func ExampleSortedJSONVerifier() {
	v, err := webhook.NewSortedJSONVerifier("ipn-secret", webhook.WithPreviousSecrets("old-ipn-secret"))
	if err != nil {
		panic(err)
	}
	body := []byte(`{"payment_id":5077125051,"payment_status":"finished","price_amount":170,"pay_currency":"btc","fee":{"serviceFee":0,"currency":"btc"}}`)

	// JovePay signs with the Node algorithm; an integration copied from the PHP example
	// signs differently, and the old secret is still accepted during a rotation.
	fromNode, _ := webhook.SignSortedJSON("ipn-secret", body)
	fromPHP, _ := webhook.SignSortedJSONForm("old-ipn-secret", body, webhook.FormPHP)
	fmt.Println(v.Verify(body, fromNode))
	fmt.Println(v.Verify(body, fromPHP))

	tampered := bytes.Replace(body, []byte("finished"), []byte("refunded"), 1)
	fmt.Println(errors.Is(v.Verify(tampered, fromNode), webhook.ErrSignatureMismatch))
	fmt.Println(errors.Is(v.Verify([]byte(`{"a":1,"a":2}`), fromNode), webhook.ErrInvalidPayload))
	// Output:
	// <nil>
	// <nil>
	// true
	// true
}

func ExampleSignSortedJSON() {
	body := []byte(`{"payment_status":"finished","payment_id":5077125051,"ids":[3,1],"fee":{"serviceFee":0.5,"currency":"btc"}}`)
	canonical, err := webhook.CanonicalSortedJSON(body, webhook.FormNode)
	if err != nil {
		panic(err)
	}
	sig, err := webhook.SignSortedJSON("ipn-secret", body)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(canonical))
	fmt.Println(len(sig), sig[:16]) // as `node sign.js ipn-secret` prints it
	// Output:
	// {"fee":{"currency":"btc","serviceFee":0.5},"ids":{"0":3,"1":1},"payment_id":5077125051,"payment_status":"finished"}
	// 128 5135b21db9e2ea46
}

// The three reference programs disagree on arrays, non-ASCII text, numbers and empty objects.
func ExampleCanonicalSortedJSON() {
	body := []byte(`{"b":[1,2],"a":1.0,"é":"x","z":{}}`)
	for _, form := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		out, err := webhook.CanonicalSortedJSON(body, form)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-6s %s\n", form, out)
	}
	// Output:
	// node   {"a":1,"b":{"0":1,"1":2},"z":{},"é":"x"}
	// php    {"a":1,"b":[1,2],"z":[],"\u00e9":"x"}
	// python {"a":1.0,"b":[1,2],"z":{},"\u00e9":"x"}
}

// A verifier writes canonical forms with its own reusable buffers, for instance to key events
// on what the signature covers rather than on the body's bytes.
func ExampleSortedJSONVerifier_AppendCanonical() {
	v, err := webhook.NewSortedJSONVerifier("ipn-secret")
	if err != nil {
		panic(err)
	}
	var buf []byte
	for _, body := range []string{`{"payment_id":1,"payment_status":"finished"}`, `{ "payment_status": "finished", "payment_id": 1.0 }`} {
		buf, err = v.AppendCanonical(buf[:0], []byte(body), webhook.FormNode)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s\n", buf)
	}
	// Output:
	// {"payment_id":1,"payment_status":"finished"}
	// {"payment_id":1,"payment_status":"finished"}
}

// An IPN endpoint: VerifyRequest reads the body under the size limit, checks x-jovepay-sig
// (or x-nowpayments-sig) and hands back the verified bytes.
func ExampleSortedJSONVerifier_VerifyRequest() {
	v, err := webhook.NewSortedJSONVerifier("ipn-secret")
	if err != nil {
		panic(err)
	}
	ipn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := v.VerifyRequest(r, "")
		if err != nil {
			http.Error(w, "invalid IPN", webhook.StatusCode(err))
			return
		}
		fmt.Printf("verified %d bytes\n", len(body))
	})

	body := `{"payment_id":5077125051,"payment_status":"finished"}`
	sig, _ := webhook.SignSortedJSON("ipn-secret", []byte(body))
	for _, s := range []string{sig, strings.Repeat("0", 128)} {
		r := httptest.NewRequest(http.MethodPost, "/ipn", strings.NewReader(body))
		r.Header.Set("x-jovepay-sig", s)
		w := httptest.NewRecorder()
		ipn.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// verified 53 bytes
	// 200
	// 400
}
