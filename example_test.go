package paykit_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paykit-go/paykit"
)

// Every provider client returns *paykit.Error for a non-2xx answer; reach it with errors.As and
// switch on Code, which providers keep stable while a code's HTTP status may change.
func ExampleError() {
	// What a provider call returns for {"ok":false,"error":"currency_mismatch","expected_fiat_code":"USD"}.
	var err error = fmt.Errorf("create request: %w", &paykit.Error{
		Provider: "jopay", Status: 400, Code: "currency_mismatch", Message: "merchant settles in USD",
		Body: []byte(`{"ok":false,"error":"currency_mismatch","expected_fiat_code":"USD"}`),
	})

	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case "currency_mismatch":
			fmt.Println("use", apiErr.Detail("expected_fiat_code"))
		}
		fmt.Println("retry later:", apiErr.Retryable())
	}
	fmt.Println(err)
	fmt.Println(paykit.IsCode(err, "currency_mismatch"), paykit.IsStatus(err, 400))
	// Output:
	// use USD
	// retry later: false
	// create request: jopay: 400 currency_mismatch: merchant settles in USD
	// true true
}

// A write without an idempotency key that failed after it may have reached the provider wraps
// ErrUnknownOutcome: look the object up before sending it again.
func ExampleErrUnknownOutcome() {
	err := fmt.Errorf("jovepay: POST /payment: %w: %w", paykit.ErrUnknownOutcome, &paykit.Error{Provider: "jovepay", Status: 502})
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		fmt.Println("check whether the payment exists before retrying")
	}
	// Output: check whether the payment exists before retrying
}

// Decimal keeps the digits an API sent: "15.00" stays 15.00, and 0.1 + 0.2 is exactly 0.3.
func ExampleDecimal() {
	var invoice struct {
		PriceAmount paykit.Decimal `json:"price_amount"`
		PayAmount   paykit.Decimal `json:"pay_amount"`
	}
	_ = json.Unmarshal([]byte(`{"price_amount":15.00,"pay_amount":"0.00041237"}`), &invoice)
	fmt.Println(invoice.PriceAmount, invoice.PayAmount)

	fmt.Println(paykit.MustDecimal("0.1").Add(paykit.MustDecimal("0.2")))
	fmt.Println(paykit.MustDecimal("19.99").Mul(paykit.MustDecimal("3")))
	fmt.Println(paykit.MustDecimal("2.345").Round(2), paykit.MustDecimal("1e-7"))

	cents, ok := invoice.PriceAmount.Int64Scaled(2) // minor units for an API that counts cents
	fmt.Println(cents, ok)

	out, _ := json.Marshal(invoice)
	fmt.Println(string(out))
	// Output:
	// 15.00 0.00041237
	// 0.3
	// 59.97
	// 2.35 0.0000001
	// 1500 true
	// {"price_amount":15.00,"pay_amount":0.00041237}
}

func ExampleParseDecimal() {
	for _, s := range []string{"25.99", "1.5e-7", "NaN", "0x1A"} {
		d, err := paykit.ParseDecimal(s)
		fmt.Println(d, err)
	}
	// Output:
	// 25.99 <nil>
	// 0.00000015 <nil>
	// 0 paykit: invalid decimal "NaN": not a number
	// 0 paykit: invalid decimal "0x1A": not a number
}

func ExampleValidationError() {
	err := fmt.Errorf("jopay: %w", &paykit.ValidationError{Field: "fiat_amount_int", Reason: "must be between 1 and 2147483647"})
	var ve *paykit.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field)
	}
	fmt.Println(err)
	// Output:
	// fiat_amount_int
	// jopay: invalid fiat_amount_int: must be between 1 and 2147483647
}
