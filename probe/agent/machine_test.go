package agent

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// machineCPU returns the CPU time every process of the machine has used
// (user, nice, system, irq, softirq and steal from /proc/stat), and false
// where /proc/stat cannot be read. Tests that need the machine's CPU to
// themselves compare it with their own to see what others took.
func machineCPU() (time.Duration, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, true
}

// othersCPU measures the CPU the machine's other processes use.
type othersCPU struct {
	at          time.Time
	machine, me time.Duration
	ok          bool
}

// startOthers starts a measurement.
func startOthers() othersCPU {
	m, ok := machineCPU()
	me, err := readProcStat()
	return othersCPU{at: time.Now(), machine: m, me: me.cpu, ok: ok && err == nil}
}

// cores returns the cores other processes used on average since o
// started, and false when it cannot tell.
func (o othersCPU) cores() (float64, bool) {
	m, ok := machineCPU()
	me, err := readProcStat()
	if !o.ok || !ok || err != nil {
		return 0, false
	}
	wall := time.Since(o.at)
	return max((m-o.machine)-(me.cpu-o.me), 0).Seconds() / wall.Seconds(), true
}
