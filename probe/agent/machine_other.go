//go:build !linux

package agent

import "time"

// machineCPU reports that the machine's CPU time is not read here.
func machineCPU() (busy time.Duration, cpus int, ok bool) { return 0, 0, false }
