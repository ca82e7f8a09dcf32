package agent

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// TestBottleneckCalibration measures, for every workload of
// bottleneck_fixtures_test.go, the figures the next-bottleneck
// diagnoses read, second by second: what the thresholds were set from.
// It runs only when HTTPTOP_BOTTLENECK_CALIBRATE is set (to the seconds
// each workload runs; 1 means 8):
//
//	HTTPTOP_BOTTLENECK_CALIBRATE=8 go test ./probe/agent -run BottleneckCalibration -v
func TestBottleneckCalibration(t *testing.T) {
	v := os.Getenv("HTTPTOP_BOTTLENECK_CALIBRATE")
	if v == "" {
		t.Skip("set HTTPTOP_BOTTLENECK_CALIBRATE to run the calibration")
	}
	secs := 8
	fmt.Sscan(v, &secs)
	if secs <= 1 {
		secs = 8
	}
	only := os.Getenv("HTTPTOP_WORKLOAD")
	for _, w := range workloads {
		if only != "" && only != w.name {
			continue
		}
		t.Run(w.name, func(t *testing.T) {
			col := probe.NewCollector(probe.CollectorOptions{})
			h := newHandler(col, "token", 0)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			w.run(ctx, t, col, &wg)
			tick := time.NewTicker(time.Second)
			for i := range secs {
				<-tick.C // the cadence of the measurement
				var s snapshot.Snapshot
				h.snapshot(ctx, &s)
				if i < 2 {
					continue // the window still reaches back before the workload
				}
				p := s.Process
				waiting, inflight := 0.0, 0
				for _, hs := range s.Hosts {
					waiting += hs.AvgWaiting
					inflight += hs.InFlight
				}
				var kinds []string
				for _, d := range s.Diagnoses {
					kinds = append(kinds, string(d.Kind))
				}
				t.Logf("%2ds cpu %5.1f%% window %5.1f%% of %.2f cores | gc %5.1f%% window %5.1f%% | sched p99 %7.2fms window %7.2fms | runnable %5d | rps %7.1f cpu/req %.4fms ceiling %6.0f | waiting %5.1f | others %.2f cores | %v",
					i+1, p.CPUPercent, p.WindowCPUPercent, p.Cores, p.GCCPUPercent, p.WindowGCCPUPercent, p.SchedLatencyP99Ms, p.WindowSchedLatencyP99Ms,
					p.RunnableGoroutines, p.RequestsPerSecond, p.CPUPerRequestMs, p.CeilingRPS, waiting, p.OthersCores, kinds)
			}
			tick.Stop()
			cancel()
			wg.Wait()
			runtime.GC()
		})
	}
}
