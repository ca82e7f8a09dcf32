package diff

import (
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/report"
	"github.com/httptop/httptop/snapshot"
)

// Version is the version of the diff.json format (Diff).
const Version = 1

// Diff compares two captures of a program, before and after a change, as
// diff.json holds it; diff.md and diff.html show the same figures. Build
// computes it from the two captures and their reports.
//
// Figures are the reports' own (report.Report), in the reports' units:
// milliseconds, per second, bytes. Code costs are per request (or per
// second, see CodeDiff.Per) in the profile's unit, nanoseconds.
type Diff struct {
	Version int  `json:"version"`
	Before  Side `json:"before"`
	After   Side `json:"after"`
	// Warnings say what makes the comparison weaker: captures of
	// different programs, a profile missing on one side, a --match rule
	// that matched nothing.
	Warnings []string `json:"warnings,omitempty"`
	// Noise says how "beyond noise" is decided.
	Noise Noise `json:"noise"`
	// Process is the program's load in each capture, for context; nil
	// when neither capture has it.
	Process *ProcessDiff `json:"process,omitempty"`
	// Hosts are the hosts of both captures, matched: the after report's
	// order, then hosts only the before capture had.
	Hosts []HostDiff `json:"hosts"`
	// OtherDiagnoses compares the diagnoses of hosts that no snapshot
	// listed (report.Report.OtherDiagnoses).
	OtherDiagnoses []DiagnosisDiff `json:"other_diagnoses,omitempty"`
	// CPU and Wall compare the code's cost per request; nil when either
	// capture lacks the profile.
	CPU  *CodeDiff `json:"cpu,omitempty"`
	Wall *CodeDiff `json:"wall,omitempty"`
}

// Side describes one of the two captures.
type Side struct {
	// Dir is the capture's directory as the user named it; Report links
	// to its report.html from the diff's directory (empty when unknown).
	Dir    string `json:"dir,omitempty"`
	Report string `json:"report,omitempty"`

	Program string    `json:"program"`
	PID     int       `json:"pid"`
	Target  string    `json:"target,omitempty"`
	Start   time.Time `json:"start"`
	// Seconds is the capture's length, Snapshots how many it took.
	Seconds     float64             `json:"seconds"`
	Snapshots   int                 `json:"snapshots"`
	Canceled    bool                `json:"canceled,omitempty"`
	ProfileMode capture.ProfileMode `json:"profile_mode"`
}

// ProcessDiff is the captured program's load in each capture, averaged
// over the snapshots that report it. It is context, not tested: a program
// that runs as fast as its CPU allows runs slower on a machine busy with
// other work, and its rates and latencies change with no change of its
// own; a changed CPU share with an unchanged CPU cost per request points
// at the machine.
type ProcessDiff struct {
	Before ProcessSide `json:"before"`
	After  ProcessSide `json:"after"`
}

// ProcessSide is the program's load in one capture: mean CPU (100 is
// one core), resident memory and goroutines; all 0 when no snapshot
// reported them.
type ProcessSide struct {
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   float64 `json:"rss_bytes"`
	Goroutines float64 `json:"goroutines"`
}

// Noise describes the test behind Metric.BeyondNoise.
type Noise struct {
	// Method names the test: "welch_t" (Welch's unequal-variances t-test
	// on the per-second values of each capture).
	Method string `json:"method"`
	// Alpha is the two-sided significance level; MinRelativeChange the
	// smallest change, as a fraction of the before figure, that is
	// flagged however significant.
	Alpha             float64 `json:"alpha"`
	MinRelativeChange float64 `json:"min_relative_change"`
	// Text explains it all in sentences, as diff.md and diff.html show
	// it.
	Text []string `json:"text"`
}

// Ways two hosts were matched (HostDiff.Match).
const (
	// MatchSame: the same client, scheme and host in both captures.
	MatchSame = "same"
	// MatchRule: a --match old=new rule paired them.
	MatchRule = "rule"
	// MatchAuto: the client had one host left unmatched in each capture,
	// so those two were paired.
	MatchAuto = "auto"
	// MatchBeforeOnly and MatchAfterOnly: no partner.
	MatchBeforeOnly = "before_only"
	MatchAfterOnly  = "after_only"
)

// HostDiff compares one client's traffic to one host across the two
// captures.
type HostDiff struct {
	Client string `json:"client"`
	// Label names the host as the diff shows it: the after capture's
	// name for it, with the before's when it differs.
	Label string `json:"label"`
	// Before and After are the host in each capture; one is nil for a
	// host only one capture has.
	Before *HostRef `json:"before,omitempty"`
	After  *HostRef `json:"after,omitempty"`
	// Match says how the two were paired: one of the Match constants.
	Match string `json:"match"`
	// Metrics are the host's figures before and after, in a fixed order;
	// empty for a host only one capture has.
	Metrics []Metric `json:"metrics"`
	// BeyondNoise counts the metrics whose change is beyond noise.
	BeyondNoise int `json:"beyond_noise"`
	// Diagnoses are the diagnoses either capture made for the host: the
	// ones that appeared or grew first, then those gone or receded, then
	// those that stayed.
	Diagnoses []DiagnosisDiff `json:"diagnoses"`
	// Little is the pool sizing of each report (Little's law, Erlang C),
	// nil on the side that lacks the host.
	Little LittleDiff `json:"little"`

	before, after *report.HostReport
}

// HostRef names a host in one capture.
type HostRef struct {
	Scheme string `json:"scheme"`
	Host   string `json:"host"`
	Label  string `json:"label"`
}

// Verdicts of a Metric.
const (
	// VerdictBetter and VerdictWorse: beyond noise, in the direction
	// that is better (or worse) for the figure.
	VerdictBetter = "better"
	VerdictWorse  = "worse"
	// VerdictChanged: beyond noise, for a figure that is neither better
	// higher nor lower (connections open), or a setting that changed
	// (the pool limit, which is exact).
	VerdictChanged = "changed"
	// VerdictNoise: tested, and the change is within noise or too small.
	VerdictNoise = "within noise"
	// VerdictSame: the figure is the same in both.
	VerdictSame = "unchanged"
	// VerdictUntested: a change, but one capture has too few seconds to
	// test it.
	VerdictUntested = "not tested"
)

// Metric is one figure of a host, before and after.
type Metric struct {
	// Key names the figure in diff.json ("latency_p50_ms"); Name is how
	// diff.md shows it ("p50"); Unit is ms, req/s, /s, bytes, fraction,
	// conns or empty for a mean count.
	Key  string `json:"key"`
	Name string `json:"name"`
	Unit string `json:"unit,omitempty"`
	// Before and After are the reports' figures and Change After −
	// Before; RelChange is Change ÷ Before, absent when Before is 0.
	Before    float64  `json:"before"`
	After     float64  `json:"after"`
	Change    float64  `json:"change"`
	RelChange *float64 `json:"rel_change,omitempty"`
	// Better says which way is better: "lower", "higher", or empty for
	// neither.
	Better string `json:"better,omitempty"`
	// Setting is true for a configuration value (the pool limit), which
	// is exact: any change is beyond noise and no test is made.
	Setting bool `json:"setting,omitempty"`
	// Test is the noise test behind BeyondNoise; nil for a setting or an
	// unchanged figure.
	Test *Test `json:"test,omitempty"`
	// BeyondNoise is true when the change is beyond the noise of the two
	// captures (see Noise); Verdict says it in a word (the Verdict
	// constants).
	BeyondNoise bool   `json:"beyond_noise"`
	Verdict     string `json:"verdict"`
}

// Test is Welch's t-test of one figure's basis: the per-second (or
// per-snapshot) values behind it in each capture.
type Test struct {
	// Basis says what values were tested ("per-second mean latency").
	Basis string `json:"basis"`
	// N, Mean and SD describe the values of each capture.
	NBefore    int     `json:"n_before"`
	NAfter     int     `json:"n_after"`
	MeanBefore float64 `json:"mean_before"`
	MeanAfter  float64 `json:"mean_after"`
	SDBefore   float64 `json:"sd_before"`
	SDAfter    float64 `json:"sd_after"`
	// T is the statistic, DF the Welch–Satterthwaite degrees of freedom
	// and P the two-sided p-value; all 0 when not tested.
	T  float64 `json:"t"`
	DF float64 `json:"df"`
	P  float64 `json:"p"`
	// MinChange is the smallest change of the figure that is flagged.
	MinChange float64 `json:"min_change"`
	// Note says why the change is not flagged although significant, or
	// why there was no test.
	Note string `json:"note,omitempty"`
}

// Statuses of a DiagnosisDiff.
const (
	// StatusAppeared and StatusGone: made in one capture only.
	StatusAppeared = "appeared"
	StatusGone     = "gone"
	// StatusGrew and StatusReceded: made in both, but in a share of the
	// snapshots larger (smaller) by at least half in the after capture.
	StatusGrew    = "grew"
	StatusReceded = "receded"
	// StatusStayed: made in both, in shares less than half apart.
	StatusStayed = "stayed"
)

// DiagnosisDiff is one diagnosis in either capture.
type DiagnosisDiff struct {
	Kind   snapshot.DiagnosisKind `json:"kind"`
	Client string                 `json:"client"`
	Host   string                 `json:"host"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// ShareBefore and ShareAfter are the fractions of the host's
	// snapshots that made the diagnosis; BeyondNoise is true when they
	// differ by at least half (a diagnosis made all along in one capture
	// and never, or in few snapshots, in the other).
	ShareBefore float64 `json:"share_before"`
	ShareAfter  float64 `json:"share_after"`
	BeyondNoise bool    `json:"beyond_noise"`
	// Before and After are the diagnosis as each report has it.
	Before *report.Finding `json:"before,omitempty"`
	After  *report.Finding `json:"after,omitempty"`
	// Evidence puts the figures behind the diagnosis side by side, by
	// name.
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one figure behind a diagnosis, before and after; nil where
// that capture's diagnosis did not have it.
type Evidence struct {
	Name   string   `json:"name"`
	Before *float64 `json:"before,omitempty"`
	After  *float64 `json:"after,omitempty"`
}

// LittleDiff is the pool sizing of a host in each report: Little's law,
// the M/M/N queue and the recommended pool.
type LittleDiff struct {
	Before *report.Little `json:"before,omitempty"`
	After  *report.Little `json:"after,omitempty"`
}

// CodeDiff compares the code's cost per request in the CPU (or
// wall-clock) profiles of the two captures.
type CodeDiff struct {
	Kind snapshot.ProfileKind `json:"kind"`
	// SampleType and Unit are the profiles' values (cpu, nanoseconds).
	SampleType string `json:"sample_type"`
	Unit       string `json:"unit"`
	// Per is what costs are divided by: "request" (the requests all
	// instrumented clients completed while the profile ran) or, when a
	// capture completed none, "second" (of profile).
	Per    string   `json:"per"`
	Before CodeSide `json:"before"`
	After  CodeSide `json:"after"`
	// Change is After.PerUnit − Before.PerUnit; RelChange that ÷
	// Before.PerUnit.
	Change    float64  `json:"change"`
	RelChange *float64 `json:"rel_change,omitempty"`
	// Views are the code tables, one per View (by package, by function),
	// each row's cost before and after, the largest changes first.
	Views []CodeView `json:"views"`
	// FlameGraph names the differential flame graph and ProfileBefore
	// and ProfileAfter the profiles scaled per request, for go tool pprof
	// -diff_base, in the diff's directory.
	FlameGraph    string `json:"flame_graph"`
	ProfileBefore string `json:"profile_before"`
	ProfileAfter  string `json:"profile_after"`

	// before and after are the captures' profiles, beforeIdx and
	// afterIdx the index of the sample type compared, and beforeScale and
	// afterScale what turns their values into costs per request.
	before, after           *profile.Profile
	beforeIdx, afterIdx     int
	beforeScale, afterScale float64
}

// CodeSide is one capture's profile in a CodeDiff.
type CodeSide struct {
	// Profile names the capture's profile file (cpu.pb.gz); Seconds is
	// the time it covers.
	Profile string  `json:"profile"`
	Seconds float64 `json:"seconds"`
	// Requests is the number of requests completed while the profile ran
	// (see CodeDiff.Per).
	Requests float64 `json:"requests"`
	// Total is the sum of the profile's values, PerUnit that divided by
	// Requests (or Seconds).
	Total   int64   `json:"total"`
	PerUnit float64 `json:"per_unit"`
}

// CodeView is one table of a CodeDiff.
type CodeView struct {
	// Name is the view's name ("package"), Title the table's heading.
	Name  string `json:"name"`
	Title string `json:"title"`
	// Order is the cost the rows are ranked by: flat or cum (OrderFlat,
	// OrderCum).
	Order string `json:"order"`
	// Rows are the parts whose cost changed most, the largest change of
	// the Order cost first.
	Rows []CodeRow `json:"rows"`
}

// CodeRow is one part of the program (a function, a package) in a
// CodeView: its flat cost (samples whose leaf is in it) and cumulative
// cost (samples with it anywhere on the stack), per request, before and
// after.
type CodeRow struct {
	Name       string  `json:"name"`
	FlatBefore float64 `json:"flat_before"`
	FlatAfter  float64 `json:"flat_after"`
	FlatChange float64 `json:"flat_change"`
	CumBefore  float64 `json:"cum_before"`
	CumAfter   float64 `json:"cum_after"`
	CumChange  float64 `json:"cum_change"`
	// RelChange is the change of the cost the table is ranked by,
	// relative to its before value; absent when that is 0.
	RelChange *float64 `json:"rel_change,omitempty"`
}
