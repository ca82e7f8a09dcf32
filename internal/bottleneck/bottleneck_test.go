package bottleneck

import (
	"math"
	"strings"
	"testing"

	"github.com/httptop/httptop/snapshot"
)

// proc is a process of 2 cores over a 10 s window, at rest.
func proc(mod func(*snapshot.Process)) *snapshot.Process {
	p := &snapshot.Process{GOMAXPROCS: 2, Cores: 2, CPUWindowSeconds: 10, WindowCPUPercent: 20,
		RequestsPerSecond: 400, CPUPerRequestMs: 0.5, CeilingRPS: 4000, WindowSchedLatencyP99Ms: 0.3, WindowGCCPUPercent: 5}
	if mod != nil {
		mod(p)
	}
	return p
}

// TestDiagnose checks each rule on the figures measured in its healthy
// and sick fixtures (see the thresholds), and at its edges.
func TestDiagnose(t *testing.T) {
	waiting := []snapshot.Host{{Client: "c", Host: "h:80", AvgWaiting: 58}}
	tests := []struct {
		name  string
		p     *snapshot.Process
		hosts []snapshot.Host
		want  []snapshot.DiagnosisKind
	}{
		{"at rest", proc(nil), nil, nil},
		// The fixtures' figures.
		{"2 ms of CPU per request, pool 64", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RequestsPerSecond, p.CPUPerRequestMs, p.CeilingRPS = 197.5, 33.5, 925, 2.135, 937
		}), nil, []snapshot.DiagnosisKind{snapshot.KindCPUSaturated, snapshot.KindSchedulerLatency}},
		{"2 ms of CPU per request, pool 4", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RequestsPerSecond, p.CPUPerRequestMs = 68, 3.7, 301, 2.26
		}), waiting, nil},
		{"0.05 ms of CPU per request, pool 64", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RequestsPerSecond, p.CPUPerRequestMs = 68, 3.7, 4700, 0.14
		}), nil, nil},
		{"eight workers decoding JSON on 1.8 cores", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.WindowGCCPUPercent, p.CPUPerRequestMs = 180, 2.6, 10.7, 0.75
		}), nil, nil},
		{"10,000 runnable goroutines", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RunnableGoroutines, p.RequestsPerSecond, p.CPUPerRequestMs = 80, 134, 10000, 42, 19.7
		}), nil, []snapshot.DiagnosisKind{snapshot.KindSchedulerLatency}},
		{"allocation-heavy", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.WindowGCCPUPercent, p.CPUPerRequestMs = 84, 14.7, 31.4, 1.34
		}), nil, []snapshot.DiagnosisKind{snapshot.KindGCPressure}},
		// Edges.
		{"all the CPU, nothing queues", proc(func(p *snapshot.Process) { p.WindowCPUPercent = 199 }), nil, nil},
		{"all the CPU, requests wait for a connection", proc(func(p *snapshot.Process) { p.WindowCPUPercent = 199 }), waiting,
			[]snapshot.DiagnosisKind{snapshot.KindCPUSaturated}},
		{"all the CPU, no requests", proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RequestsPerSecond, p.CPUPerRequestMs = 199, 8, 0, 0
		}), nil, nil},
		{"a cgroup limit of 1.5 cores, used", proc(func(p *snapshot.Process) {
			p.CPULimitCores, p.Cores, p.WindowCPUPercent, p.WindowSchedLatencyP99Ms = 1.5, 1.5, 140, 6
		}), nil, []snapshot.DiagnosisKind{snapshot.KindCPUSaturated}},
		{"scheduler p99 just below", proc(func(p *snapshot.Process) { p.WindowSchedLatencyP99Ms = 20.97 }), nil, nil},
		{"scheduler p99 at the threshold", proc(func(p *snapshot.Process) { p.WindowSchedLatencyP99Ms = 25.17 }), nil,
			[]snapshot.DiagnosisKind{snapshot.KindSchedulerLatency}},
		{"GC share of an idle process", proc(func(p *snapshot.Process) { p.WindowCPUPercent, p.WindowGCCPUPercent = 3, 40 }), nil, nil},
		{"GC share just below", proc(func(p *snapshot.Process) { p.WindowCPUPercent, p.WindowGCCPUPercent = 100, 19.9 }), nil, nil},
	}
	for _, tt := range tests {
		got := Diagnose(&snapshot.Snapshot{Process: tt.p, Hosts: tt.hosts})
		var kinds []snapshot.DiagnosisKind
		for _, d := range got {
			kinds = append(kinds, d.Kind)
			if !d.Process() || d.Summary == "" || d.Advice == "" || len(d.Evidence) == 0 {
				t.Errorf("%s: %s = %+v, want a diagnosis of the process with summary, advice and evidence", tt.name, d.Kind, d)
			}
		}
		if strings.Join(kindNames(kinds), ",") != strings.Join(kindNames(tt.want), ",") {
			t.Errorf("%s: diagnoses %v, want %v", tt.name, kinds, tt.want)
		}
	}
	if got := Diagnose(&snapshot.Snapshot{}); got != nil {
		t.Errorf("a snapshot without process figures: %v, want none", got)
	}
}

func kindNames(ks []snapshot.DiagnosisKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// TestSchedulerLatencyCause: the scheduler's wait is the process's own
// doing when it uses its cores, the machine's when other processes take
// the CPUs, and bursts of the process's goroutines otherwise.
func TestSchedulerLatencyCause(t *testing.T) {
	for _, tt := range []struct {
		name         string
		used, others float64
		cpus         int
		want         string
	}{
		{"own", 1.98, 0, 2, "own goroutines fill the 2 cores"},
		{"machine", 0.95, 1.05, 2, "the machine is busy: its other processes used 1.05 of its 2 CPUs meanwhile, and this process only 0.95"},
		{"bursts", 0.8, 0.1, 2, "goroutines become runnable in bursts"},
		{"unknown machine", 0.8, 0, 0, "other processes or bursts of its own goroutines"},
	} {
		ds := Diagnose(&snapshot.Snapshot{Process: proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.OthersCores, p.MachineCPUs, p.WindowSchedLatencyP99Ms = tt.used*100, tt.others, tt.cpus, 84
		})})
		d := ds[len(ds)-1]
		if d.Kind != snapshot.KindSchedulerLatency || !strings.Contains(d.Summary, tt.want) {
			t.Errorf("%s: %s: %s, want it to say %q", tt.name, d.Kind, d.Summary, tt.want)
		}
	}
}

// TestApply: Apply completes pool advice with the CPU's limit and inserts
// the process's diagnoses by severity.
func TestApply(t *testing.T) {
	change := PoolChange{From: 4, To: 64, HoldMs: 21.8, RPS: 166, LatencyP95Ms: 399, ConnWaitP95Ms: 380}
	ev := map[string]float64{}
	change.Record(ev)
	advice := "Raise Transport.MaxConnsPerHost from 4 to at least 64. " + change.Expectation() + " If the server cannot take more connections, limit concurrency."
	s := &snapshot.Snapshot{
		Process: proc(func(p *snapshot.Process) {
			p.WindowCPUPercent, p.WindowSchedLatencyP99Ms, p.RequestsPerSecond, p.CPUPerRequestMs, p.CeilingRPS = 199, 84, 930, 2.15, 930
		}),
		Hosts: []snapshot.Host{{Client: "cpu", Host: "h:80", RPS: 930, AvgWaiting: 1}},
		Diagnoses: []snapshot.Diagnosis{
			{Kind: snapshot.KindPoolSaturated, Client: "cpu", Host: "h:80", Severity: snapshot.SeverityCritical, Advice: advice, Evidence: ev},
			{Kind: snapshot.KindIdleChurn, Client: "cpu", Host: "h:80", Severity: snapshot.SeverityWarning},
		},
	}
	Apply(s)
	var kinds []string
	for _, d := range s.Diagnoses {
		kinds = append(kinds, string(d.Kind)+"/"+string(d.Severity))
	}
	want := "pool_saturated/critical,cpu_saturated/critical,idle_churn/warning,scheduler_latency/warning"
	if strings.Join(kinds, ",") != want {
		t.Errorf("diagnoses %v, want %s", kinds, want)
	}
	d := s.Diagnoses[0]
	if !strings.Contains(d.Advice, "but the CPU binds first: at 2.15ms of CPU per request and 2 cores the process issues at most ~930 req/s") ||
		!strings.HasSuffix(d.Advice, "If the server cannot take more connections, limit concurrency.") || strings.Contains(d.Advice, "what would stop it") {
		t.Errorf("advice %q: want the CPU's limit in place of the pool's expectation", d.Advice)
	}
	if d.Evidence[EvidenceCPUCeiling] != 930.2 || d.Evidence[EvidenceExpectedRPS] != 930.2 {
		t.Errorf("evidence %v: want the ceiling (2 cores ÷ 2.15 ms) as the expected rate", d.Evidence)
	}
	// Applying again changes nothing: the advice names the ceiling
	// already.
	before := d.Advice
	Apply(s)
	if s.Diagnoses[0].Advice != before {
		t.Errorf("a second Apply changed the advice:\n%s\n%s", before, s.Diagnoses[0].Advice)
	}
}

// TestPoolChange: what a new pool size should bring, when the pool binds
// and when the CPU does.
func TestPoolChange(t *testing.T) {
	pool := PoolChange{From: 4, To: 64, HoldMs: 21.1, RPS: 188, LatencyP95Ms: 370, ConnWaitP95Ms: 340,
		CPUCeilingRPS: 6557, CPUPerRequestMs: 0.305, Cores: 2}
	if pool.CPUBinds() || math.Abs(pool.ExpectedRPS()-64*1000/21.1) > 1e-9 || pool.ExpectedP95Ms() != 30 {
		t.Errorf("pool-bound change: binds %v, %.1f req/s, p95 %.1f ms; want the pool's 3033 req/s and 370 − 340 ms", pool.CPUBinds(), pool.ExpectedRPS(), pool.ExpectedP95Ms())
	}
	if e := pool.Expectation(); !strings.Contains(e, "64 connections carry up to 3033 req/s (4 carry 190): expect up to that (now 188) and a p95 near 30.0ms (now 370ms)") ||
		!strings.Contains(e, "or the CPU beyond ~6557 req/s (305µs of CPU per request, 2 cores)") {
		t.Errorf("expectation %q", e)
	}
	cpu := PoolChange{From: 4, To: 64, HoldMs: 21.8, RPS: 166, LatencyP95Ms: 399, ConnWaitP95Ms: 380,
		CPUCeilingRPS: 867, CPUPerRequestMs: 2.3, Cores: 2}
	if !cpu.CPUBinds() || cpu.ExpectedRPS() != 867 || int(cpu.ExpectedMeanLatencyMs()) != 73 || cpu.ExpectedP95Ms() != 0 {
		t.Errorf("CPU-bound change: binds %v, %.1f req/s, mean latency %.1f ms, p95 %.1f; want the CPU's 867 req/s, 64 ÷ 867 s and no p95",
			cpu.CPUBinds(), cpu.ExpectedRPS(), cpu.ExpectedMeanLatencyMs(), cpu.ExpectedP95Ms())
	}
	if o := cpu.Outcome(); !strings.HasPrefix(o, "64 connections carry up to 2936 req/s at W = 21.8ms, but the CPU binds first") {
		t.Errorf("outcome %q", o)
	}
	unknown := PoolChange{From: 4, To: 32, HoldMs: 50, RPS: 80, LatencyP95Ms: 420, ConnWaitP95Ms: 370}
	if e := unknown.Expectation(); !strings.Contains(e, "or this process's CPU (the agent's snapshots say where it binds)") {
		t.Errorf("expectation without the CPU's figures %q", e)
	}
	if (PoolChange{}).Expectation() != "" {
		t.Error("a change without W expects something")
	}
}

func TestHostCeiling(t *testing.T) {
	// 2 cores at 2 ms per request: 1000 req/s, less the 150 other hosts
	// take.
	p := &snapshot.Process{Cores: 2, WindowCPUPercent: 50, CPUPerRequestMs: 2, RequestsPerSecond: 250}
	if got := HostCeiling(p, 150); got != 850 {
		t.Errorf("ceiling = %v, want 850", got)
	}
	if got := HostCeiling(p, 1500); got != 0 {
		t.Errorf("ceiling under others taking more than all = %v, want 0", got)
	}
	if HostCeiling(nil, 100) != 0 || HostCeiling(&snapshot.Process{Cores: 2}, 100) != 0 {
		t.Error("a ceiling without the figures")
	}
	hosts := []snapshot.Host{{Client: "a", Host: "x:80", RPS: 100}, {Client: "b", Host: "x:80", RPS: 50},
		{Client: "a", Host: "y:80", RPS: 25}, {Client: "u", Host: "z:80", RPS: 1000, DialOnly: true}}
	if got := OthersRPS(hosts, "a", "x:80"); got != 75 {
		t.Errorf("others' rate = %v, want 75 (dial-only hosts count none)", got)
	}
}
