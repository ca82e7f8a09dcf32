package tracer

import (
	"context"
	"net/http/httptrace"
)

// traceContext is the context a traced request is sent with: its parent
// is the request's own context, and it carries the span's ClientTrace for
// httptrace.ContextClientTrace, as the context httptrace.WithClientTrace
// returns would (for a trace with no DNS or connect hooks, which need
// nothing else, and a parent with no trace to compose with). Unlike that
// one it can live inside the span, which saves a request whose span is not
// recycled an allocation.
//
// It finds the trace by httptrace's own context key, which is unexported:
// clientTraceKey learns it once by asking httptrace for the trace of a
// context that records the key it is asked for. If a Go release stops
// looking traces up that way, the key is not learnt, fastTraceContext is
// false and requests go through httptrace.WithClientTrace instead
// (TestTraceContext fails loudly when that happens).
type traceContext struct {
	context.Context
	trace *httptrace.ClientTrace
}

// Value returns the span's trace for httptrace's key, and what the parent
// holds for any other.
func (c *traceContext) Value(key any) any {
	if key == clientTraceKey {
		return c.trace
	}
	return c.Context.Value(key)
}

// String describes the context as context.WithValue's does.
func (c *traceContext) String() string { return "httptop.traceContext" }

// keySpy is a context that records the key of the last Value call.
type keySpy struct {
	context.Context
	key any
}

func (k *keySpy) Value(key any) any {
	k.key = key
	return nil
}

// clientTraceKey is httptrace's context key for a ClientTrace, or nil
// when it could not be learnt.
var clientTraceKey = learnTraceKey()

func learnTraceKey() any {
	spy := &keySpy{Context: context.Background()}
	if httptrace.ContextClientTrace(spy) != nil || spy.key == nil {
		return nil
	}
	// The key must be what WithClientTrace stores the trace under.
	trace := &httptrace.ClientTrace{}
	if httptrace.WithClientTrace(context.Background(), trace).Value(spy.key) != trace {
		return nil
	}
	return spy.key
}

// fastTraceContext is true when requests can carry their trace in a
// traceContext.
var fastTraceContext = clientTraceKey != nil
