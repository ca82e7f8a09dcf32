package bottleneck

import (
	"fmt"
	"math"
	"strconv"

	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
)

// PoolChange is advice to raise one host's pool (MaxConnsPerHost) from
// From to To, with the figures of now that say what it should bring: every
// advice naming a new pool size says what it expects to gain (req/s, p95)
// and what would stop it, so that its user can check it after the change.
type PoolChange struct {
	From, To int
	// HoldMs is W, the mean time a request holds its connection.
	HoldMs float64
	// RPS is the host's request rate now; LatencyP95Ms and ConnWaitP95Ms
	// its latency and connection wait p95.
	RPS           float64
	LatencyP95Ms  float64
	ConnWaitP95Ms float64
	// CPUCeilingRPS is the most requests per second the host can reach
	// with the CPU the process may use, the rest of its traffic as now
	// (HostCeiling); 0 when unknown (a snapshot without the process's
	// figures). CPUPerRequestMs and Cores are what it was computed from.
	CPUCeilingRPS   float64
	CPUPerRequestMs float64
	Cores           float64
	// CPUBreakdown, when set, says what the CPU per request goes to
	// ("of which 62% is main.sign", from a CPU profile). It is not
	// recorded in evidence.
	CPUBreakdown string
}

// Evidence names under which a pool diagnosis keeps its PoolChange, so
// that what completes the advice later (Apply, with the process's
// figures) rebuilds it exactly.
const (
	EvidenceRecommended  = "recommended_n"
	EvidenceLimit        = "max_conns_per_host"
	EvidenceHold         = "service_ms"
	EvidenceRPS          = "rps"
	EvidenceLatencyP95   = "latency_p95_ms"
	EvidenceConnWaitP95  = "conn_wait_p95_ms"
	EvidenceExpectedRPS  = "expected_rps"
	EvidenceExpectedP95  = "expected_p95_ms"
	EvidenceExpectedMean = "expected_mean_latency_ms"
	EvidenceCPUCeiling   = "cpu_ceiling_rps"
	EvidenceCPUPerReqMs  = "cpu_per_request_ms"
	EvidenceCoresUsable  = "cores"
)

// PoolChangeOf rebuilds the PoolChange a diagnosis' evidence holds (see
// Record); ok is false when it holds none.
func PoolChangeOf(ev map[string]float64) (c PoolChange, ok bool) {
	to, ok1 := ev[EvidenceRecommended]
	from, ok2 := ev[EvidenceLimit]
	w, ok3 := ev[EvidenceHold]
	if !ok1 || !ok2 || !ok3 {
		return c, false
	}
	return PoolChange{
		From: int(from), To: int(to), HoldMs: w, RPS: ev[EvidenceRPS],
		LatencyP95Ms: ev[EvidenceLatencyP95], ConnWaitP95Ms: ev[EvidenceConnWaitP95],
		CPUCeilingRPS: ev[EvidenceCPUCeiling], CPUPerRequestMs: ev[EvidenceCPUPerReqMs], Cores: ev[EvidenceCoresUsable],
	}, true
}

// Record writes c into a diagnosis' evidence, with what it expects.
func (c PoolChange) Record(ev map[string]float64) {
	ev[EvidenceRecommended] = float64(c.To)
	ev[EvidenceLimit] = float64(c.From)
	ev[EvidenceHold] = c.HoldMs
	ev[EvidenceRPS] = c.RPS
	ev[EvidenceLatencyP95] = c.LatencyP95Ms
	ev[EvidenceConnWaitP95] = c.ConnWaitP95Ms
	ev[EvidenceExpectedRPS] = round1(c.ExpectedRPS())
	delete(ev, EvidenceExpectedP95)
	delete(ev, EvidenceExpectedMean)
	if c.CPUBinds() {
		ev[EvidenceExpectedMean] = round1(c.ExpectedMeanLatencyMs())
	} else {
		ev[EvidenceExpectedP95] = round1(c.ExpectedP95Ms())
	}
	if c.CPUCeilingRPS > 0 {
		ev[EvidenceCPUCeiling] = c.CPUCeilingRPS
		ev[EvidenceCPUPerReqMs] = c.CPUPerRequestMs
		ev[EvidenceCoresUsable] = c.Cores
	}
}

// PoolRPS is what To connections carry at W each: To ÷ W.
func (c PoolChange) PoolRPS() float64 {
	if c.HoldMs <= 0 {
		return 0
	}
	return float64(c.To) * 1000 / c.HoldMs
}

// CPUBinds reports whether the CPU limits the host before the new pool
// does.
func (c PoolChange) CPUBinds() bool {
	return c.CPUCeilingRPS > 0 && c.CPUCeilingRPS < c.PoolRPS()
}

// ExpectedRPS is the request rate the change should reach: what the new
// pool carries, or the CPU's ceiling when that is lower.
func (c PoolChange) ExpectedRPS() float64 {
	if c.CPUBinds() {
		return c.CPUCeilingRPS
	}
	return c.PoolRPS()
}

// ExpectedP95Ms is the p95 latency the change should bring once no
// request waits for a connection: the p95 of now less the p95 of the
// wait, and at least W. It is 0 when the CPU binds: requests then wait
// for it instead, which says nothing of the tail (see
// ExpectedMeanLatencyMs).
func (c PoolChange) ExpectedP95Ms() float64 {
	if c.CPUBinds() {
		return 0
	}
	return max(c.LatencyP95Ms-c.ConnWaitP95Ms, c.HoldMs)
}

// ExpectedMeanLatencyMs is, when the CPU binds, the mean latency Little's
// law gives the requests in flight (To) at the rate the CPU allows; 0
// when the pool binds.
func (c PoolChange) ExpectedMeanLatencyMs() float64 {
	if !c.CPUBinds() {
		return 0
	}
	return float64(c.To) * 1000 / c.CPUCeilingRPS
}

// Expectation says in a few sentences what the change should bring and
// what would stop it, as pool advice ends. It is "" without W.
func (c PoolChange) Expectation() string {
	if c.HoldMs <= 0 {
		return ""
	}
	return fmt.Sprintf("Each request holds its connection %s on average, so %d connections carry up to %s req/s (%d carry %s)",
		units.Ms(c.HoldMs), c.To, rate(c.PoolRPS()), c.From, rate(float64(c.From)*1000/c.HoldMs)) + c.outcome()
}

// Outcome is Expectation for a text that has already said what W is: "32
// connections carry up to 640 req/s at W = 50.0ms, but the CPU binds
// first: …".
func (c PoolChange) Outcome() string {
	if c.HoldMs <= 0 {
		return ""
	}
	return fmt.Sprintf("%d connections carry up to %s req/s at W = %s", c.To, rate(c.PoolRPS()), units.Ms(c.HoldMs)) + c.outcome()
}

// outcome ends Expectation and Outcome: what to expect, and what would
// stop it.
func (c PoolChange) outcome() string {
	if c.CPUBinds() {
		per := units.Ms(c.CPUPerRequestMs) + " of CPU per request"
		if c.CPUBreakdown != "" {
			per += " (" + c.CPUBreakdown + ")"
		}
		return fmt.Sprintf(", but the CPU binds first: at %s and %s the process issues at most ~%s req/s to this host (its other traffic as now). "+
			"Expect about %s req/s (now %s) and a mean latency near %s (Little's law: %d in flight ÷ %s req/s; p95 now %s): the wait moves from the pool to the CPU. "+
			"To go further, cut the CPU each request costs (the hot functions show where it goes).",
			per, cores(c.Cores), rate(c.CPUCeilingRPS),
			rate(c.CPUCeilingRPS), rate(c.RPS), units.Ms(c.ExpectedMeanLatencyMs()), c.To, rate(c.CPUCeilingRPS), units.Ms(c.LatencyP95Ms))
	}
	s := fmt.Sprintf(": expect up to that (now %s) and a p95 near %s (now %s) once no request waits. "+
		"What would stop it: the server slowing down under more concurrent requests (W grows)",
		rate(c.RPS), units.Ms(c.ExpectedP95Ms()), units.Ms(c.LatencyP95Ms))
	if c.CPUCeilingRPS > 0 {
		return s + fmt.Sprintf(", or the CPU beyond ~%s req/s (%s of CPU per request, %s).", rate(c.CPUCeilingRPS), units.Ms(c.CPUPerRequestMs), cores(c.Cores))
	}
	return s + ", or this process's CPU (the agent's snapshots say where it binds)."
}

// HostCeiling is the most requests per second one host can reach with
// the CPU the process may use while the rest of its traffic stays as it
// is: the process's ceiling (Process.Cores at Process.CPUPerRequestMs
// each) less what its other hosts take (othersRPS, their request rates
// summed). It is 0 when p lacks the figures.
func HostCeiling(p *snapshot.Process, othersRPS float64) float64 {
	if p == nil || p.CPUPerRequestMs <= 0 || p.Cores <= 0 {
		return 0
	}
	return round1(max(p.Cores*1000/p.CPUPerRequestMs-othersRPS, 0))
}

// OthersRPS is the request rate of every host of hosts but the one of
// client and host (dial-only hosts, whose requests are not seen, count
// none).
func OthersRPS(hosts []snapshot.Host, client, host string) float64 {
	var sum float64
	for i := range hosts {
		h := &hosts[i]
		if !h.DialOnly && (h.Client != client || h.Host != host) {
			sum += h.RPS
		}
	}
	return sum
}

// rate formats a request rate: whole numbers, one decimal below 10.
func rate(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// cores formats a number of cores: "2 cores", "1.5 cores", "1 core".
func cores(c float64) string {
	s := strconv.FormatFloat(c, 'f', -1, 64)
	if c == 1 {
		return s + " core"
	}
	return s + " cores"
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
