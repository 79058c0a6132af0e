// Package paykit holds what the four provider packages share with their callers: the single API
// error type every client returns ([Error]), client-side validation errors ([ValidationError]),
// the exact decimal used for money ([Decimal]) and the SDK version.
//
// The provider clients live in sub-packages: jopay (JoPay Partner API v1), jopaycheckout (JoPay
// Checkout), jovepay (JovePay, NOWPayments-compatible) and pepay (Pepay). Webhook verification and
// event dedupe live in package webhook, idempotency keys in package idempotency.
package paykit

// Version is the SDK version, sent in the default User-Agent (paykit-go/<Version> (<provider>)).
// It follows CHANGELOG.md: "<next release>-dev" while changes are listed under Unreleased, the
// release number itself in a tagged release.
const Version = "0.1.0-dev"
