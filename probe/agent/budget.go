package agent

import (
	"math"
	"sync"
	"time"

	"github.com/httptop/httptop/flame"
)

// What watching a program may cost it. A dashboard at 1 s with its hot
// functions pane on screen asks the agent for a stream of snapshots and,
// side by side, rolling CPU and wall-clock profiles; together they may
// take agentBudget of one core. The snapshots cost what the program's
// connections make them cost (about 0.6% of a core for 10,000, the TCP
// table's readings included, bounded on their own by tcpCostFactor), and
// so does the CPU profile (a fixed price per profile: the runtime's
// buffers and their garbage, cpuProfileShare). The wall-clock profile is
// the one whose cost can be chosen, by how often it samples: it gets what
// the others leave (wallShare), measured as they run, so that a program
// of 100 connections is sampled at the rate asked and one of 10,000
// less often, for the same picture at a lower resolution (the profile
// says how many samples it holds, see flame.WallSamples).
const (
	// agentBudget is the share of a core the agent may cost a program
	// watched by a dashboard with its hot functions pane on screen: 1%,
	// less a tenth of it for what the meter does not see (the TCP
	// table's reading, hundreds of seconds apart at 10,000 connections,
	// and the collections the agent's garbage brings forward), so that
	// the whole stays within 1% over any window (BenchmarkAgentCost: up
	// to 1.02% in 60 s windows with the whole 1% given out).
	agentBudget = 0.009
	// cpuProfileShare is what the dashboard's rolling CPU profiles cost
	// (agentclient.RollingDuration, 4 s, each, back to back): starting
	// and stopping runtime/pprof's profiler, building and sending the
	// profile (0.03% of a core), and the collections its garbage brings
	// forward (about 2.5 MB a profile: the runtime's 1 MB buffer, a
	// compressor; a collection of a program whose heap is 230 MB and
	// 30,000 goroutines costs it a quarter of a second of CPU, so 0.6 MB
	// a second costs it 0.07% of a core; BenchmarkAgentCost).
	cpuProfileShare = 0.001
	// minWallShare is the least the rolling wall-clock profiles get when
	// the snapshots take the whole budget: a sample every few minutes
	// for a program of 30,000 goroutines, rather than none.
	minWallShare = 0.0002
	// costTau is the time constant of the snapshots' measured cost: long
	// enough to spread a reading of the TCP table (up to 100 ms) over
	// many samples of the wall-clock profile.
	costTau = time.Minute
)

// wallShare returns the share of a core the next rolling wall-clock
// profile may take: what the snapshots (spent) and the CPU profile leave
// of the budget, between minWallShare and flame.MaxWallShare.
func wallShare(spent float64) float64 {
	return min(max(agentBudget-cpuProfileShare-spent, minWallShare), flame.MaxWallShare)
}

// costMeter measures the share of a core some recurring work takes: the
// time it reports, decayed with time constant costTau. It reads the time
// the work took on the clock, which is its CPU time when the work does
// not wait (the snapshots do not) and more on a loaded machine: the
// wall-clock profile then gets less, not more.
type costMeter struct {
	mu    sync.Mutex
	first time.Time // of the first report
	at    time.Time // of the last report or reading
	rate  float64   // cores, decayed to at
}

// add reports that work ending at now took d.
func (m *costMeter) add(now time.Time, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.first.IsZero() {
		m.first = now.Add(-d)
		m.at = now
	}
	m.decay(now)
	m.rate += d.Seconds() / costTau.Seconds()
}

// share returns the share of a core the work took lately: its rate over
// about the last costTau, and over the time since the first report when
// that is shorter (so that a stream that just started counts in full); 0
// before any report.
func (m *costMeter) share(now time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.first.IsZero() {
		return 0
	}
	m.decay(now)
	// A rate that started from zero t ago has reached 1-exp(-t/τ) of
	// its true value.
	t := now.Sub(m.first).Seconds()
	if t <= 0 {
		return m.rate
	}
	return m.rate / -math.Expm1(-t/costTau.Seconds())
}

// decay brings rate from at to now.
func (m *costMeter) decay(now time.Time) {
	if dt := now.Sub(m.at); dt > 0 {
		m.rate *= math.Exp(-dt.Seconds() / costTau.Seconds())
		m.at = now
	}
}
