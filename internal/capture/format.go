package capture

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// CaptureVersion is the version of the capture.json format this package
// writes and reads. Adding a field is compatible; renaming or removing one
// bumps it.
const CaptureVersion = 1

// Names of the files of a capture directory.
const (
	CaptureFile  = "capture.json" // the Capture, the data every report is computed from
	JSONFile     = "report.json"  // the Report
	MarkdownFile = "report.md"    // the report as Markdown tables
	HTMLFile     = "report.html"  // the report as one self-contained page
	CPUProfile   = "cpu.pb.gz"    // CPU profile (runtime/pprof), for go tool pprof
	WallProfile  = "wall.pb.gz"   // wall-clock profile (fgprof)
	HeapProfile  = "heap.pb.gz"   // heap profile at the end of the capture
	CPUFlame     = "cpu.svg"      // interactive flame graph of the CPU profile
	WallFlame    = "wall.svg"     // interactive flame graph of the wall-clock profile
	CPUFolded    = "cpu.folded"   // folded stacks of the CPU profile
	WallFolded   = "wall.folded"  // folded stacks of the wall-clock profile
	MutexProfile = "mutex.pb.gz"  // contended mutexes over the window
	BlockProfile = "block.pb.gz"  // blocking (locks, channels, select) over the window
)

// Names of the files `httptop diff` writes, and `httptop capture
// --baseline` writes beside the report (package diff).
const (
	DiffJSONFile     = "diff.json"         // the Diff
	DiffMarkdownFile = "diff.md"           // the diff as Markdown tables
	DiffHTMLFile     = "diff.html"         // the diff as one self-contained page
	DiffCPUFlame     = "diff-cpu.svg"      // differential flame graph of CPU per request
	DiffWallFlame    = "diff-wall.svg"     // differential flame graph of wall-clock time per request
	CPUBefore        = "cpu-before.pb.gz"  // the before CPU profile, per request, for go tool pprof -diff_base
	CPUAfter         = "cpu-after.pb.gz"   // the after CPU profile, per request
	WallBefore       = "wall-before.pb.gz" // the before wall-clock profile, per request
	WallAfter        = "wall-after.pb.gz"  // the after wall-clock profile, per request
)

// ProfileMode says how the CPU and wall-clock profiles shared the capture
// window (Capture.ProfileMode).
type ProfileMode string

// Profile modes.
const (
	// ModeConcurrent: both profiles ran at once, each over the whole window.
	ModeConcurrent ProfileMode = "concurrent"
	// ModeAlternating: the agent runs one profile at a time, so CPU and
	// wall-clock segments took turns; each covers about half the window,
	// spread over all of it.
	ModeAlternating ProfileMode = "alternating"
	// ModeSingle: only one of the two could be taken (the other failed).
	ModeSingle ProfileMode = "single"
	// ModeNone: neither could be taken.
	ModeNone ProfileMode = "none"
)

// Capture is what `httptop capture` recorded from one program over one
// window of time: snapshots at a fixed interval and the profiles taken
// alongside. It is stored as capture.json, and every form of the report is
// computed from it (and from the profile files it names), so `httptop report
// DIR` can render the report again with a newer httptop.
//
// To keep a long capture small, the snapshots are stored without two things
// that repeat from one snapshot to the next: each host's per-second Series
// (kept once, merged over the whole capture, in Series) and the connection
// table (kept once per connection, in its latest state, in Conns). Build
// such a capture with AddSnapshot.
type Capture struct {
	Version int `json:"version"`
	// Target is how the user named the program (a pid, an address), as
	// given on the command line; empty when not known.
	Target  string `json:"target,omitempty"`
	Program string `json:"program"`
	PID     int    `json:"pid"`
	// Start and End bound the capture window: End is when recording
	// stopped, early if the capture was canceled.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// RequestedSeconds is the window asked for; IntervalSeconds the time
	// between snapshots.
	RequestedSeconds float64 `json:"requested_s"`
	IntervalSeconds  float64 `json:"interval_s"`
	// Canceled is true when the capture was ended early (Ctrl-C).
	Canceled bool `json:"canceled,omitempty"`
	// ProfileMode says how the CPU and wall-clock profiles shared the
	// window: one of the Mode constants.
	ProfileMode ProfileMode `json:"profile_mode"`
	// Profiles describes every profile the capture tried to take, in the
	// order cpu, wall, heap, then mutex and block.
	Profiles []ProfileInfo `json:"profiles"`
	// Modules is the program's module list (main module and
	// dependencies) as its agent sent it, from which the report tells
	// the program's code from the standard library in the profiles.
	Modules flame.Modules `json:"modules"`
	// Snapshots are the snapshots taken, oldest first, without
	// Host.Series and Conns (see Series and Conns).
	Snapshots []snapshot.Snapshot `json:"snapshots"`
	// Series holds each host's per-second points over the capture, merged
	// from the snapshots' Host.Series: every second any snapshot reported,
	// once, oldest first.
	Series []HostSeries `json:"series"`
	// Conns holds every connection the snapshots showed, once, in the
	// state of the last snapshot that showed it, ordered by ID.
	Conns []ConnRecord `json:"conns"`
	// Errors lists what went wrong while capturing (a refused profile, a
	// failed snapshot), each distinct message once with how often it
	// happened.
	Errors []CaptureError `json:"errors,omitempty"`
	// Baseline, when set, names the capture this one was compared with
	// (httptop capture --baseline) and the diff written beside the
	// report, which the report links to.
	Baseline *Baseline `json:"baseline,omitempty"`

	// index maps a host key to its entry in Series, and conns a
	// connection ID to its entry in Conns; both are built by AddSnapshot.
	index map[string]int
	conns map[uint64]int
}

// ProfileInfo describes one profile of a capture: whether it was taken,
// over how much of the window, and where it is stored.
type ProfileInfo struct {
	// Kind is cpu, wall, heap, mutex or block.
	Kind snapshot.ProfileKind `json:"kind"`
	// File is the profile's name in the capture directory (cpu.pb.gz);
	// empty when no profile was written.
	File string `json:"file,omitempty"`
	// FlameGraph and Folded name the rendered files (cpu.svg,
	// cpu.folded); empty when not written.
	FlameGraph string `json:"flame_graph,omitempty"`
	Folded     string `json:"folded,omitempty"`
	// Seconds is the time the profile covers, as the profiles report it
	// (their summed DurationNanos).
	Seconds float64 `json:"seconds"`
	// Segments are the requests made to the agent, in order.
	Segments []Segment `json:"segments,omitempty"`
	// Error says why the profile is missing or incomplete; empty when it
	// covers what was asked.
	Error string `json:"error,omitempty"`
}

// Segment is one profile request made to the agent during a capture.
type Segment struct {
	// Offset is when the request was made, in seconds from the capture's
	// start; Requested the duration asked for and Seconds how long the
	// request took.
	Offset    float64 `json:"offset_s"`
	Requested float64 `json:"requested_s"`
	Seconds   float64 `json:"seconds"`
	// OK is true when the segment's profile is part of the stored profile.
	OK bool `json:"ok"`
	// Error is the agent's or the transport's error, if any.
	Error string `json:"error,omitempty"`
	// Note explains what is no failure: a segment that was not taken
	// because the agent runs one profile at a time (the first request of
	// a kind refused, which set ModeAlternating), or one the agent ended
	// early, keeping what it gathered, because the capture was stopped.
	Note string `json:"note,omitempty"`
}

// Baseline is the capture a capture was compared with.
type Baseline struct {
	// Dir is the baseline capture's directory, as the user named it.
	Dir string `json:"dir"`
	// Diff names the diff's page in this capture's directory
	// (DiffHTMLFile).
	Diff string `json:"diff"`
}

// CaptureError is one kind of failure during a capture.
type CaptureError struct {
	// Op is what failed: "snapshot", "cpu profile", "write cpu.svg", ...
	Op      string `json:"op"`
	Message string `json:"message"`
	// Count is how many times it happened.
	Count int `json:"count"`
}

// HostSeries is one host's per-second points over a capture.
type HostSeries struct {
	Client string           `json:"client"`
	Scheme string           `json:"scheme"`
	Host   string           `json:"host"`
	Points []snapshot.Point `json:"points"`
}

// ConnRecord is one connection seen during a capture: its state in the last
// snapshot that showed it, and when it was first and last seen.
type ConnRecord struct {
	snapshot.Conn
	// FirstSeen and LastSeen are the times of the first and the last
	// snapshot that showed the connection.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// NewCapture returns an empty capture that starts at start.
func NewCapture(start time.Time) *Capture {
	return &Capture{Version: CaptureVersion, Start: start, End: start, ProfileMode: ModeNone}
}

// HostKey identifies a host (client, scheme, host) across snapshots and
// captures.
func HostKey(client, scheme, host string) string {
	return client + "\x00" + scheme + "\x00" + host
}

// AddSnapshot appends s to the capture: the snapshot itself without its
// hosts' Series and its Conns, which are merged into c.Series and c.Conns.
// s is not modified. The first snapshot sets Program and PID. AddSnapshot
// is not safe for concurrent use.
func (c *Capture) AddSnapshot(s *snapshot.Snapshot) {
	if s == nil {
		return
	}
	if c.index == nil {
		c.reindex()
	}
	if c.Program == "" && c.PID == 0 {
		c.Program, c.PID = s.Program, s.PID
	}
	stored := *s
	stored.Conns = nil
	stored.Hosts = make([]snapshot.Host, len(s.Hosts))
	for i, h := range s.Hosts {
		stored.Hosts[i] = h
		stored.Hosts[i].Series = nil
		c.mergeSeries(h)
	}
	for _, cn := range s.Conns {
		if i, ok := c.conns[cn.ID]; ok {
			c.Conns[i].Conn = cn
			c.Conns[i].LastSeen = s.Time
			continue
		}
		c.conns[cn.ID] = len(c.Conns)
		c.Conns = append(c.Conns, ConnRecord{Conn: cn, FirstSeen: s.Time, LastSeen: s.Time})
	}
	c.Snapshots = append(c.Snapshots, stored)
}

// mergeSeries adds h's per-second points to the host's merged series. A
// second reported by a later snapshot replaces the earlier report of it.
func (c *Capture) mergeSeries(h snapshot.Host) {
	k := HostKey(h.Client, h.Scheme, h.Host)
	i, ok := c.index[k]
	if !ok {
		i = len(c.Series)
		c.index[k] = i
		c.Series = append(c.Series, HostSeries{Client: h.Client, Scheme: h.Scheme, Host: h.Host})
	}
	hs := &c.Series[i]
	for _, p := range h.Series {
		n := len(hs.Points)
		switch {
		case n == 0 || p.Time > hs.Points[n-1].Time:
			hs.Points = append(hs.Points, p)
		default:
			j, found := slices.BinarySearchFunc(hs.Points, p.Time, func(q snapshot.Point, t int64) int { return cmp.Compare(q.Time, t) })
			if found {
				hs.Points[j] = p
			} else {
				hs.Points = slices.Insert(hs.Points, j, p)
			}
		}
	}
}

// reindex rebuilds the lookup maps from Series and Conns, after the capture
// was decoded.
func (c *Capture) reindex() {
	c.index = make(map[string]int, len(c.Series))
	for i, s := range c.Series {
		c.index[HostKey(s.Client, s.Scheme, s.Host)] = i
	}
	c.conns = make(map[uint64]int, len(c.Conns))
	for i, cn := range c.Conns {
		c.conns[cn.ID] = i
	}
}

// AddError records a failure of op. The same op and message are counted
// rather than repeated.
func (c *Capture) AddError(op string, err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	for i := range c.Errors {
		if c.Errors[i].Op == op && c.Errors[i].Message == msg {
			c.Errors[i].Count++
			return
		}
	}
	c.Errors = append(c.Errors, CaptureError{Op: op, Message: msg, Count: 1})
}

// Profile returns the ProfileInfo of the given kind, or nil.
func (c *Capture) Profile(kind snapshot.ProfileKind) *ProfileInfo {
	for i := range c.Profiles {
		if c.Profiles[i].Kind == kind {
			return &c.Profiles[i]
		}
	}
	return nil
}

// SeriesOf returns the merged per-second points of a host, or nil.
func (c *Capture) SeriesOf(client, scheme, host string) []snapshot.Point {
	if c.index == nil {
		c.reindex()
	}
	if i, ok := c.index[HostKey(client, scheme, host)]; ok {
		return c.Series[i].Points
	}
	return nil
}

// Read reads dir/capture.json, as LoadContext does.
func Read(dir string) (*Capture, error) {
	return ReadContext(context.Background(), dir)
}

// ReadContext reads dir/capture.json, as LoadContext does: a regular file
// inside dir of at most MaxCaptureBytes, read until ctx is done. A capture
// with impossible figures (negative durations, a window that ends before
// it starts) is an error; profile file names that IsFileName refuses are
// dropped, with a note in the capture's Errors.
func ReadContext(ctx context.Context, dir string) (*Capture, error) {
	root, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readCapture(ctx, root, dir)
}

// readCapture reads and checks capture.json in root (dir, for messages).
func readCapture(ctx context.Context, root *os.Root, dir string) (*Capture, error) {
	name := filepath.Join(dir, CaptureFile)
	data, err := readFile(ctx, root, CaptureFile, MaxCaptureBytes)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("capture: %s has no %s: is it a directory written by httptop capture?", dir, CaptureFile)
	case err != nil:
		return nil, fmt.Errorf("capture: read %s: %w", name, unwrapPath(err))
	}
	var c Capture
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("capture: %s is not a valid capture: %w", name, err)
	}
	if c.Version != CaptureVersion {
		return nil, fmt.Errorf("capture: %s is capture version %d; this httptop reads version %d", name, c.Version, CaptureVersion)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("capture: %s is not a valid capture: %w", name, err)
	}
	c.reindex()
	return &c, nil
}

// unwrapPath drops the *fs.PathError around err, whose message repeats
// the path the caller names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// check refuses figures no capture records, and drops file names that
// are not files of the capture directory.
func (c *Capture) check() error {
	switch {
	case c.RequestedSeconds < 0:
		return fmt.Errorf("requested_s %v is negative", c.RequestedSeconds)
	case c.IntervalSeconds < 0:
		return fmt.Errorf("interval_s %v is negative", c.IntervalSeconds)
	case c.End.Before(c.Start):
		return fmt.Errorf("end %v is before start %v", c.End.Format(time.RFC3339Nano), c.Start.Format(time.RFC3339Nano))
	}
	for i := range c.Profiles {
		p := &c.Profiles[i]
		if p.Seconds < 0 {
			return fmt.Errorf("the %s profile's seconds %v is negative", p.Kind, p.Seconds)
		}
		for _, s := range p.Segments {
			if s.Offset < 0 || s.Requested < 0 || s.Seconds < 0 {
				return fmt.Errorf("a %s profile segment has a negative time (offset %v, requested %v, seconds %v)", p.Kind, s.Offset, s.Requested, s.Seconds)
			}
		}
		for _, f := range []*string{&p.File, &p.FlameGraph, &p.Folded} {
			if *f != "" && !IsFileName(*f) {
				c.AddError("read "+string(p.Kind)+" profile", fmt.Errorf("%q is not the name of a file of the capture directory; ignored", *f))
				*f = ""
			}
		}
	}
	for i := range c.Snapshots {
		for _, h := range c.Snapshots[i].Hosts {
			if negative(h.WindowSeconds, h.Latency.P50, h.Latency.P95, h.Latency.P99, h.Latency.Max,
				h.ConnWait.P50, h.ConnWait.P95, h.ConnWait.P99, h.ConnWait.Max) {
				return fmt.Errorf("snapshot %d: host %q has a negative duration", i, h.Host)
			}
		}
	}
	for _, hs := range c.Series {
		for _, p := range hs.Points {
			if negative(p.LatencyAvgMs, p.LatencyMaxMs, p.AvgWaiting, p.AvgInFlight) {
				return fmt.Errorf("series of host %q: second %d has a negative duration or mean", hs.Host, p.Time)
			}
		}
	}
	for _, cn := range c.Conns {
		if negative(cn.AgeSeconds, cn.IdleSeconds, cn.DialMs) || (cn.TLS != nil && negative(cn.TLS.HandshakeMs)) {
			return fmt.Errorf("connection %d has a negative duration", cn.ID)
		}
	}
	return nil
}

// negative reports whether any of vs is below zero.
func negative(vs ...float64) bool {
	for _, v := range vs {
		if v < 0 {
			return true
		}
	}
	return false
}

// Write writes c to dir/capture.json, replacing it atomically.
func Write(dir string, c *Capture) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("capture: encode capture: %w", err)
	}
	return writeFile(filepath.Join(dir, CaptureFile), append(data, '\n'))
}
