package load

import (
	"strings"

	"github.com/hookproof/hookproof/harness"
)

// classifyResultError maps the error text of a vegeta Result (which carries
// only the string of the transport error) to a harness.ErrorClass. It
// mirrors harness.ClassifyError for the errors net/http produces; the string
// is all vegeta keeps, so matching is on the messages the standard library
// writes.
func classifyResultError(msg string) harness.ErrorClass {
	switch {
	case msg == "":
		return harness.ErrNone
	case strings.Contains(msg, "context canceled"):
		return harness.ErrCanceled
	case strings.Contains(msg, "Client.Timeout"), strings.Contains(msg, "deadline exceeded"),
		strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "timeout awaiting"):
		return harness.ErrTimeout
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "lookup "):
		return harness.ErrDNS
	case strings.Contains(msg, "connection refused"):
		return harness.ErrRefused
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"),
		strings.HasSuffix(msg, "EOF"), strings.Contains(msg, "server closed idle connection"),
		strings.Contains(msg, "use of closed network connection"):
		return harness.ErrReset
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return harness.ErrTLS
	}
	return harness.ErrOtherClass
}
