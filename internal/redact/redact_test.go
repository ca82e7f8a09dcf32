package redact_test

import (
	"fmt"
	"testing"

	"github.com/httptop/httptop/internal/redact"
	"github.com/httptop/httptop/internal/redact/redacttest"
)

type secretive struct{ token string }

func (s secretive) String() string { return "secretive (token " + redact.Mark + ")" }
func (s secretive) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), "secretive{token: "+redact.Mark+"}")
}

type leaky struct{ token string }

func TestFormat(t *testing.T) {
	s := secretive{token: "s3cr3t"}
	redacttest.Check(t, "secretive", s, "s3cr3t")
	if got := fmt.Sprintf("%#v|%q|%v", s, s, &s); got != `secretive{token: REDACTED}|"secretive (token REDACTED)"|secretive (token REDACTED)` {
		t.Errorf("got %s", got)
	}
	// The check itself catches a type that prints its secret.
	var ft fakeT
	redacttest.Check(&ft, "leaky", leaky{token: "s3cr3t"}, "s3cr3t")
	if !ft.failed {
		t.Error("Check passed a type that prints its secret")
	}
}

// fakeT records whether a check failed.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
