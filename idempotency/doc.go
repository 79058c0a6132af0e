// Package idempotency derives, generates and validates idempotency keys for
// paykit's payment providers.
//
// # Why deterministic keys
//
// A payment "create" call must happen at most once per logical request, yet
// the network makes that hard: a customer double-clicks "Pay", a load
// balancer times out after the provider already created the object, a worker
// crashes and its job is retried. If every attempt carries the same
// idempotency key, the provider recognises the repeat and returns the object
// it created the first time instead of making a second pay link or invoice.
//
// A random key only helps within one process's retry loop. A key derived from
// your own stable identifier — Key("checkout", orderID) — is the same in every
// process, after every restart and on every double-click, so duplicates are
// caught wherever they come from. Key produces the exact value JoPay's
// documentation computes as sha256Hex("checkout:" + order.id).
//
// Pepay requires a UUID in its Idempotency-Key header; UUID derives one the
// same way (from SHA-256 of the joined parts), shaped as a version-4 UUID with
// the RFC 4122 variant so that strict validators accept it.
//
// # Caveat: never reuse a key across logically different requests
//
// Providers match keys, not intentions. Reusing a key for a different
// request (another amount, another order, a new attempt after a definitive
// failure that you do want to redo) either silently returns the OLD object or
// fails with a conflict (typically 409). Include everything that makes the
// request distinct in the parts — a namespace ("checkout", "refund"), the
// order id, and an attempt or version number when a new object is really
// wanted: Key("checkout", orderID, "2").
//
// Parts are joined with ":" and not escaped, so Key("a:b") == Key("a", "b").
// Use a fixed namespace as the first part and ids that cannot contain ":" in
// ambiguous positions (or put the free-form part last).
//
// For requests with no natural identifier, New and NewUUID return random keys
// from crypto/rand; generate one per logical request and keep it for every
// retry of that request.
package idempotency
