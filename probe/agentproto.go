package probe

import (
	"runtime/debug"
	"time"
)

// The agent protocol: HTTP and JSON under APIPath. docs/protocol.md
// describes it; these are the names both ends share.
const (
	// ProtocolVersion is the version of the agent protocol this package
	// serves. It is in APIPath, in the ProtocolHeader of every answer and
	// in AgentInfo; a change that is not purely additive bumps it.
	ProtocolVersion = 1
	// APIPath is the path under which the agent serves the protocol. A
	// program mounting Handler on its own mux mounts it here.
	APIPath = "/debug/httptop/v1/"
	// ProtocolHeader is the response header carrying ProtocolVersion on
	// every answer, errors included, so that a client tells an httptop
	// agent (of any version) from whatever else answers on a port.
	ProtocolHeader = "Httptop-Protocol"
	// AgentName is the value of AgentInfo.Agent.
	AgentName = "httptop"
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
	// once unless AgentOptions.MaxStreams says otherwise.
	DefaultMaxStreams = 8
)

// AgentInfo is the agent's answer to APIPath+"info": who it is and what it
// speaks.
type AgentInfo struct {
	// Agent is always AgentName.
	Agent string `json:"agent"`
	// Protocol is ProtocolVersion.
	Protocol int `json:"protocol"`
	// SnapshotVersion is the snapshot format version (snapshot.Version).
	SnapshotVersion int `json:"snapshot_version"`
	// Version is the httptop module version the program was built with
	// ("devel" when unknown), GoVersion the Go release.
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
	PID       int    `json:"pid"`
	Program   string `json:"program"`
	// Started is when the agent (or Handler) started.
	Started time.Time   `json:"started"`
	Limits  AgentLimits `json:"limits"`
}

// AgentLimits are the bounds the agent applies, so that a client can tell
// its user before asking.
type AgentLimits struct {
	MinIntervalMs     int64    `json:"min_interval_ms"`
	MaxIntervalMs     int64    `json:"max_interval_ms"`
	MaxProfileSeconds float64  `json:"max_profile_s"`
	MaxStreams        int      `json:"max_streams"`
	ProfileKinds      []string `json:"profile_kinds"`
	OneProfileAtATime bool     `json:"one_profile_at_a_time"`
}

// AgentError is the JSON body of every answer that is not a success.
type AgentError struct {
	// Code is one of the ErrCode constants.
	Code    string `json:"error"`
	Message string `json:"message"`
}

// Codes of AgentError, with the HTTP status each comes with.
const (
	ErrCodeBadRequest       = "bad_request"        // 400
	ErrCodeUnauthorized     = "unauthorized"       // 401
	ErrCodeNotFound         = "not_found"          // 404
	ErrCodeMethodNotAllowed = "method_not_allowed" // 405
	ErrCodeBusy             = "busy"               // 409: a CPU or wall profile is being taken
	ErrCodeProfilerInUse    = "profiler_in_use"    // 409: the program runs its own CPU profile
	ErrCodeBodyNotAllowed   = "body_not_allowed"   // 413
	ErrCodeTooManyStreams   = "too_many_streams"   // 429
	ErrCodeInternal         = "internal"           // 500
)

// moduleVersion is the version of the httptop module linked into the
// program, or "devel".
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	const path = "github.com/httptop/httptop"
	if bi.Main.Path == path {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return "devel"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return "devel"
}
