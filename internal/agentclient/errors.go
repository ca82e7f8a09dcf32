package agentclient

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Sentinel errors. Every error the package returns wraps at most one of
// them (test with errors.Is) and reads as one line saying what went wrong
// and what to do next. An error the agent answered with wraps its
// *snapshot.AgentError too: snapshot.HasCode(err, snapshot.ErrCodeBusy)
// tells a profile refused because one of its kind is being taken.
var (
	// ErrNoAgent: no agent runs, the pid runs none, or nothing answers
	// at the address.
	ErrNoAgent = errors.New("no httptop agent")
	// ErrSeveralAgents: no target was named and several agents run.
	ErrSeveralAgents = errors.New("several httptop agents")
	// ErrNotAgent: something answers at the address, but not an httptop
	// agent.
	ErrNotAgent = errors.New("not an httptop agent")
	// ErrUnauthorized: the agent refused the token, or none was found.
	ErrUnauthorized = errors.New("token refused")
	// ErrVersion: the agent speaks another protocol or snapshot version.
	ErrVersion = errors.New("protocol version mismatch")
	// ErrDisconnected: the agent went away (the program exited, or its
	// agent was closed) after Dial reached it.
	ErrDisconnected = errors.New("agent disconnected")
	// ErrExited: Redial found the program's process gone, and no agent
	// in its place.
	ErrExited = errors.New("program exited")
)

// clientError is an error of one of the sentinel kinds with a message of
// its own: Error is the message alone, so that it reads as one sentence.
type clientError struct {
	kind  error // a sentinel, or nil
	msg   string
	cause error // what failed underneath, or nil
}

func (e *clientError) Error() string { return e.msg }

func (e *clientError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// newError returns an error of the given kind whose message is format
// applied to args, made into one line.
func newError(kind, cause error, format string, args ...any) error {
	return &clientError{kind: kind, msg: oneLine(fmt.Sprintf(format, args...), 1000), cause: cause}
}

// oneLine replaces control characters (newlines included) with spaces and
// cuts s to max bytes, for messages that quote what an agent, or
// whatever answers in its place, sent.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
