package jovepaytest

import "github.com/paykit-go/paykit/webhook"

// signIPN signs body as JovePay's chosen reference program would (webhook's form-aware signer,
// secret handling included: the PHP program trims the secret).
func signIPN(form webhook.SortedJSONForm, secret string, body []byte) (string, error) {
	return webhook.SignSortedJSONForm(secret, body, form)
}
