package agent

import (
	"io/fs"
	"math"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/httptop/httptop/snapshot"
)

const (
	// cpuSpan is the span the CPU per request is measured over, as
	// the hosts' rates are: the readings of up to the last 10 s.
	cpuSpan = 10 * time.Second
	// maxCPUReadings bounds the readings kept (they are at least
	// minProcessSample apart, so 10 s holds 50).
	maxCPUReadings = 64
	// cgroupEvery is how often the cgroup's CPU limit is read again: it
	// may change while the process runs, and reading it costs a few
	// small files.
	cgroupEvery = 10 * time.Second
)

// cpuReading is the process's CPU time and the requests its clients had
// completed (counted since the first reading) at one reading, with the
// Go runtime's cumulative GC and busy CPU seconds and its scheduling
// latency histogram.
type cpuReading struct {
	at       time.Time
	cpu      time.Duration
	reqs     int64
	gc, busy float64
	sched    []uint64
	// machine is the CPU time every process of the machine has used;
	// machineOK is false when it could not be read.
	machine   time.Duration
	machineOK bool
}

// cpuWindow measures what the process's HTTP requests cost of its CPU:
// its CPU time over the last readings divided by the requests completed
// meanwhile, and the cores it may use. It is not safe for concurrent use
// (processSampler holds its lock).
type cpuWindow struct {
	readings []cpuReading // oldest first
	// last holds each host's request count at the previous reading, by
	// client, scheme and host: hosts come and go (a collector forgets
	// idle ones), so requests are counted host by host.
	last map[hostID]int64
	reqs int64

	cgroupAt  time.Time
	cgroupFS  fs.FS // the root file system; nil on systems without cgroups
	cgroupCPU float64

	// machine reads the CPU time of every process of the machine and
	// its number of CPUs (machineCPU).
	machine func() (time.Duration, int, bool)
}

// hostID identifies a host across snapshots.
type hostID struct{ client, scheme, host string }

func newCPUWindow() *cpuWindow {
	w := &cpuWindow{last: map[hostID]int64{}, machine: machineCPU}
	if runtime.GOOS == "linux" {
		w.cgroupFS = os.DirFS("/")
	}
	return w
}

// count adds the requests hosts completed since the previous reading.
// A host not seen at the previous reading counts all its requests: it is
// new (or was forgotten and came back) since then, or this is the first
// reading, when every count is since the process started.
func (w *cpuWindow) count(hosts []snapshot.Host) {
	seen := make(map[hostID]int64, len(hosts))
	for i := range hosts {
		h := &hosts[i]
		if h.DialOnly {
			continue
		}
		id := hostID{h.Client, h.Scheme, h.Host}
		d := h.Requests
		if prev, ok := w.last[id]; ok && h.Requests >= prev {
			d -= prev
		}
		w.reqs += d
		seen[id] = h.Requests
	}
	w.last = seen
}

// read records a reading at now of the process's CPU time, hosts and the
// runtime's figures (rt, just read), and fills in p's figures over the
// window it closes.
func (w *cpuWindow) read(p *snapshot.Process, now time.Time, cpu time.Duration, cpuOK bool, hosts []snapshot.Host, rt *runtimeReader) {
	w.count(hosts)
	p.GOMAXPROCS = runtime.GOMAXPROCS(0)
	if w.cgroupFS != nil && (w.cgroupAt.IsZero() || now.Sub(w.cgroupAt) >= cgroupEvery) {
		w.cgroupCPU, _ = cgroupCPULimit(w.cgroupFS)
		w.cgroupAt = now
	}
	p.CPULimitCores = round2(w.cgroupCPU)
	p.Cores = usableCores(p.GOMAXPROCS, runtime.NumCPU(), w.cgroupCPU)
	if !cpuOK {
		return
	}
	base := cpuReading{at: processStart}
	keep := 0
	for i := len(w.readings) - 1; i >= 0; i-- {
		r := w.readings[i]
		if i < len(w.readings)-1 && now.Sub(r.at) > cpuSpan {
			break
		}
		base, keep = r, i
	}
	w.readings = w.readings[keep:]
	if n := len(w.readings); n >= maxCPUReadings {
		w.readings = w.readings[n-maxCPUReadings+1:]
	}
	r := cpuReading{at: now, cpu: cpu, reqs: w.reqs, gc: rt.nowGC, busy: rt.nowBusy, sched: slices.Clone(rt.nowSched)}
	if w.machine != nil {
		r.machine, p.MachineCPUs, r.machineOK = w.machine()
	}
	w.readings = append(w.readings, r)
	if d := rt.nowBusy - base.busy; d > 0 {
		p.WindowGCCPUPercent = round2(100 * min(max(rt.nowGC-base.gc, 0)/d, 1))
	}
	if rt.schedBuckets != nil {
		p.WindowSchedLatencyP99Ms = round2(1000 * histQuantile(rt.nowSched, base.sched, rt.schedBuckets, 0.99))
	}
	span := now.Sub(base.at)
	if span <= 0 || cpu < base.cpu {
		return
	}
	used, reqs := cpu-base.cpu, w.reqs-base.reqs
	p.CPUWindowSeconds = round2(span.Seconds())
	if r.machineOK && base.machineOK {
		p.OthersCores = round2(max((r.machine-base.machine)-used, 0).Seconds() / span.Seconds())
	}
	p.WindowCPUPercent = round2(100 * used.Seconds() / span.Seconds())
	p.RequestsPerSecond = round2(float64(reqs) / span.Seconds())
	if reqs > 0 && used > 0 {
		ms := used.Seconds() * 1000 / float64(reqs)
		p.CPUPerRequestMs = round4(ms)
		p.CeilingRPS = round2(p.Cores * 1000 / ms)
	}
}

// usableCores is the CPU a process may use: the least of GOMAXPROCS, the
// CPUs it may run on and its cgroup's limit (0: none).
func usableCores(gomaxprocs, cpus int, limit float64) float64 {
	c := float64(min(gomaxprocs, cpus))
	if limit > 0 {
		c = min(c, limit)
	}
	return round2(c)
}

// round4 rounds v to four decimals: CPU per request in milliseconds
// keeps its microseconds and a tenth.
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
