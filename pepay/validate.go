package pepay

import (
	"encoding/json"
	"fmt"
	"github.com/paykit-go/paykit"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// body validates p against the documented limits and returns the request body. Every check
// runs before anything is sent; the first broken rule is returned as a *paykit.ValidationError.
func (p *CreateInvoiceParams) body() (*createInvoiceBody, error) {
	inRange := p.AmountUSD.Cmp(MinAmount.Decimal()) >= 0 && p.AmountUSD.Cmp(MaxAmount.Decimal()) <= 0
	if !inRange {
		return nil, &paykit.ValidationError{Field: "amount_usd", Reason: "must be between 0.01 and 1000000 USD"}
	}
	if _, ok := USDMillisFromDecimal(p.AmountUSD); !ok {
		return nil, &paykit.ValidationError{Field: "amount_usd", Reason: "at most 3 decimal places (Pepay stores 1/1000 USD)"}
	}
	b := &createInvoiceBody{
		AmountUSD:               p.AmountUSD,
		Description:             p.Description,
		CustomerID:              p.CustomerID,
		CustomerEmail:           p.CustomerEmail,
		Metadata:                p.Metadata,
		InvoiceTitle:            p.InvoiceTitle,
		InvoiceFooter:           p.InvoiceFooter,
		PaymentReturnURL:        p.PaymentReturnURL,
		PaymentReturnURLEnabled: p.PaymentReturnURLEnabled,
		ReceiverOverrideEnable:  p.ReceiverOverrideEnable,
		ReceiverOverrideAddress: p.ReceiverOverrideAddress,
	}
	for _, f := range []struct{ name, v string }{
		{"description", p.Description}, {"customer_id", p.CustomerID}, {"customer_email", p.CustomerEmail},
		{"invoice_title", p.InvoiceTitle}, {"invoice_footer", p.InvoiceFooter},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if p.CustomerEmail != "" {
		a, err := mail.ParseAddress(p.CustomerEmail)
		if err != nil || a.Address != p.CustomerEmail {
			return nil, &paykit.ValidationError{Field: "customer_email", Reason: "must be a plain email address"}
		}
	}
	if p.ExpiresIn != 0 {
		if p.ExpiresIn < MinExpiresIn || p.ExpiresIn > MaxExpiresIn {
			return nil, &paykit.ValidationError{Field: "expires_in", Reason: "must be between 1 ms and 30 days"}
		}
		if p.ExpiresIn%time.Millisecond != 0 {
			return nil, &paykit.ValidationError{Field: "expires_in", Reason: "must be whole milliseconds"}
		}
		b.ExpiresIn = p.ExpiresIn.Milliseconds()
	}
	if p.Metadata != nil {
		raw, err := json.Marshal(p.Metadata)
		if err != nil {
			return nil, &paykit.ValidationError{Field: "metadata", Reason: "not encodable as JSON: " + err.Error()}
		}
		if len(raw) > MaxMetadataBytes {
			return nil, &paykit.ValidationError{Field: "metadata", Reason: fmt.Sprintf("%d bytes serialized, limit is %d", len(raw), MaxMetadataBytes)}
		}
	}
	if p.PaymentReturnURL != "" {
		if err := checkReturnURL(p.PaymentReturnURL); err != nil {
			return nil, err
		}
	}
	if p.ReceiverOverrideEnable && strings.TrimSpace(p.ReceiverOverrideAddress) == "" {
		return nil, &paykit.ValidationError{Field: "receiver_override_address", Reason: "required when receiver_override_enable is set"}
	}
	if !p.ReceiverOverrideEnable && p.ReceiverOverrideAddress != "" {
		return nil, &paykit.ValidationError{Field: "receiver_override_enable", Reason: "must be set to use receiver_override_address (the address would be ignored)"}
	}
	if err := checkText("receiver_override_address", p.ReceiverOverrideAddress); err != nil {
		return nil, err
	}
	if len(p.Questions) > 0 {
		if len(p.Questions) > MaxQuestions {
			return nil, &paykit.ValidationError{Field: "questions", Reason: fmt.Sprintf("%d questions, limit is %d", len(p.Questions), MaxQuestions)}
		}
		for i, q := range p.Questions {
			if strings.TrimSpace(q.ID) == "" || strings.TrimSpace(q.Question) == "" {
				return nil, &paykit.ValidationError{Field: fmt.Sprintf("questions[%d]", i), Reason: "id and question are required"}
			}
		}
		b.Questions = &questionsBody{Questions: p.Questions}
		raw, err := json.Marshal(b.Questions)
		if err != nil {
			return nil, &paykit.ValidationError{Field: "questions", Reason: "not encodable as JSON: " + err.Error()}
		}
		if len(raw) > MaxQuestionsBytes {
			return nil, &paykit.ValidationError{Field: "questions", Reason: fmt.Sprintf("%d bytes serialized, limit is %d", len(raw), MaxQuestionsBytes)}
		}
	}
	return b, nil
}

// checkText enforces the 255-character limit and refuses invalid UTF-8 and control characters,
// which JSON would carry but a dashboard or email would mangle.
func checkText(field, v string) error {
	if v == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		return &paykit.ValidationError{Field: field, Reason: "not valid UTF-8"}
	}
	if n := utf8.RuneCountInString(v); n > MaxTextLength {
		return &paykit.ValidationError{Field: field, Reason: fmt.Sprintf("%d characters, limit is %d", n, MaxTextLength)}
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return &paykit.ValidationError{Field: field, Reason: "contains a control character"}
		}
	}
	return nil
}

func checkReturnURL(raw string) error {
	if len(raw) > MaxReturnURLLength {
		return &paykit.ValidationError{Field: "payment_return_url", Reason: fmt.Sprintf("%d characters, limit is %d", len(raw), MaxReturnURLLength)}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return &paykit.ValidationError{Field: "payment_return_url", Reason: "must be an absolute https URL"}
	}
	return nil
}
