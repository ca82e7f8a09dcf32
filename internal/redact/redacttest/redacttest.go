// Package redacttest checks, in tests, that a value holding a secret does
// not print it.
package redacttest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Check fails t when printing v with a common verb of package fmt, or
// logging it with slog's text or JSON handler, shows secret.
func Check(t testing.TB, name string, v any, secret string) {
	t.Helper()
	if secret == "" {
		t.Fatalf("%s: an empty secret proves nothing", name)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if got := fmt.Sprintf(verb, v); strings.Contains(got, secret) {
			t.Errorf("%s: fmt %s prints the secret: %s", name, verb, got)
		}
	}
	if got := fmt.Sprint(v) + fmt.Sprintln(v); strings.Contains(got, secret) {
		t.Errorf("%s: fmt.Sprint prints the secret: %s", name, got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	if strings.Contains(buf.String(), secret) {
		t.Errorf("%s: slog prints the secret: %s", name, buf.String())
	}
}
