package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/golden"
	"github.com/httptop/httptop/snapshot"
)

// fakeSource is a Source the test drives: Stream delivers the snapshots
// sent on snaps and returns the errors sent on fail; Profile answers at
// once from profiles or profileErr.
type fakeSource struct {
	snaps   chan *snapshot.Snapshot
	fail    chan error
	streams chan int // receives the number of each Stream call as it starts

	mu         sync.Mutex
	nstreams   int
	profiles   map[snapshot.ProfileKind][]byte
	profileErr map[snapshot.ProfileKind]error
	asked      []snapshot.ProfileKind // profile kinds asked for, in order
}

var _ Source = (*fakeSource)(nil)

func newFakeSource() *fakeSource {
	return &fakeSource{
		snaps:      make(chan *snapshot.Snapshot),
		fail:       make(chan error),
		streams:    make(chan int, 100),
		profiles:   map[snapshot.ProfileKind][]byte{snapshot.ProfileCPU: testProfile(), snapshot.ProfileWall: testWallProfile()},
		profileErr: map[snapshot.ProfileKind]error{},
	}
}

func (f *fakeSource) Stream(ctx context.Context, _ time.Duration, fn func(*snapshot.Snapshot) error) error {
	f.mu.Lock()
	f.nstreams++
	n := f.nstreams
	f.mu.Unlock()
	f.streams <- n
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-f.fail:
			return err
		case s := <-f.snaps:
			if err := fn(s); err != nil {
				return err
			}
		}
	}
}

func (f *fakeSource) Profile(ctx context.Context, kind snapshot.ProfileKind, _ time.Duration) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, kind)
	if err := f.profileErr[kind]; err != nil {
		return nil, err
	}
	return f.profiles[kind], nil
}

// fakeClock is a clock whose timers fire only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	timers []chan time.Time
}

var fakeNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func (c *fakeClock) Now() time.Time { return fakeNow }

func (c *fakeClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, ch)
	return ch
}

// fire fires every pending timer.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.timers {
		ch <- fakeNow
	}
	c.timers = nil
}

// sizedScreen is a simulation screen that keeps its size across Init
// (which tview calls, and which resets a simulation screen to 80x25).
type sizedScreen struct {
	tcell.SimulationScreen
	w, h int
}

func (s *sizedScreen) Init() error {
	if err := s.SimulationScreen.Init(); err != nil {
		return err
	}
	s.SetSize(s.w, s.h)
	return nil
}

// frame is one drawn frame: its text and the model state it showed.
type frame struct {
	w, h     int
	lines    []string
	colored  bool // some cell has a colour
	received int
	gen      uint64
	paused   bool
	help     bool
	detail   bool
	focus    pane
	drilled  bool
	state    connState
	hotFuncs int
	hotKind  snapshot.ProfileKind
	hotView  hotView
	hotErr   string
	capture  bool
	message  string
	hosts    int
	conns    int
	mode     layoutMode
	selHost  string
	hostSort sortState
	selConn  uint64
}

func (f frame) text() string { return strings.Join(f.lines, "\n") + "\n" }

func (f frame) contains(s string) bool { return strings.Contains(f.text(), s) }

// harness runs a dashboard on a simulation screen with a fake source and
// clock, and records every frame it draws.
type harness struct {
	t    *testing.T
	scr  tcell.SimulationScreen
	src  *fakeSource
	clk  *fakeClock
	u    *ui
	done chan error

	mu     sync.Mutex
	last   frame
	frames int
	drawn  chan struct{}
}

// start runs a dashboard on a w x h screen. It returns once the first
// frame is drawn.
func start(t *testing.T, w, h int, configure ...func(*Options)) *harness {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	hs := &harness{
		t:     t,
		scr:   scr,
		src:   newFakeSource(),
		clk:   &fakeClock{},
		done:  make(chan error, 1),
		drawn: make(chan struct{}, 1),
	}
	opts := Options{
		Source: hs.src,
		Title:  "127.0.0.1:6061",
		Screen: &sizedScreen{SimulationScreen: scr, w: w, h: h},
		clock:  hs.clk,
	}
	for _, c := range configure {
		c(&opts)
	}
	hs.u = newUI(opts)
	hs.u.onFrame = hs.record
	ctx, cancel := context.WithCancel(context.Background())
	go func() { hs.done <- hs.u.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-hs.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after its context was cancelled")
		}
	})
	hs.waitFrame("first frame", func(frame) bool { return true })
	<-hs.src.streams
	return hs
}

// record is the onFrame hook: it reads the frame back from the screen's
// cells and the model, on the UI goroutine.
func (hs *harness) record(screen tcell.Screen) {
	w, h := screen.Size()
	f := frame{w: w, h: h}
	for y := range h {
		var b strings.Builder
		for x := range w {
			str, style, _ := screen.Get(x, y)
			r, _ := utf8.DecodeRuneInString(str)
			if str == "" || r == 0 {
				r = ' '
			}
			b.WriteRune(r)
			if fg, bg, _ := style.Decompose(); fg != tcell.ColorDefault || bg != tcell.ColorDefault {
				f.colored = true
			}
		}
		f.lines = append(f.lines, strings.TrimRight(b.String(), " "))
	}
	m := hs.u.m
	f.received, f.gen, f.paused, f.help, f.focus = m.received, m.gen, m.paused, m.helpOpen, m.focus
	f.detail = m.detailOpen
	f.drilled, f.state, f.hotFuncs, f.hotKind, f.hotErr, f.hotView = m.drill != nil, m.state, len(m.hot.rows), m.hot.kind, m.hot.profile().err, m.hot.view()
	f.capture, f.message, f.hosts, f.conns, f.mode = m.capture.running, m.message, len(m.hostView), len(m.connView), hs.u.mode
	f.selHost, f.hostSort, f.selConn = m.selHost.host, m.hostSort, m.selConn
	hs.mu.Lock()
	hs.last = f
	hs.frames++
	hs.mu.Unlock()
	select {
	case hs.drawn <- struct{}{}:
	default:
	}
}

// waitFrame waits until the latest frame satisfies ok. The timeout only
// turns a hang into a failure; it never paces the test.
func (hs *harness) waitFrame(what string, ok func(frame) bool) frame {
	hs.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		hs.mu.Lock()
		f, n := hs.last, hs.frames
		hs.mu.Unlock()
		if n > 0 && ok(f) {
			return f
		}
		select {
		case <-hs.drawn:
		case <-timeout:
			hs.t.Fatalf("timed out waiting for %s; last frame:\n%s", what, f.text())
		}
	}
}

// send delivers a snapshot through the stream and waits for the frame
// that shows it (or, while paused, for the one after it was received).
func (hs *harness) send(s *snapshot.Snapshot) frame {
	hs.t.Helper()
	hs.mu.Lock()
	want := hs.last.received + 1
	hs.mu.Unlock()
	select {
	case hs.src.snaps <- s:
	case <-time.After(10 * time.Second):
		hs.t.Fatal("the dashboard is not streaming")
	}
	return hs.waitFrame(fmt.Sprintf("snapshot %d", want), func(f frame) bool { return f.received >= want })
}

// key injects a key and waits for a frame satisfying ok.
func (hs *harness) key(k tcell.Key, r rune, what string, ok func(frame) bool) frame {
	hs.t.Helper()
	hs.scr.InjectKey(k, r, tcell.ModNone)
	return hs.waitFrame(what, ok)
}

// rune injects a rune key.
func (hs *harness) rune(r rune, what string, ok func(frame) bool) frame {
	hs.t.Helper()
	return hs.key(tcell.KeyRune, r, what, ok)
}

// resize changes the screen's size and waits for a frame of that size.
func (hs *harness) resize(w, h int) frame {
	hs.t.Helper()
	hs.scr.SetSize(w, h)
	if err := hs.scr.PostEvent(tcell.NewEventResize(w, h)); err != nil {
		hs.t.Fatal(err)
	}
	return hs.waitFrame(fmt.Sprintf("a %dx%d frame", w, h), func(f frame) bool { return f.w == w && f.h == h })
}

// checkGolden compares a frame with testdata/name.golden, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, f frame) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(f.text()))
}

// at is the time of the test snapshots.
var at = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// testSnapshot is a program with the classic pathologies side by side: a
// saturated pool of 4 with 28 requests waiting, a host whose idle pool
// churns, a healthy HTTP/2 host, and one leaking response bodies. rpsScale
// varies the traffic between snapshots.
func testSnapshot(rpsScale float64) *snapshot.Snapshot {
	series := func(rps ...int64) []snapshot.Point {
		var pts []snapshot.Point
		for i, r := range rps {
			pts = append(pts, snapshot.Point{Time: at.Unix() - int64(len(rps)-i), Requests: r})
		}
		return pts
	}
	s := &snapshot.Snapshot{
		Version: snapshot.Version,
		Time:    at,
		PID:     4242,
		Program: "checkout-svc",
		Process: &snapshot.Process{
			CPUPercent: 37.5, RSSBytes: 48 << 20, Goroutines: 311, Threads: 14, FDs: 57,
			UptimeSeconds: 3725,
			TCP:           snapshot.TCP{Established: 31, TimeWait: 212},
			GCCPUPercent:  8.5, SchedLatencyP99Ms: 0.42, MutexWaitPerSecond: 0.03, RunnableGoroutines: 3,
			// 0.375 of 2 cores for 410 req/s.
			GOMAXPROCS: 2, Cores: 2, CPUWindowSeconds: 10, WindowCPUPercent: 37.5, WindowSchedLatencyP99Ms: 0.52,
			RequestsPerSecond: 410, CPUPerRequestMs: 0.915, CeilingRPS: 2186,
		},
		Hosts: []snapshot.Host{
			{
				Client: "payments", Scheme: "https", Host: "api.stripe.test:443",
				Open: 4, Active: 4, Idle: 0, Waiting: 28, InFlight: 32,
				Requests: 18211, Errors: 3, NewConns: 4, ReusedConns: 18207,
				RPS: 38.2 * rpsScale, ErrorsPerSecond: 0.2, ReusedFraction: 1,
				Latency:         snapshot.Percentiles{Count: 380, P50: 412, P95: 1310, P99: 1720, Max: 1802},
				ConnWait:        snapshot.Percentiles{Count: 380, P50: 305, P95: 1150, P99: 1500, Max: 1610},
				MaxConnsPerHost: 4, MaxIdleConnsPerHost: 2, LimitsKnown: true,
				MemBytes: 4 * 70 << 10, TLSMemBytes: 4 * 41 << 10,
				Series: series(36, 39, 41, 38, 35, 37, 40, 38),
			},
			{
				Client: "default", Scheme: "http", Host: "inventory.internal:8080",
				Open: 2, Active: 1, Idle: 1,
				Requests: 88020, NewConns: 66015, ReusedConns: 22005,
				RPS: 240 * rpsScale, NewConnsPerSecond: 180, ReusedFraction: 0.25,
				Latency:             snapshot.Percentiles{Count: 2400, P50: 3.2, P95: 11.8, P99: 24.6, Max: 41},
				ConnWait:            snapshot.Percentiles{Count: 2400, P50: 0.9, P95: 2.7, P99: 4.1, Max: 9},
				MaxIdleConnsPerHost: 2, LimitsKnown: true,
				MemBytes: 2 * 12 << 10,
				Series:   series(180, 260, 90, 300, 240, 20, 250, 240),
			},
			{
				Client: "default", Scheme: "https", Host: "auth.example.com:443",
				Open: 1, Active: 1, Idle: 0,
				Requests: 43200, NewConns: 1, ReusedConns: 43199,
				RPS: 120 * rpsScale, ReusedFraction: 1,
				Latency:             snapshot.Percentiles{Count: 1200, P50: 8.4, P95: 19.1, P99: 33.5, Max: 52},
				ConnWait:            snapshot.Percentiles{Count: 1200, P50: 0.004, P95: 0.011, P99: 0.02, Max: 0.1},
				MaxIdleConnsPerHost: 2, LimitsKnown: true,
				MemBytes: 96 << 10, TLSMemBytes: 41 << 10,
			},
			{
				Client: "default", Scheme: "https", Host: "cdn.example.net:443",
				Open: 6, Active: 6, Idle: 0, InFlight: 0,
				Requests: 7600, NewConns: 6, ReusedConns: 7594,
				RPS: 2.1 * rpsScale, ReusedFraction: 0.98,
				Latency:             snapshot.Percentiles{Count: 21, P50: 48.3, P95: 96.2, P99: 131, Max: 140},
				ConnWait:            snapshot.Percentiles{Count: 21, P50: 0.02, P95: 0.08, P99: 0.1, Max: 0.1},
				LeakedBodies:        6,
				MaxIdleConnsPerHost: 2, LimitsKnown: true,
				MemBytes: 6 * 70 << 10, TLSMemBytes: 6 * 41 << 10,
			},
		},
		Diagnoses: []snapshot.Diagnosis{
			{
				Kind: snapshot.KindIdleChurn, Client: "default", Host: "inventory.internal:8080", Severity: snapshot.SeverityWarning,
				Summary: "75% of requests dial a new connection (180.0/s) and the pool closes them right after use: the idle pool keeps 2 of the 8 the bursts need",
				Advice:  "Raise Transport.MaxIdleConnsPerHost from 2 to at least 8, the peak concurrency to this host (batch size).",
			},
			{
				Kind: snapshot.KindPoolSaturated, Client: "payments", Host: "api.stripe.test:443", Severity: snapshot.SeverityCritical,
				Summary: "28 requests wait for a connection on average (p50 305ms, p95 1.15s): the pool is at its limit of 4",
				Advice:  "Raise Transport.MaxConnsPerHost from 4 to at least 32, the number of requests in flight at the peak.",
			},
			{
				Kind: snapshot.KindBodyLeak, Client: "default", Host: "cdn.example.net:443", Severity: snapshot.SeverityWarning,
				Summary: "6 response bodies are open and unread: each holds its connection",
				Advice:  "Close every response body in main.fetchAsset (assets.go:88): `defer resp.Body.Close()` right after checking the error.",
			},
		},
	}
	addConns(s)
	return s
}

// withHandshakesAndDialOnly adds to s what the golden frames show besides:
// two connections of auth.example.com handshaking, with two requests
// waiting for them, and a dial-only host (a clone of the default
// transport: its connections and requests starting seen, nothing else).
func withHandshakesAndDialOnly(s *snapshot.Snapshot) *snapshot.Snapshot {
	for i := range s.Hosts {
		if h := &s.Hosts[i]; h.Host == "auth.example.com:443" {
			h.Open, h.Handshaking, h.Waiting = 3, 2, 2
		}
	}
	s.Hosts = append(s.Hosts, snapshot.Host{
		Client: "(unwrapped)", Scheme: "http", Host: "10.0.0.9:8080",
		Open: 2, Active: 2, DialOnly: true, DialOnlyConns: 2,
		RequestsStarted: 600, StartsPerSecond: 10,
		MemBytes: 2 * 20 << 10,
	})
	s.Conns = nil
	addConns(s)
	return s
}

// addConns gives every host of s its open connections.
func addConns(s *snapshot.Snapshot) {
	tls13 := func(mem int64) *snapshot.TLS {
		return &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "h2", HandshakeMs: 12.5, MemBytes: mem}
	}
	id := uint64(1)
	for _, h := range s.Hosts {
		for i := range h.Open {
			c := snapshot.Conn{
				ID: id, Client: h.Client, Host: h.Host, Proto: "http/1.1", State: "idle",
				AgeSeconds: float64(40*i) + 3.5, Requests: int64(100*(i+1) + int(id)),
				BytesIn: int64(i+1) * 300 << 10, BytesOut: int64(i+1) * 41 << 10, MemBytes: 70 << 10,
			}
			switch {
			case i < h.Active:
				c.State = "active"
			case i < h.Active+h.Handshaking:
				c.State, c.Proto, c.Requests, c.AgeSeconds = "handshaking", "", 0, 0.08
				c.BytesIn, c.BytesOut = 0, 517
			}
			if h.DialOnly {
				c.Proto, c.Requests, c.DialOnly = "", 0, true
			}
			if h.Scheme == "https" && c.State != "handshaking" {
				c.TLS = tls13(41 << 10)
				if h.Host == "auth.example.com:443" {
					c.Proto, c.Streams, c.MaxStreams = "h2", 3, 12
				}
			}
			s.Conns = append(s.Conns, c)
			id++
		}
	}
}

// bigSnapshot has nhosts hosts and nconns connections spread over them.
func bigSnapshot(nhosts, nconns int) *snapshot.Snapshot {
	base := testSnapshot(1)
	s := &snapshot.Snapshot{Version: 1, Time: at, PID: 1, Program: "big", Process: base.Process, Diagnoses: base.Diagnoses}
	for i := range nhosts {
		h := base.Hosts[i%len(base.Hosts)]
		h.Host = fmt.Sprintf("host-%04d.example.com:443", i)
		h.Client = fmt.Sprintf("client-%d", i%7)
		h.RPS = float64((i * 7919) % 1000)
		h.Latency.P95 = float64((i*104729)%5000) / 10
		s.Hosts = append(s.Hosts, h)
	}
	for i := range nconns {
		h := &s.Hosts[i%nhosts]
		s.Conns = append(s.Conns, snapshot.Conn{
			ID: uint64(i + 1), Client: h.Client, Host: h.Host, Proto: "http/1.1", State: []snapshot.ConnState{snapshot.ConnActive, snapshot.ConnIdle}[i%2],
			AgeSeconds: float64(i % 5000), Requests: int64(i * 13 % 10000), BytesIn: int64(i) << 10, BytesOut: int64(i) << 8,
			TLS: &snapshot.TLS{Version: "TLS 1.3", MemBytes: 41 << 10},
		})
	}
	return s
}

// testProfile is a one-second CPU profile of a client that signs and
// decodes JSON, with httptop's agent taking 2% of it.
func testProfile() []byte {
	return buildProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		[][]string{
			{"main.main", "main.(*client).do", "main.(*signer).sign", "crypto/hmac.(*hmac).Write", "crypto/sha256.block"},
			{"main.main", "main.(*client).do", "main.decode", "encoding/json.(*decodeState).object"},
			{"main.main", "main.(*client).do", "main.decode", "runtime.mallocgc"},
			{"net/http.(*persistConn).readLoop", "bufio.(*Reader).Read", "syscall.Syscall"},
			{"net/http.(*persistConn).writeLoop", "runtime.memmove"},
			{"net/http.(*conn).serve", "github.com/httptop/httptop/probe/agent.(*handler).ServeHTTP", "encoding/json.Marshal"},
		},
		[]int64{400, 250, 150, 120, 60, 20})
}

// testWallProfile is a one-second wall-clock profile of the same client,
// sampled 19 times: mostly waiting for a connection.
func testWallProfile() []byte {
	return withPeriod(buildProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}},
		[][]string{
			{"main.main", "main.(*client).do", "net/http.(*Transport).roundTrip", "net/http.(*Transport).queueForIdleConn", "runtime.gopark"},
			{"net/http.(*persistConn).readLoop", "bufio.(*Reader).Read", "internal/poll.(*FD).Read"},
			{"main.main", "main.(*client).do", "main.(*signer).sign", "crypto/sha256.block"},
		},
		[]int64{700, 250, 50}), int64(time.Second/19))
}

// withPeriod returns the profile data with its period set to period (as
// the agent's wall-clock profiles have it: the mean time between samples,
// see flame.WallSamples).
func withPeriod(data []byte, period int64) []byte {
	p, err := profile.ParseData(data)
	if err != nil {
		panic(err)
	}
	p.Period = period
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// buildProfile encodes a profile with one sample per stack (root first),
// of weight weights[i] in the last sample type.
func buildProfile(types []*profile.ValueType, stacks [][]string, weights []int64) []byte {
	m := &profile.Mapping{ID: 1, HasFunctions: true}
	p := &profile.Profile{SampleType: types, PeriodType: types[len(types)-1], Period: 1, Mapping: []*profile.Mapping{m}, DurationNanos: 1e9}
	funcs := map[string]*profile.Function{}
	for i, st := range stacks {
		sample := &profile.Sample{Value: []int64{weights[i] / 10, weights[i] * 1e6}}
		for j := len(st) - 1; j >= 0; j-- {
			f := funcs[st[j]]
			if f == nil {
				f = &profile.Function{ID: uint64(len(p.Function) + 1), Name: st[j], SystemName: st[j], Filename: "x.go"}
				funcs[st[j]] = f
				p.Function = append(p.Function, f)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: uint64(0x1000 + len(p.Location)),
				Line: []profile.Line{{Function: f, Line: int64(10 + j)}}}
			p.Location = append(p.Location, loc)
			sample.Location = append(sample.Location, loc)
		}
		p.Sample = append(p.Sample, sample)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// errAgentGone is what the fake source returns when the program exits.
var errAgentGone = errors.New("agent: stream: connection refused (is the program still running?)")

// summarise parses a profile of kind and sums it up for the hot functions
// pane, as the profiler's goroutine does for one profile on its own (a
// wall-clock one with the resolution it holds, without wallWindow).
func summarise(kind snapshot.ProfileKind, data []byte, mods flame.Modules) profileResult {
	p, err := parseProfile(kind, data)
	if err != nil {
		return profileResult{err: err}
	}
	r := summariseProfile(kind, p, mods)
	if kind == snapshot.ProfileWall && r.err == nil {
		r.samples, r.span = flame.WallSamples(p), time.Duration(p.DurationNanos)
	}
	return r
}
