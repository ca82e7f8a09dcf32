package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/proftest"
	"github.com/httptop/httptop/snapshot"
)

// A CPU-bound program: 32 workers against a pool of 32 at 50 ms never
// wait for a connection, but the process uses 1.95 of its 2 cores at
// 2.1 ms of CPU per request, its goroutines wait 40 ms for a thread and
// the GC takes 30% of its CPU. The report must file the process's
// diagnoses apart, with the heap profile's allocation hot spots for
// gc_pressure, say the CPU is the limit in the verdict, and say next to
// the latency figures that they include the scheduler's wait.
func TestReportCPUBound(t *testing.T) {
	c := caseCapture(func(k int) snapshot.Host {
		return snapshot.Host{Client: "api", Scheme: "http", Host: "127.0.0.1:9000", Open: 32, Active: 32, InFlight: 32, PeakInFlight: 32,
			Requests: 930 * int64(k), RPS: 930, LimitsKnown: true, MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32,
			Latency: snapshot.Percentiles{Count: 9300, P50: 52, P95: 90}}
	}, snapshot.Point{Requests: 930, ReusedConns: 930, LatencyAvgMs: 34, HoldAvgMs: 34, AvgInFlight: 31.6}, nil)
	for k := range c.Snapshots {
		s := &c.Snapshots[k]
		s.Process = &snapshot.Process{GOMAXPROCS: 2, Cores: 2, CPUWindowSeconds: min(float64(k), 10), WindowCPUPercent: 195,
			WindowSchedLatencyP99Ms: 40, WindowGCCPUPercent: 30, RequestsPerSecond: 930, CPUPerRequestMs: 2.1, CeilingRPS: 952}
		s.Diagnoses = []snapshot.Diagnosis{
			{Kind: snapshot.KindCPUSaturated, Severity: snapshot.SeverityWarning, Summary: "cpu", Advice: "cut the CPU"},
			{Kind: snapshot.KindGCPressure, Severity: snapshot.SeverityWarning, Summary: "gc", Advice: "allocate less"},
		}
	}
	heap := proftest.Build([]*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}}, t0, 0, []proftest.Stack{
		{Frames: []string{"main.worker", "main.decode", "encoding/json.Unmarshal", "runtime.mallocgc"}, Count: 80},
		{Frames: []string{"main.worker", "main.sign", "runtime.mallocgc"}, Count: 20},
	})
	r := Build(c, capture.Profiles{Heap: heap})
	if len(r.ProcessDiagnoses) != 2 || len(r.OtherDiagnoses) != 0 || len(r.Hosts[0].Diagnoses) != 0 {
		t.Fatalf("process %d, other %d, host %d diagnoses; want the two of the process apart", len(r.ProcessDiagnoses), len(r.OtherDiagnoses), len(r.Hosts[0].Diagnoses))
	}
	var gc *Finding
	for i := range r.ProcessDiagnoses {
		if r.ProcessDiagnoses[i].Kind == snapshot.KindGCPressure {
			gc = &r.ProcessDiagnoses[i]
		}
	}
	if gc == nil || len(gc.Allocations) != 2 || gc.Allocations[0].Name != "main.decode" || gc.Allocations[0].Pct != 80 {
		t.Errorf("gc_pressure allocations = %+v, want main.decode (80%%) first", gc)
	}
	cpu := r.CPU
	if cpu == nil || cpu.Used.Median != 1.95 || cpu.CPUPerRequestMs != 2.1 || cpu.CeilingRPS != 952.381 || cpu.Snapshots != 10 {
		t.Fatalf("cpu = %+v, want 1.95 cores used, 2.1 ms per request, a ceiling of 952 req/s, from the 10 snapshots whose window lies in the capture", cpu)
	}
	lt := r.Hosts[0].Little
	// The only host: 2 cores at 2.1 ms each.
	if lt.CPUCeilingRPS != 952.4 {
		t.Errorf("host's CPU ceiling = %v, want 952.4", lt.CPUCeilingRPS)
	}
	t.Logf("verdict: %s", lt.Verdict)
	for _, want := range []string{"The pool of 32 is large enough", "The CPU is the limit now: the process used 1.95 of the 2 cores it may use, at 2.10ms of CPU per request"} {
		if !strings.Contains(lt.Verdict, want) {
			t.Errorf("verdict lacks %q", want)
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### The process", "Allocates the most (heap profile, alloc_space since the program started): `main.decode` 80.0%",
		"Goroutines waited up to 40.0ms for a thread (scheduler latency p99, median 40.0ms over the snapshots): every latency here includes that wait",
		"## CPU: the next bottleneck", `so the most it can issue is \~952 req/s. It is at that limit now.`,
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
