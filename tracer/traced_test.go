package tracer

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"testing"

	"github.com/httptop/httptop/poolstats"
)

// TestTracedContext checks that the dial hook can tell a dial for a
// traced request, pooled span or fresh: the closures of the hooks must
// keep one code pointer whatever inlines their constructors.
func TestTracedContext(t *testing.T) {
	st := poolstats.New(poolstats.Options{})
	for _, recycle := range []bool{true, false} {
		tr := New(st, st.Client("x"), Options{Recycle: recycle})
		for _, tt := range []struct {
			name string
			ctx  context.Context
			want bool
		}{
			{"plain", context.Background(), true},
			{"a program's GetConn", httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GetConn: func(string) {}}), true},
			{"a program's GetConn and GotConn", httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GetConn: func(string) {}, GotConn: func(httptrace.GotConnInfo) {}}), false},
		} {
			req, _ := http.NewRequestWithContext(tt.ctx, "GET", "http://a.test/", nil)
			_, sent := tr.begin(req)
			if got := tracedContext(sent.Context()); got != tt.want {
				t.Errorf("recycle %v, %s: tracedContext = %v, want %v", recycle, tt.name, got, tt.want)
			}
		}
	}
	if tracedContext(context.Background()) {
		t.Error("a context without a trace is traced")
	}
}
