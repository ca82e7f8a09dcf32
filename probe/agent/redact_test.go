package agent

import (
	"testing"

	"github.com/httptop/httptop/internal/redact/redacttest"
	"github.com/httptop/httptop/probe"
)

// Printing or logging the agent, its options or its handler never shows
// the token: fmt.Println(agent) in a program's log would open the door.
func TestTokenRedacted(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	opts := Options{Token: token, NoDiscovery: true}
	a, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Token() != token {
		t.Fatalf("token %q, want %q", a.Token(), token)
	}
	redacttest.Check(t, "*Agent", a, token)
	redacttest.Check(t, "Options", opts, token)
	redacttest.Check(t, "*Options", &opts, token)
	redacttest.Check(t, "handler", Handler(probe.NewCollector(probe.CollectorOptions{}), token), token)
	if got, want := a.String(), "httptop agent on tcp "+a.Addr()+" (token REDACTED)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
