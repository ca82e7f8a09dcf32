//go:build !linux

package agent

import "errors"

// countFDs is unavailable here: readProcStat asks gopsutil instead.
func countFDs() (int, error) { return 0, errors.ErrUnsupported }
