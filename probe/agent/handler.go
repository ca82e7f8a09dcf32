package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/internal/redact"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/promexport"
	"github.com/httptop/httptop/snapshot"
)

// Handler returns an http.Handler serving the agent protocol for c: the
// same API the agent started by Start serves, for a program that would
// rather mount it on a server of its own:
//
//	token := agent.NewToken()
//	mux.Handle(snapshot.APIPath, agent.Handler(probe.Default(), token))
//
// Mount it at snapshot.APIPath, without stripping the prefix. Every
// request must carry the token (Authorization: Bearer TOKEN); an empty
// token refuses every request. No discovery file is written for it, so
// the httptop command needs the address and the token:
// HTTPTOP_TOKEN=TOKEN httptop snapshot HOST:PORT.
//
// The handler serves any number of requests at once; a snapshot never
// waits for a profile. Streams last until their client goes away or the
// server's connections close: http.Server.Shutdown waits for them (until
// its context ends), http.Server.Close ends them. It bounds stream
// intervals, profile durations and the number of streams (see the bounds
// in package snapshot), takes one profile of each continuous kind (CPU,
// wall-clock, mutex, block) at a time, and never answers with a request's headers, body or query string,
// which the snapshot does not hold.
func Handler(c *probe.Collector, token string) http.Handler {
	if c == nil {
		c = probe.Default()
	}
	return newHandler(c, token, snapshot.DefaultMaxStreams)
}

// NewToken returns a new random token: 32 bytes from crypto/rand, in hex.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

// handler serves the agent protocol.
type handler struct {
	col        *probe.Collector
	token      []byte
	started    time.Time
	maxStreams int
	proc       *processSampler
	metrics    http.Handler // the Prometheus exposition of col

	profilers profileSlots // the continuous profiles being taken
	streams   atomic.Int32 // streams being served
	// cost measures what the streams' snapshots cost, which the rolling
	// wall-clock profiles leave them (see wallShare).
	cost    costMeter
	modules flame.Modules // the program's module list, for info

	// profileStarted, when set (tests), is called once a continuous
	// profile has started, before the handler waits for its end.
	profileStarted func(snapshot.ProfileKind)
}

var (
	_ http.Handler  = (*handler)(nil)
	_ fmt.Formatter = (*handler)(nil)
)

// Format prints the handler without its token, whatever the verb: Handler
// returns it as an http.Handler a program may well log.
func (h *handler) Format(f fmt.State, verb rune) {
	const s = "httptop agent handler (token " + redact.Mark + ")"
	redact.Format(f, verb, s, s)
}

func newHandler(c *probe.Collector, token string, maxStreams int) *handler {
	if maxStreams <= 0 {
		maxStreams = snapshot.DefaultMaxStreams
	}
	return &handler{
		col:        c,
		token:      []byte(token),
		started:    time.Now(),
		maxStreams: maxStreams,
		proc:       newProcessSampler(),
		metrics:    promexport.NewHandler(c, promexport.Options{}),
		modules:    programModules(),
	}
}

// writeTimeout bounds each write to a client, so that a client that stops
// reading cannot hold a stream (and its goroutine) forever.
const writeTimeout = 10 * time.Second

// maxQuery bounds the query string; the API's parameters are a few bytes.
const maxQuery = 1 << 10

// agentLabels are the pprof labels the agent's work runs under, so that a
// CPU profile of the program tells httptop's cost apart (see
// flame.LabelKey). Goroutines the agent starts (the profilers' own)
// inherit them.
var agentLabels = pprof.Labels(flame.LabelKey, "agent")

// ServeHTTP implements http.Handler. Everything it does runs under
// agentLabels.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pprof.Do(r.Context(), agentLabels, func(context.Context) { h.serve(w, r) })
}

// serve answers one request.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set(snapshot.ProtocolHeader, strconv.Itoa(snapshot.ProtocolVersion))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")

	// Authentication comes first: without the token, nothing about the
	// API (not even which paths exist) is revealed.
	if !h.authorized(r) {
		// And close: a client without the token holds nothing of the
		// program's, not even an idle connection.
		hdr.Set("Connection", "close")
		hdr.Set("WWW-Authenticate", `Bearer realm="httptop"`)
		writeError(w, http.StatusUnauthorized, snapshot.ErrCodeUnauthorized,
			"missing or wrong token: send the token of the agent's discovery file as 'Authorization: Bearer TOKEN'")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, snapshot.APIPath)
	if !ok || strings.Contains(name, "/") {
		writeError(w, http.StatusNotFound, snapshot.ErrCodeNotFound,
			fmt.Sprintf("no such endpoint: this agent speaks protocol %d under %s", snapshot.ProtocolVersion, snapshot.APIPath))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, snapshot.ErrCodeMethodNotAllowed, "use GET")
		return
	}
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		writeError(w, http.StatusRequestEntityTooLarge, snapshot.ErrCodeBodyNotAllowed, "requests carry no body")
		return
	}
	if len(r.URL.RawQuery) > maxQuery {
		writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest, fmt.Sprintf("query longer than %d bytes", maxQuery))
		return
	}
	switch name {
	case snapshot.EndpointInfo:
		writeJSON(w, h.info())
	case snapshot.EndpointSnapshot:
		s := snapshots.Get().(*snapshot.Snapshot)
		h.snapshot(r.Context(), s)
		data, err := appendSnapshot(nil, s)
		snapshots.Put(s)
		if err != nil {
			writeError(w, http.StatusInternalServerError, snapshot.ErrCodeInternal, "encode: "+err.Error())
			return
		}
		writeBody(w, append(data, '\n'))
	case snapshot.EndpointStream:
		h.serveStream(w, r)
	case snapshot.EndpointProfile:
		h.serveProfile(w, r)
	case snapshot.EndpointMetrics:
		h.metrics.ServeHTTP(w, r)
	default:
		writeError(w, http.StatusNotFound, snapshot.ErrCodeNotFound,
			fmt.Sprintf("no endpoint %q: the endpoints are info, snapshot, stream, profile and metrics", name))
	}
}

// authorized reports whether r carries the token, comparing in constant
// time. An empty token authorizes nothing.
func (h *handler) authorized(r *http.Request) bool {
	if len(h.token) == 0 {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), h.token) == 1
}

func (h *handler) info() snapshot.AgentInfo {
	return snapshot.AgentInfo{
		Agent:           snapshot.AgentName,
		Protocol:        snapshot.ProtocolVersion,
		SnapshotVersion: snapshot.Version,
		Version:         moduleVersion(),
		GoVersion:       runtime.Version(),
		PID:             os.Getpid(),
		Program:         programName(),
		Started:         h.started,
		Limits: snapshot.AgentLimits{
			MinIntervalMs:     snapshot.MinStreamInterval.Milliseconds(),
			MaxIntervalMs:     snapshot.MaxStreamInterval.Milliseconds(),
			MaxProfileSeconds: snapshot.MaxProfileDuration.Seconds(),
			MaxStreams:        h.maxStreams,
			ProfileKinds:      snapshot.ProfileKinds,
			OneProfileAtATime: true,
			ProfileEnd:        true,
		},
		MainModule: h.modules.Main,
		Modules:    h.modules.Deps,
	}
}

// programModules returns the program's module list for AgentInfo, its
// dependencies cut to snapshot.MaxInfoModules.
func programModules() flame.Modules {
	m := flame.ReadModules()
	if len(m.Deps) > snapshot.MaxInfoModules {
		m.Deps = m.Deps[:snapshot.MaxInfoModules]
	}
	return m
}

// snapshot takes the collector's snapshot with the process's figures
// into s, reusing its connection table, and adds what they tell: the
// diagnoses of the whole process and the CPU's limit in the pool advice
// (see package bottleneck).
func (h *handler) snapshot(ctx context.Context, s *snapshot.Snapshot) {
	h.col.SnapshotInto(s)
	p := h.proc.sample(ctx, s.Hosts, s.Conns)
	s.Process = &p
	bottleneck.Apply(s)
}

// snapshots holds *snapshot.Snapshot values whose connection tables the snapshot
// endpoint reuses.
var snapshots = sync.Pool{New: func() any { return new(snapshot.Snapshot) }}

// serveStream writes a snapshot at once, then one per interval, each a
// line of JSON, until the client goes away or the server closes (the
// agent's Close, http.Server.Close; Shutdown waits for streams to end).
func (h *handler) serveStream(w http.ResponseWriter, r *http.Request) {
	interval := snapshot.DefaultStreamInterval
	if v := r.URL.Query().Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest,
				fmt.Sprintf("interval %q is not a duration such as 500ms or 2s", v))
			return
		}
		interval = min(max(d, snapshot.MinStreamInterval), snapshot.MaxStreamInterval)
	}
	// Whether the client asked for connection changes only.
	var changes *connChanges
	if r.URL.Query().Get(snapshot.StreamConnsParam) == snapshot.StreamConnsChanges {
		changes = new(connChanges)
	}
	if int(h.streams.Add(1)) > h.maxStreams {
		h.streams.Add(-1)
		writeError(w, http.StatusTooManyRequests, snapshot.ErrCodeTooManyStreams,
			fmt.Sprintf("this agent already serves %d streams: close one and retry", h.maxStreams))
		return
	}
	defer h.streams.Add(-1)

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(snapshot.IntervalHeader, interval.String())
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	ctx := r.Context()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var buf []byte
	var s snapshot.Snapshot // its connection table is reused from one to the next
	for {
		start := time.Now()
		h.snapshot(ctx, &s)
		frame := &s
		if changes != nil {
			frame = changes.next(&s)
		}
		var err error
		if buf, err = appendSnapshot(buf[:0], frame); err != nil {
			return
		}
		now := time.Now()
		h.cost.add(now, now.Sub(start))
		buf = append(buf, '\n')
		rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // best effort
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			// A stream has no end: break the response rather than
			// end it cleanly, so that the client cannot take the
			// agent closing for a complete reply.
			panic(http.ErrAbortHandler)
		case <-ticker.C:
		}
	}
}

// serveProfile takes a profile and answers with it, gzipped pprof, or ends
// one early (see endProfile).
func (h *handler) serveProfile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, err := snapshot.ParseProfileKind(q.Get("kind"))
	if err != nil {
		writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest,
			fmt.Sprintf("kind %q: want cpu, wall, heap, goroutine, mutex or block", q.Get("kind")))
		return
	}
	if len(q.Get(snapshot.ProfileIDParam)) > snapshot.MaxProfileIDLen || len(q.Get(snapshot.ProfileEndParam)) > snapshot.MaxProfileIDLen {
		writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest,
			fmt.Sprintf("profile id longer than %d bytes", snapshot.MaxProfileIDLen))
		return
	}
	if id := q.Get(snapshot.ProfileEndParam); id != "" {
		h.endProfile(w, kind, id)
		return
	}
	d := snapshot.DefaultProfileDuration
	if v := q.Get("seconds"); v != "" && kind.Continuous() {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || !(secs > 0) || secs > snapshot.MaxProfileDuration.Seconds() {
			writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest,
				fmt.Sprintf("seconds %q: want a number above 0 and at most %g", v, snapshot.MaxProfileDuration.Seconds()))
			return
		}
		d = time.Duration(secs * float64(time.Second))
	}
	hz := flame.WallHz
	if v := q.Get("hz"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > flame.WallHz || kind != snapshot.ProfileWall {
			writeError(w, http.StatusBadRequest, snapshot.ErrCodeBadRequest,
				fmt.Sprintf("hz %q: a wall profile's rate, from 1 to %d", v, flame.WallHz))
			return
		}
		hz = n
	}
	if r.Method == http.MethodHead {
		// The headers a GET would get, without taking the profile: a
		// HEAD must not cost the program a profile.
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", string(kind)+".pb.gz"))
		w.WriteHeader(http.StatusOK)
		return
	}
	var buf bytes.Buffer
	if kind.Continuous() {
		if !h.takeProfile(w, r, kind, d, hz, &buf) {
			return
		}
	} else {
		p, err := flame.Snapshot(kind)
		if err == nil {
			err = p.Write(&buf)
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, snapshot.ErrCodeInternal, err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", string(kind)+".pb.gz"))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
	w.Write(buf.Bytes())
}

// takeProfile runs a continuous profile (CPU, wall-clock sampled at hz,
// mutex, block) for d into buf. It answers
// the client itself and returns false when the profile cannot be taken
// (another is running, the program runs its own CPU profile) or the client
// went away before it ended.
func (h *handler) takeProfile(w http.ResponseWriter, r *http.Request, kind snapshot.ProfileKind, d time.Duration, hz int, buf *bytes.Buffer) bool {
	// One continuous profile of each kind at a time, so that a CPU and a
	// wall-clock profile cover the same window; a second of the same kind
	// is refused at once rather than queued: a queue would hold
	// connections for minutes, and the client can tell its user and
	// retry. A profile asked with yield=1 (the dashboard's rolling one)
	// gives way to one asked without it (a capture): it ends early and
	// answers with what it gathered.
	yield := r.URL.Query().Get("yield") == "1"
	gaveWay, ended, release, ok := h.profilers.slot(kind).acquire(r.Context(), yield, r.URL.Query().Get(snapshot.ProfileIDParam))
	if !ok {
		writeError(w, http.StatusConflict, snapshot.ErrCodeBusy,
			"this agent is already taking a "+string(kind)+" profile: retry when it ends (at most "+snapshot.MaxProfileDuration.String()+")")
		return false
	}
	defer release()
	var stop func() error
	var err error
	switch {
	case kind == snapshot.ProfileWall && yield && hz < flame.WallHz:
		// A rolling one: it gets what the streams leave of the
		// agent's budget.
		stop, err = flame.StartWallShare(buf, hz, wallShare(h.cost.share(time.Now())))
	case kind == snapshot.ProfileWall:
		stop, err = flame.StartWall(buf, hz)
	default:
		stop, err = flame.Start(buf, kind)
	}
	if errors.Is(err, flame.ErrCPUProfileBusy) {
		writeError(w, http.StatusConflict, snapshot.ErrCodeProfilerInUse,
			"the program is already running a cpu profile of its own (net/http/pprof, -cpuprofile, another agent): retry when it ends, or take a wall profile")
		return false
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, snapshot.ErrCodeInternal, err.Error())
		return false
	}
	if h.profileStarted != nil {
		h.profileStarted(kind)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-gaveWay:
	case <-ended:
	case <-r.Context().Done():
		stop()
		return false // nobody to answer
	}
	if err := stop(); err != nil {
		writeError(w, http.StatusInternalServerError, snapshot.ErrCodeInternal, err.Error())
		return false
	}
	return true
}

// profileSlots holds one slot per continuous kind of profile.
type profileSlots struct {
	cpu, wall, mutex, block profileSlot
}

// slot returns the slot of a continuous kind.
func (s *profileSlots) slot(kind snapshot.ProfileKind) *profileSlot {
	switch kind {
	case snapshot.ProfileCPU:
		return &s.cpu
	case snapshot.ProfileMutex:
		return &s.mutex
	case snapshot.ProfileBlock:
		return &s.block
	}
	return &s.wall
}

// endProfile ends the profile of kind named id early: it stops and
// answers its own request with what it gathered. The answer here is 204,
// or 404 when no profile of that kind and id runs (it ended, or has not
// started).
func (h *handler) endProfile(w http.ResponseWriter, kind snapshot.ProfileKind, id string) {
	if !kind.Continuous() || !h.profilers.slot(kind).end(id) {
		writeError(w, http.StatusNotFound, snapshot.ErrCodeNotFound,
			fmt.Sprintf("no %s profile with id %q is being taken", kind, id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// profileSlot lets one profile of a kind run at a time. A profile that
// yields gives way to one that does not.
type profileSlot struct {
	mu   sync.Mutex
	busy bool
	// giveWay is closed to ask a yielding profile to end early; nil when
	// the running profile does not yield.
	giveWay chan struct{}
	asked   bool // giveWay was closed
	// id is the running profile's id (ProfileIDParam), "" for none, and
	// ended is closed when its client asks it to end early.
	id    string
	ended chan struct{}
	// freed is closed when the running profile releases the slot.
	freed chan struct{}
}

// yieldWait bounds how long a profile waits for a yielding one to stop.
const yieldWait = 5 * time.Second

// acquire takes the slot for a profile, which yields when yield is set
// and is named id ("" for none). When the slot is held by a yielding
// profile and this one does not yield, it asks that profile to end and
// waits (at most yieldWait or until ctx is done) for it. ok is false when
// the slot stays taken. gaveWay is closed when this profile must end early
// for another, ended when its client asks it to end (see end); release
// frees the slot.
func (s *profileSlot) acquire(ctx context.Context, yield bool, id string) (gaveWay, ended <-chan struct{}, release func(), ok bool) {
	deadline := time.NewTimer(yieldWait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if !s.busy {
			s.busy = true
			s.freed = make(chan struct{})
			s.giveWay, s.asked = nil, false
			if yield {
				s.giveWay = make(chan struct{})
			}
			s.id, s.ended = id, make(chan struct{})
			freed, giveWay, ended := s.freed, s.giveWay, s.ended
			s.mu.Unlock()
			return giveWay, ended, func() {
				s.mu.Lock()
				s.busy, s.id = false, ""
				close(freed)
				s.mu.Unlock()
			}, true
		}
		if yield || s.giveWay == nil {
			s.mu.Unlock()
			return nil, nil, nil, false
		}
		if !s.asked {
			s.asked = true
			close(s.giveWay)
		}
		freed := s.freed
		s.mu.Unlock()
		select {
		case <-freed:
		case <-deadline.C:
			return nil, nil, nil, false
		case <-ctx.Done():
			return nil, nil, nil, false
		}
	}
}

// end asks the running profile named id to end early, reporting whether
// one was running.
func (s *profileSlot) end(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.busy || id == "" || s.id != id {
		return false
	}
	s.id = "" // once
	close(s.ended)
	return true
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, snapshot.ErrCodeInternal, "encode: "+err.Error())
		return
	}
	writeBody(w, append(data, '\n'))
}

// writeBody answers 200 with data, a line of JSON.
func writeBody(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// writeError answers with status and an AgentError.
func writeError(w http.ResponseWriter, status int, code snapshot.ErrorCode, msg string) {
	data, _ := json.Marshal(snapshot.AgentError{Code: code, Message: msg})
	data = append(data, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}
