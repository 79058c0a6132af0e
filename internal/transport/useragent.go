package transport

import "github.com/paykit-go/paykit"

// UserAgent is the User-Agent a provider's client sends: the one set with WithUserAgent, or
// "paykit-go/<version> (<provider>)". REST calls and WebSocket handshakes use the same.
func UserAgent(provider string, s Settings) string {
	if s.UserAgent != "" {
		return s.UserAgent
	}
	return "paykit-go/" + paykit.Version + " (" + provider + ")"
}
