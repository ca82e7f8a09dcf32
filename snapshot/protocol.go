package snapshot

import (
	"errors"
	"fmt"
	"time"
)

// The agent protocol: HTTP and JSON under APIPath, spoken by the agent
// inside a program (package probe/agent) and the httptop command.
// docs/protocol.md describes it; these are the names both ends share, and
// the only thing besides the snapshot types that they share.
const (
	// ProtocolVersion is the version of the agent protocol. It is in
	// APIPath, in the ProtocolHeader of every answer and in AgentInfo; a
	// change that is not purely additive bumps it.
	ProtocolVersion = 1
	// APIPath is the path under which the agent serves the protocol. A
	// program mounting the agent's handler on its own mux mounts it here.
	APIPath = "/debug/httptop/v1/"
	// ProtocolHeader is the response header carrying ProtocolVersion on
	// every answer, errors included, so that a client tells an httptop
	// agent (of any version) from whatever else answers on a port.
	ProtocolHeader = "Httptop-Protocol"
	// IntervalHeader is the response header of a snapshot stream giving
	// the interval the agent settled on (a Go duration, such as 1s).
	IntervalHeader = "Httptop-Interval"
	// AgentName is the value of AgentInfo.Agent.
	AgentName = "httptop"
)

// Endpoints under APIPath.
const (
	// EndpointInfo answers an AgentInfo.
	EndpointInfo = "info"
	// EndpointSnapshot answers one Snapshot.
	EndpointSnapshot = "snapshot"
	// EndpointStream answers a Snapshot per interval, one JSON line
	// each, until the client goes away.
	EndpointStream = "stream"
	// EndpointProfile answers a profile (gzipped pprof) of the kind its
	// "kind" parameter names. A continuous profile (cpu, wall) lasts
	// "seconds" and may carry an "id" the client chose
	// (ProfileIDParam); asked with "end" = that id (ProfileEndParam), the
	// endpoint ends that profile early, which then answers with what it
	// gathered, and answers 204 itself (404 when no such profile runs).
	EndpointProfile = "profile"
	// EndpointMetrics answers the Prometheus exposition of the
	// collector's figures (text, or protocol buffers when asked), for a
	// Prometheus server that scrapes the agent with its token.
	EndpointMetrics = "metrics"
)

// Parameters of EndpointProfile that end a profile early (see
// AgentLimits.ProfileEnd): a client that may have to stop (a capture ended
// by Ctrl-C) names its profile with ProfileIDParam, then asks for
// ProfileEndParam = the same id instead of dropping the connection, which
// would lose what the profile gathered.
const (
	ProfileIDParam  = "id"
	ProfileEndParam = "end"
	// MaxProfileIDLen bounds an id; a longer one is refused.
	MaxProfileIDLen = 64
)

// Bounds the agent applies to what clients ask.
const (
	// MinStreamInterval and MaxStreamInterval bound the interval of a
	// snapshot stream; an interval outside is brought within.
	MinStreamInterval = 100 * time.Millisecond
	MaxStreamInterval = 60 * time.Second
	// DefaultStreamInterval is a stream's interval when the client names
	// none.
	DefaultStreamInterval = time.Second
	// MaxProfileDuration is the longest CPU or wall-clock profile the
	// agent takes; a longer one is refused.
	MaxProfileDuration = 60 * time.Second
	// DefaultProfileDuration is a profile's duration when the client names
	// none.
	DefaultProfileDuration = 30 * time.Second
	// DefaultMaxStreams is how many snapshot streams an agent serves at
	// once unless told otherwise.
	DefaultMaxStreams = 8
)

// StreamConnsParam=StreamConnsChanges asks EndpointStream to send, after
// its first snapshot, only the connections that changed (see
// Snapshot.ConnChanges): a program with 10,000 connections, most of them
// waiting, then sends a few kilobytes a second rather than 5 MB. An agent
// that predates it ignores the parameter and sends whole snapshots, which
// carry no ConnChanges.
const (
	StreamConnsParam   = "conns"
	StreamConnsChanges = "changes"
)

// AgentInfo is the agent's answer to APIPath+EndpointInfo: who it is and
// what it speaks.
type AgentInfo struct {
	// Agent is always AgentName.
	Agent string `json:"agent"`
	// Protocol is ProtocolVersion.
	Protocol int `json:"protocol"`
	// SnapshotVersion is the snapshot format version (Version).
	SnapshotVersion int `json:"snapshot_version"`
	// Version is the httptop module version the program was built with
	// ("devel" when unknown).
	Version string `json:"version"`
	// GoVersion is the Go release the program was built with.
	GoVersion string `json:"go_version"`
	// PID is the program's process id.
	PID int `json:"pid"`
	// Program is the base name of the program's executable.
	Program string `json:"program"`
	// Started is when the agent (or its handler) started.
	Started time.Time `json:"started"`
	// Limits are the bounds the agent applies.
	Limits AgentLimits `json:"limits"`
	// MainModule is the path of the program's main module and Modules
	// the paths of the modules it depends on, from its build
	// information (runtime/debug.ReadBuildInfo), so that the command can
	// tell the program's code and libraries from the standard library
	// in profiles. Both are empty when the program has no build
	// information; Modules is cut to MaxInfoModules entries.
	MainModule string   `json:"main_module,omitempty"`
	Modules    []string `json:"modules,omitempty"`
}

// MaxInfoModules bounds AgentInfo.Modules, so that the info reply stays
// small whatever the program links.
const MaxInfoModules = 500

// AgentLimits are the bounds the agent applies, so that a client can tell
// its user before asking.
type AgentLimits struct {
	// MinIntervalMs is the shortest interval of a stream.
	MinIntervalMs int64 `json:"min_interval_ms"`
	// MaxIntervalMs is the longest interval of a stream.
	MaxIntervalMs int64 `json:"max_interval_ms"`
	// MaxProfileSeconds is the longest continuous profile served.
	MaxProfileSeconds float64 `json:"max_profile_s"`
	// MaxStreams is how many snapshot streams are served at once.
	MaxStreams int `json:"max_streams"`
	// ProfileKinds lists the kinds of profile served.
	ProfileKinds []ProfileKind `json:"profile_kinds"`
	// OneProfileAtATime is true when the agent runs one continuous
	// profile of each kind at a time and refuses a second with
	// ErrCodeBusy.
	OneProfileAtATime bool `json:"one_profile_at_a_time"`
	// ProfileEnd is true when the agent ends a profile early when asked
	// (ProfileEndParam), answering the profile's request with what it
	// gathered.
	ProfileEnd bool `json:"profile_end,omitempty"`
}

// ErrorCode names what went wrong in an AgentError.
type ErrorCode string

// Codes of AgentError, with the HTTP status each comes with.
const (
	ErrCodeBadRequest       ErrorCode = "bad_request"        // 400
	ErrCodeUnauthorized     ErrorCode = "unauthorized"       // 401
	ErrCodeNotFound         ErrorCode = "not_found"          // 404
	ErrCodeMethodNotAllowed ErrorCode = "method_not_allowed" // 405
	ErrCodeBusy             ErrorCode = "busy"               // 409: a profile of that kind is being taken
	ErrCodeProfilerInUse    ErrorCode = "profiler_in_use"    // 409: the program runs its own CPU profile
	ErrCodeBodyNotAllowed   ErrorCode = "body_not_allowed"   // 413
	ErrCodeTooManyStreams   ErrorCode = "too_many_streams"   // 429
	ErrCodeUnavailable      ErrorCode = "unavailable"        // 503: the agent is at its connection limit
	ErrCodeInternal         ErrorCode = "internal"           // 500
)

// AgentError is the JSON body of every answer that is not a success. As
// an error, it is what a client wraps when it reports the agent's refusal,
// so that callers can test the code with HasCode.
type AgentError struct {
	// Code is one of the ErrCode constants.
	Code ErrorCode `json:"error"`
	// Message says what went wrong and what to do, in one line.
	Message string `json:"message"`
}

// Error returns the message.
func (e *AgentError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("agent error %q", string(e.Code))
	}
	return e.Message
}

// HasCode reports whether err is, or wraps, an *AgentError with the given
// code: for example HasCode(err, ErrCodeBusy) when the agent refused a
// profile because one of that kind is being taken.
func HasCode(err error, code ErrorCode) bool {
	var ae *AgentError
	return errors.As(err, &ae) && ae.Code == code
}

// ProfileKind names a profile the agent can take. Its values are the
// lower-case words used on the wire (the "kind" parameter of
// EndpointProfile) and on the command line.
type ProfileKind string

// The kinds of profile.
const (
	// ProfileCPU is the on-CPU profile of runtime/pprof, sampled at 100
	// Hz. Only one runs in a process at a time.
	ProfileCPU ProfileKind = "cpu"
	// ProfileWall is fgprof's wall-clock profile: every goroutine,
	// running or blocked, sampled at 99 Hz.
	ProfileWall ProfileKind = "wall"
	// ProfileHeap is runtime/pprof's heap profile, as of the last GC.
	ProfileHeap ProfileKind = "heap"
	// ProfileGoroutine is runtime/pprof's goroutine profile: the stacks
	// of all current goroutines.
	ProfileGoroutine ProfileKind = "goroutine"
	// ProfileMutex is runtime/pprof's mutex profile over a span of time
	// (the difference between its state at the end and at the start):
	// where contended locks were released, and how long others waited.
	// The agent turns mutex profiling on for the span if it is off.
	ProfileMutex ProfileKind = "mutex"
	// ProfileBlock is runtime/pprof's block profile over a span of time:
	// where goroutines blocked on locks, channels, select and
	// sync.WaitGroup, and for how long. The agent turns block profiling
	// on for the span if the program does not profile blocking itself.
	ProfileBlock ProfileKind = "block"
)

// ProfileKinds lists every ProfileKind.
var ProfileKinds = []ProfileKind{ProfileCPU, ProfileWall, ProfileHeap, ProfileGoroutine, ProfileMutex, ProfileBlock}

// ParseProfileKind returns the kind named s, so that the agent and the
// command validate input the same way.
func ParseProfileKind(s string) (ProfileKind, error) {
	for _, k := range ProfileKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown profile kind %q (want cpu, wall, heap, goroutine, mutex or block)", s)
}

// Continuous reports whether k is gathered over a span of time (CPU,
// wall-clock, mutex, block) rather than read at one instant (heap,
// goroutine).
func (k ProfileKind) Continuous() bool {
	return k == ProfileCPU || k == ProfileWall || k == ProfileMutex || k == ProfileBlock
}

// String returns the kind's wire name.
func (k ProfileKind) String() string { return string(k) }
