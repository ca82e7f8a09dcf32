// Package redact helps types that hold a secret (an agent's token) keep it
// out of logs: their fmt and log/slog methods print a description with the
// secret replaced by Mark.
package redact

import (
	"fmt"
	"io"
)

// Mark stands for a secret in what is printed.
const Mark = "REDACTED"

// Format writes s for every verb, and goS for %#v, so that no verb of
// package fmt (%v, %+v, %#v, %s, %q, %x, %d...) reaches the fields of the
// value being printed. A type's Format method calls it with its String and
// GoString.
func Format(f fmt.State, verb rune, s, goS string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, goS)
	case verb == 'q':
		fmt.Fprintf(f, "%q", s)
	default:
		io.WriteString(f, s)
	}
}
