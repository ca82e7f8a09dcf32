package agent

import (
	"runtime"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// TestCPUWindow feeds the window readings of known CPU time and request
// counts: the CPU per request is the CPU between the window's first
// reading and now over the requests in between, counted host by host
// however hosts come and go.
func TestCPUWindow(t *testing.T) {
	w := &cpuWindow{last: map[hostID]int64{}}
	rt := &runtimeReader{}
	host := func(client string, reqs int64) snapshot.Host {
		return snapshot.Host{Client: client, Scheme: "http", Host: "h:80", Requests: reqs}
	}
	at := func(s float64) time.Time { return processStart.Add(time.Duration(s * float64(time.Second))) }
	read := func(s float64, cpu time.Duration, hosts ...snapshot.Host) snapshot.Process {
		var p snapshot.Process
		w.read(&p, at(s), cpu, true, hosts, rt)
		return p
	}

	// The first reading covers the process's life: 4 s of CPU and 100
	// requests in 20 s.
	p := read(20, 4*time.Second, host("a", 100))
	if p.CPUWindowSeconds != 20 || p.WindowCPUPercent != 20 || p.RequestsPerSecond != 5 || p.CPUPerRequestMs != 40 {
		t.Errorf("first reading: %+v, want 20 s, 20%%, 5 req/s, 40 ms", p)
	}
	if p.GOMAXPROCS != runtime.GOMAXPROCS(0) || p.Cores <= 0 || p.CeilingRPS != p.Cores*1000/40 {
		t.Errorf("first reading: GOMAXPROCS %d, cores %v, ceiling %v", p.GOMAXPROCS, p.Cores, p.CeilingRPS)
	}
	// A second later: 100 more of a, 50 of a new client, 0.5 s of CPU.
	p = read(21, 4500*time.Millisecond, host("a", 200), host("b", 50))
	if p.CPUWindowSeconds != 1 || p.WindowCPUPercent != 50 || p.RequestsPerSecond != 150 || p.CPUPerRequestMs != 3.3333 {
		t.Errorf("second reading: %+v, want 1 s, 50%%, 150 req/s, 3.33 ms", p)
	}
	// a is forgotten (its count drops out), comes back with 10: those
	// 10 count, and b's 50 more.
	p = read(22, 5*time.Second, host("b", 100))
	p = read(23, 5500*time.Millisecond, host("a", 10), host("b", 100))
	if p.CPUWindowSeconds != 3 || p.RequestsPerSecond != 70 {
		t.Errorf("after a host came back: %+v, want 210 requests over 3 s", p)
	}
	// Readings reach back at most 10 s.
	for s := 24.0; s <= 40; s++ {
		p = read(s, time.Duration(s*float64(time.Second)/4), host("a", 10), host("b", 100))
	}
	if p.CPUWindowSeconds != 10 || p.WindowCPUPercent != 25 || p.RequestsPerSecond != 0 || p.CPUPerRequestMs != 0 || p.CeilingRPS != 0 {
		t.Errorf("after 17 idle readings: %+v, want a 10 s window of 25%% CPU and no requests", p)
	}
	if len(w.readings) > 12 {
		t.Errorf("%d readings kept, want those of the last 10 s", len(w.readings))
	}
	// Without a CPU reading, the window keeps its readings.
	var q snapshot.Process
	w.read(&q, at(41), 0, false, nil, rt)
	if q.CPUWindowSeconds != 0 || q.GOMAXPROCS == 0 {
		t.Errorf("no CPU reading: %+v, want the cores and no window", q)
	}
}

// TestCPUWindowOthers: what the machine's other processes used over the
// window is the machine's CPU time less the process's.
func TestCPUWindowOthers(t *testing.T) {
	machine := 10 * time.Second
	w := &cpuWindow{last: map[hostID]int64{}, machine: func() (time.Duration, int, bool) { return machine, 2, true }}
	at := func(s float64) time.Time { return processStart.Add(time.Duration(s * float64(time.Second))) }
	var p snapshot.Process
	w.read(&p, at(10), 3*time.Second, true, nil, &runtimeReader{})
	if p.MachineCPUs != 2 || p.OthersCores != 0 {
		t.Errorf("first reading: %d CPUs, others %v; want 2 and nothing known of others", p.MachineCPUs, p.OthersCores)
	}
	// 2 s later: the machine used 3 s, the process 1 of them.
	machine += 3 * time.Second
	w.read(&p, at(12), 4*time.Second, true, nil, &runtimeReader{})
	if p.OthersCores != 1 {
		t.Errorf("others = %v cores, want (3 s − 1 s) ÷ 2 s = 1", p.OthersCores)
	}
}

func TestMachineCPU(t *testing.T) {
	busy, cpus, ok := machineCPU()
	if runtime.GOOS != "linux" {
		if ok {
			t.Errorf("machineCPU on %s: %v, %d", runtime.GOOS, busy, cpus)
		}
		return
	}
	if !ok || busy <= 0 || cpus < runtime.NumCPU() {
		t.Errorf("machineCPU = %v, %d CPUs, %v; want the machine's CPU time and at least the %d CPUs this process may use", busy, cpus, ok, runtime.NumCPU())
	}
}
