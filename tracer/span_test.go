package tracer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/snapshot"
)

// op is one thing a scripted RoundTripper does to the request's trace.
type op byte

const (
	opGet op = iota
	opGotA
	opGotB
	opWrote
	opWroteErr
	opFirst
	numOps
)

var opNames = [numOps]string{"get", "gotA", "gotB", "wrote", "wroteErr", "first"}

// script is a RoundTripper that fires the ops in now during RoundTrip,
// returns a response (with a body) or an error, and leaves later ops for
// the test to fire after RoundTrip returned, as a transport's goroutines
// may.
type script struct {
	now   []op
	fail  bool
	a, b  net.Conn
	trace *httptrace.ClientTrace
}

// fire fires one hook, if the trace has it, as net/http does.
func (s *script) fire(o op) {
	tr := s.trace
	switch o {
	case opGet:
		if tr.GetConn != nil {
			tr.GetConn("example.com:80")
		}
	case opGotA, opGotB:
		if tr.GotConn != nil {
			info := httptrace.GotConnInfo{Conn: s.a, Reused: true}
			if o == opGotB {
				info = httptrace.GotConnInfo{Conn: s.b}
			}
			tr.GotConn(info)
		}
	case opWrote, opWroteErr:
		if tr.WroteRequest != nil {
			var err error
			if o == opWroteErr {
				err = errors.New("write failed")
			}
			tr.WroteRequest(httptrace.WroteRequestInfo{Err: err})
		}
	case opFirst:
		if tr.GotFirstResponseByte != nil {
			tr.GotFirstResponseByte()
		}
	}
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	s.trace = httptrace.ContextClientTrace(req.Context())
	for _, o := range s.now {
		s.fire(o)
	}
	if s.fail {
		return nil, context.Canceled
	}
	return &http.Response{StatusCode: 200, ProtoMajor: 1, Body: io.NopCloser(strings.NewReader("body")), Request: req}, nil
}

// harness runs scripted requests through a Tracer and checks that the
// statistics settle.
type harness struct {
	t        testing.TB
	stats    *poolstats.Stats
	tracer   *Tracer
	a, b     net.Conn
	panics   int
	recycled int
}

func newHarness(t testing.TB, recycle bool) *harness {
	return newHarnessObserving(t, recycle, nil)
}

// newHarnessObserving is newHarness with Options.Observe set to observe.
func newHarnessObserving(t testing.TB, recycle bool, observe func(Record)) *harness {
	h := &harness{t: t, stats: poolstats.New(poolstats.Options{})}
	h.tracer = New(h.stats, h.stats.Client("c"), Options{Recycle: recycle, Observe: observe, OnPanic: func(r any) {
		h.panics++
		t.Errorf("tracer panicked: %v", r)
	}})
	h.a, _ = net.Pipe()
	h.b, _ = net.Pipe()
	t.Cleanup(func() { h.a.Close(); h.b.Close() })
	return h
}

// run sends one scripted request; late ops fire after RoundTrip returned,
// before (lateFirst) or after the body is closed.
func (h *harness) run(now, late []op, fail, lateFirst bool) {
	s := &script{now: now, fail: fail, a: h.a, b: h.b}
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	resp, err := h.tracer.RoundTrip(s, req)
	if fail != (err != nil) {
		h.t.Fatalf("error %v, want failure %v", err, fail)
	}
	if lateFirst {
		for _, o := range late {
			s.fire(o)
		}
	}
	if resp != nil {
		if resp.Request != req {
			h.t.Errorf("resp.Request is not the request sent")
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resp.Body.Close()
	}
	if !lateFirst {
		for _, o := range late {
			s.fire(o)
		}
	}
}

// settled checks that nothing is left in flight, waiting or active.
func (h *harness) settled() snapshot.Host {
	var snap snapshot.Snapshot
	h.stats.Fill(&snap, poolstats.Now())
	if len(snap.Hosts) != 1 {
		h.t.Fatalf("hosts = %d, want 1", len(snap.Hosts))
	}
	host := snap.Hosts[0]
	if host.InFlight != 0 || host.Waiting != 0 || host.Active != 0 {
		h.t.Errorf("not settled: in_flight %d waiting %d active %d", host.InFlight, host.Waiting, host.Active)
	}
	for _, c := range snap.Conns {
		if c.State == "active" {
			h.t.Errorf("connection %d still active", c.ID)
		}
	}
	return host
}

func ops(names string) []op {
	var out []op
	for _, n := range strings.Fields(names) {
		for i, name := range opNames {
			if name == n {
				out = append(out, op(i))
			}
		}
	}
	return out
}

// The sequences *http.Transport produces, and whether each recycles its
// span. Without Observe a span has only the GetConn and GotConn hooks,
// which *http.Transport fires inside RoundTrip: once the request finishes
// nothing can fire, and every span is recycled (the late ops have no hook
// to fire). With Observe it also has WroteRequest and
// GotFirstResponseByte, which may fire late: only a request that saw
// exactly one attempt with both is recycled.
func TestHookSequences(t *testing.T) {
	cases := []struct {
		name      string
		now, late string
		fail      bool
		recycled  bool // with Observe
	}{
		{name: "http1 reused", now: "get gotA wrote first", recycled: true},
		{name: "http2 double GetConn", now: "get get gotA wrote first", recycled: true},
		{name: "retry on a new connection", now: "get gotA wroteErr get gotB wrote first"},
		{name: "write after the response", now: "get gotA first", late: "wrote"},
		{name: "canceled while waiting", now: "get", fail: true},
		{name: "canceled while writing", now: "get gotA", late: "wroteErr", fail: true},
		{name: "no hooks at all", now: ""},
	}
	for _, observe := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("observe=%v/%s", observe, tc.name), func(t *testing.T) {
				var records []Record
				var obs func(Record)
				if observe {
					obs = func(r Record) { records = append(records, r) }
				}
				h := newHarnessObserving(t, true, obs)
				testHookRecycled = func(s *Span) {
					h.recycled++
					if s.st != (spanCore{}) {
						t.Errorf("span recycled with state %+v", &s.st)
					}
				}
				t.Cleanup(func() { testHookRecycled = nil })
				for range 3 {
					h.run(ops(tc.now), ops(tc.late), tc.fail, false)
				}
				host := h.settled()
				if host.Requests != 3 {
					t.Errorf("requests = %d, want 3", host.Requests)
				}
				want := 3
				if observe && !tc.recycled {
					want = 0
				}
				if h.recycled != want {
					t.Errorf("spans recycled = %d, want %d", h.recycled, want)
				}
				if observe && len(records) != 3 {
					t.Errorf("records observed = %d, want 3", len(records))
				}
			})
		}
	}
}

// FuzzHookOrder fires the hooks in any order, any number of times, some
// after RoundTrip returned, as a RoundTripper other than *http.Transport
// might. With recycling off (as for such RoundTrippers) the statistics
// must settle and nothing may panic.
func FuzzHookOrder(f *testing.F) {
	f.Add([]byte{0, 1, 3, 5}, uint8(4), false, false)
	f.Add([]byte{0, 1, 5, 3}, uint8(3), false, true)
	f.Add([]byte{0, 1, 4, 0, 2, 3, 5}, uint8(2), true, false)
	f.Add([]byte{2, 2, 0, 1, 1}, uint8(1), false, false)
	f.Fuzz(func(t *testing.T, seq []byte, split uint8, fail, lateFirst bool) {
		if len(seq) > 32 {
			seq = seq[:32]
		}
		all := make([]op, len(seq))
		for i, b := range seq {
			all[i] = op(b % byte(numOps))
		}
		k := min(int(split), len(all))
		h := newHarness(t, false)
		h.run(all[:k], all[k:], fail, lateFirst)
		host := h.settled()
		if host.Requests != 1 {
			t.Errorf("requests = %d, want 1", host.Requests)
		}
	})
}

// Many goroutines through one tracer, recycling, under -race.
func TestConcurrentSpans(t *testing.T) {
	h := newHarness(t, true)
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			for i := range 200 {
				switch (g + i) % 3 {
				case 0:
					h.run(ops("get gotA wrote first"), nil, false, false)
				case 1:
					h.run(ops("get get gotB wrote first"), nil, false, false)
				default:
					h.run(ops("get"), nil, true, false)
				}
			}
		})
	}
	wg.Wait()
	if host := h.settled(); host.Requests != 50*200 {
		t.Errorf("requests = %d, want %d", host.Requests, 50*200)
	}
}

// A span is recycled only for the schemes *http.Transport serves itself:
// a RoundTripper registered for another (Transport.RegisterProtocol) may
// fire hooks whenever it likes.
func TestRecyclesOnlyHTTPSchemes(t *testing.T) {
	st := poolstats.New(poolstats.Options{})
	cl := st.Client("")
	tr := New(st, cl, Options{Recycle: true})
	for scheme, want := range map[string]bool{"http": true, "https": true, "ftp": false, "custom": false} {
		if got := tr.recycles(cl.Host(scheme, "example.com")); got != want {
			t.Errorf("recycles(%s) = %v, want %v", scheme, got, want)
		}
	}
	if New(st, cl, Options{}).recycles(cl.Host("http", "example.com")) {
		t.Error("recycles without Options.Recycle")
	}
}

// TestSpanLayout checks what keeps a pooled span's request, up to its
// response, on two cache lines (see Span): the allocator aligns spans on
// 64 bytes, and what a request touches until then lies in a span's first
// 128 bytes.
func TestSpanLayout(t *testing.T) {
	var s Span
	if end := unsafe.Offsetof(s.trace) + unsafe.Offsetof(s.trace.GotConn) + unsafe.Sizeof(s.trace.GotConn); end > 128 {
		t.Errorf("a request touches a span's first %d bytes, want at most 128", end)
	}
	if unsafe.Offsetof(s.rec) < unsafe.Offsetof(s.trace) {
		t.Error("the body record comes before the trace, among what every request touches first")
	}
	tr := New(poolstats.New(poolstats.Options{}), nil, Options{Recycle: true})
	for range 100 {
		if p := uintptr(unsafe.Pointer(tr.newSpan(true))); p%64 != 0 {
			t.Fatalf("a span of %d bytes at %#x, not aligned on 64 bytes", unsafe.Sizeof(s), p)
		}
	}
}
