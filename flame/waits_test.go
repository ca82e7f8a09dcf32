package flame

import (
	"errors"
	"math"
	"testing"

	"github.com/google/pprof/profile"
)

var wallTypes = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}}

// clientWallProfile is a one-second wall-clock profile of a client whose
// workers fetch, decode and back off, beside goroutines that are not
// "hot": a server, a connection's read loop, an idle worker, the main
// goroutine, httptop's agent. Values are milliseconds of goroutine time.
func clientWallProfile() *profile.Profile {
	const ms = 1e6
	call := []string{"runtime.goexit", "main.worker", "main.fetch", "net/http.(*Client).Do", "net/http.(*Client).do", "net/http.send", tracerRT, "net/http.(*Transport).RoundTrip", "net/http.(*Transport).roundTrip"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	p := newProfile(wallTypes, []fstack{
		// 28 goroutines waiting in getConn.
		st(with(call, "net/http.(*Transport).getConn", "runtime.selectgo", "runtime.gopark"), 277, 2800*ms),
		// 4 waiting for headers (HTTP/1).
		st(with(call, "net/http.(*persistConn).roundTrip", "runtime.selectgo", "runtime.gopark"), 40, 400*ms),
		// 3 waiting for headers (HTTP/2).
		st(with(call, "net/http.(*http2ClientConn).RoundTrip", "net/http.(*http2ClientConn).roundTrip", "runtime.selectgo", "runtime.gopark"), 30, 300*ms),
		// 3 reading bodies, in the program's decoder.
		st([]string{"runtime.goexit", "main.worker", "main.fetch", "main.decode", "encoding/json.(*Decoder).refill", "github.com/httptop/httptop/tracer.(*Body).Read", "net/http.(*bodyEOFSignal).Read", "net/http.(*body).Read", "bufio.(*Reader).Read", "internal/poll.(*FD).Read", "runtime.gopark"}, 30, 300*ms),
		// 5 backing off between requests, 1 decoding.
		st([]string{"runtime.goexit", "main.worker", "main.backoff", "time.Sleep", "runtime.gopark"}, 50, 500*ms),
		st([]string{"runtime.goexit", "main.worker", "main.fetch", "main.decode", "encoding/json.(*decodeState).object"}, 10, 100*ms),
		// The transport's dial goroutines: 0.6 s of dialing.
		st([]string{"runtime.goexit", "net/http.(*Transport).startDialConnForLocked.func1", "net/http.(*Transport).dialConnFor", "net/http.(*Transport).dialConn", "net.(*Dialer).DialContext", "runtime.gopark"}, 60, 600*ms),
		// An HTTP/2 stream waiting for a slot on its own goroutine.
		st([]string{"runtime.goexit", "net/http.(*http2clientStream).doRequest", "net/http.(*http2clientStream).writeRequest", "net/http.(*http2ClientConn).awaitOpenSlotForStreamLocked", "sync.(*Cond).Wait", "runtime.gopark"}, 20, 200*ms),
		// Not hot.
		st([]string{"runtime.goexit", "net/http.(*persistConn).readLoop", "runtime.selectgo", "runtime.gopark"}, 100, 1000*ms),
		st([]string{"runtime.goexit", "net/http.(*conn).serve", "net/http.(*conn).readRequest", "internal/poll.(*FD).Read", "runtime.gopark"}, 200, 2000*ms),
		st([]string{"runtime.goexit", "main.idleWorker", "runtime.chanrecv1", "runtime.gopark"}, 70, 700*ms),
		// A server handler of the same program reading its request's
		// body, and then sleeping: neither is a client's.
		st([]string{"runtime.goexit", "net/http.(*conn).serve", "main.handle", "io.ReadAll", "net/http.(*body).Read", "internal/poll.(*FD).Read", "runtime.gopark"}, 10, 100*ms),
		st([]string{"runtime.goexit", "net/http.(*conn).serve", "main.handle", "time.Sleep", "runtime.gopark"}, 30, 300*ms),
		st([]string{"runtime.main", "main.main", "sync.(*WaitGroup).Wait", "runtime.gopark"}, 100, 1000*ms),
		st([]string{"runtime.goexit", "net/http.(*conn).serve", agentServe, "time.Sleep", "runtime.gopark"}, 20, 200*ms),
		// httptop's own client waiting for an agent's answer.
		st(append([]string{"runtime.goexit", "github.com/httptop/httptop/internal/agentclient.(*Client).profile"}, call[3:]...), 40, 400*ms),
	})
	p.DurationNanos = 1e9
	return p
}

func TestAttributeWaits(t *testing.T) {
	w, err := AttributeWaits(clientWallProfile(), -1, testModules)
	if err != nil {
		t.Fatal(err)
	}
	const ms = 1e6
	if w.Requests != 4400*ms {
		t.Errorf("requests' goroutines = %d, want 4400 ms (everything but the idle ones and the transport's own)", w.Requests)
	}
	if w.Total != 10900*ms {
		t.Errorf("total = %d, want 10900 ms", w.Total)
	}
	want := []struct {
		kind  WaitKind
		value int64
		funcs map[string]int64
	}{
		// 2800 in getConn, 600 of it the dials', plus 200 of HTTP/2
		// slot waits.
		{WaitConn, 2400 * ms, map[string]int64{"main.fetch": 2400 * ms}},
		{WaitDial, 600 * ms, map[string]int64{"main.fetch": 600 * ms}},
		{WaitHeaders, 500 * ms, map[string]int64{"main.fetch": 500 * ms}},
		{WaitBody, 300 * ms, map[string]int64{"main.decode": 300 * ms}},
		{WaitTransport, 0, map[string]int64{}},
		{WaitOutside, 600 * ms, map[string]int64{"main.backoff": 500 * ms, "main.decode": 100 * ms}},
	}
	if len(w.Buckets) != len(want) {
		t.Fatalf("%d buckets, want %d", len(w.Buckets), len(want))
	}
	var sum int64
	for i, tt := range want {
		b := w.Buckets[i]
		sum += b.Value
		if b.Kind != tt.kind || b.Value != tt.value {
			t.Errorf("bucket %d = %s %d, want %s %d", i, b.Kind, b.Value, tt.kind, tt.value)
		}
		if g := float64(tt.value) / 1e9; math.Abs(b.Goroutines-g) > 1e-9 {
			t.Errorf("%s: %.2f goroutines on average, want %.2f", b.Kind, b.Goroutines, g)
		}
		if len(b.Funcs) != len(tt.funcs) {
			t.Errorf("%s: functions %+v, want %v", b.Kind, b.Funcs, tt.funcs)
		}
		for _, f := range b.Funcs {
			if f.Value != tt.funcs[f.Name] {
				t.Errorf("%s: %s = %d, want %d", b.Kind, f.Name, f.Value, tt.funcs[f.Name])
			}
		}
	}
	if sum != w.Requests {
		t.Errorf("buckets sum to %d, want %d", sum, w.Requests)
	}
	if b := w.Bucket(WaitOutside); b == nil || b.Funcs[0].Name != "main.backoff" || math.Abs(b.Funcs[0].Pct-500.0/6) > 1e-9 {
		t.Errorf("outside the transport: %+v, want main.backoff first at 83.3%%", b)
	}
	if w.Bucket("nonsense") != nil {
		t.Error("Bucket of an unknown kind is not nil")
	}
}

// TestAttributeWaitsMoreDialsThanWaits checks that dials nobody waited for
// move no more than the time spent waiting.
func TestAttributeWaitsMoreDialsThanWaits(t *testing.T) {
	p := newProfile(wallTypes, []fstack{
		st([]string{"main.worker", "net/http.(*Client).do", "net/http.(*Transport).roundTrip", "net/http.(*Transport).getConn", "runtime.gopark"}, 1, 100),
		st([]string{"net/http.(*Transport).dialConnFor", "net/http.(*Transport).dialConn", "runtime.gopark"}, 1, 500),
	})
	w, err := AttributeWaits(p, -1, Modules{})
	if err != nil {
		t.Fatal(err)
	}
	if c, d := w.Bucket(WaitConn).Value, w.Bucket(WaitDial).Value; c != 0 || d != 100 {
		t.Errorf("conn %d, dial %d; want 0 and 100", c, d)
	}
}

// TestAttributeWaitsLargeValues moves dial time between the functions of
// two workers in a profile of hours of goroutine time (a dashboard's
// merged profiles of 30,000 goroutines): the shares are exact, not
// overflowed (their product exceeds 64 bits).
func TestAttributeWaitsLargeValues(t *testing.T) {
	const s = int64(1e9)
	p := newProfile(wallTypes, []fstack{
		st([]string{"main.worker", "main.fetchA", "net/http.(*Client).do", "net/http.(*Transport).roundTrip", "net/http.(*Transport).getConn", "runtime.gopark"}, 3, 30000*s),
		st([]string{"main.worker", "main.fetchB", "net/http.(*Client).do", "net/http.(*Transport).roundTrip", "net/http.(*Transport).getConn", "runtime.gopark"}, 1, 10000*s),
		st([]string{"net/http.(*Transport).dialConnFor", "net/http.(*Transport).dialConn", "runtime.gopark"}, 2, 20000*s),
	})
	w, err := AttributeWaits(p, -1, Modules{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[WaitKind]map[string]int64{
		WaitConn: {"main.fetchA": 15000 * s, "main.fetchB": 5000 * s},
		WaitDial: {"main.fetchA": 15000 * s, "main.fetchB": 5000 * s},
	}
	for kind, funcs := range want {
		b := w.Bucket(kind)
		if len(b.Funcs) != len(funcs) {
			t.Errorf("%s: %+v, want %v", kind, b.Funcs, funcs)
		}
		for _, f := range b.Funcs {
			if f.Value != funcs[f.Name] {
				t.Errorf("%s: %s = %d s, want %d s", kind, f.Name, f.Value/s, funcs[f.Name]/s)
			}
		}
	}
}

func TestAttributeWaitsErrors(t *testing.T) {
	if _, err := AttributeWaits(nil, -1, Modules{}); !errors.Is(err, ErrNilProfile) {
		t.Errorf("AttributeWaits(nil) = %v", err)
	}
	if _, err := AttributeWaits(clientWallProfile(), 9, Modules{}); !errors.Is(err, ErrNoSampleType) {
		t.Errorf("AttributeWaits(index 9) = %v", err)
	}
}
