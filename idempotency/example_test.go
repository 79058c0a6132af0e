package idempotency_test

import (
	"errors"
	"fmt"

	"github.com/paykit-go/paykit/idempotency"
)

// A key derived from the order id is identical on every retry and every
// double-click, so the provider returns the original payment request.
func ExampleKey() {
	key := idempotency.Key("checkout", "1001") // == sha256Hex("checkout:1001")
	fmt.Println(key)
	fmt.Println(key == idempotency.Key("checkout", "1001"))
	// Output:
	// eacee0c50c7c716e10eeb3ded7c1471a6987b4f94eab735bc59dd5feada82a82
	// true
}

// Pepay's Idempotency-Key must be a UUID; UUID derives one deterministically.
func ExampleUUID() {
	fmt.Println(idempotency.UUID("invoice", "1001"))
	// Output:
	// e01860ae-06c5-4262-a275-605d9e1b0aa3
}

func ExampleValidate() {
	fmt.Println(idempotency.Validate(idempotency.Key("checkout", "1001")))

	err := idempotency.Validate("order-1001")
	fmt.Println(err)
	fmt.Println(errors.Is(err, idempotency.ErrInvalidKey))
	// Output:
	// <nil>
	// idempotency: invalid key: length 10, want 32–64
	// true
}

// Use a random key only when the request has no stable id of its own, and
// keep it for every retry of that request.
func ExampleNew() {
	key := idempotency.New()
	fmt.Println(len(key), idempotency.Validate(key))
	// Output:
	// 43 <nil>
}

func ExampleNewUUID() {
	u := idempotency.NewUUID()
	fmt.Println(len(u), u[14:15], idempotency.ValidateUUID(u))
	// Output:
	// 36 4 <nil>
}
