package agent

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// machineCPU returns the CPU time every process of the machine has used
// (user, nice, system, irq, softirq and steal from /proc/stat) and the
// number of CPUs it lists; ok is false when /proc/stat cannot be read.
// Reading it costs one small file.
func machineCPU() (busy time.Duration, cpus int, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	f := bytes.Fields(first)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += n
	}
	for line := range bytes.Lines(rest) {
		if bytes.HasPrefix(line, []byte("cpu")) {
			cpus++
		}
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, cpus, true
}
