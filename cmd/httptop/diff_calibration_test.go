package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
)

// TestDiffNoiseCalibration measures what the noise thresholds of package
// diff rest on: eight 5 s captures of each of four unchanged workloads,
// every pair of them diffed. The saturated pool, the pool of 32 and the
// JSON client waiting on its server must flag nothing in any pair; the
// CPU-bound JSON client is only logged, since on a machine busy with
// other work its req/s follows the CPU it is given. It takes about four
// minutes, so it runs only with HTTPTOP_DIFF_CALIBRATE set to a directory
// for the captures:
//
//	HTTPTOP_DIFF_CALIBRATE=/tmp/cal go test ./cmd/httptop -run DiffNoiseCalibration -v -timeout 30m
func TestDiffNoiseCalibration(t *testing.T) {
	work := os.Getenv("HTTPTOP_DIFF_CALIBRATE")
	if work == "" {
		t.Skip("set HTTPTOP_DIFF_CALIBRATE to a directory to measure the diff's false alarms (about four minutes)")
	}
	const captures = 8
	run := func(name string, strict bool, start func() *phase) {
		p := start()
		var dirs []string
		for i := range captures {
			d := filepath.Join(work, fmt.Sprintf("%s-%d", name, i))
			captureTo(t, d)
			dirs = append(dirs, d)
		}
		p.stop()
		pairs, flags := 0, 0
		for i := range dirs {
			for j := i + 1; j < len(dirs); j++ {
				d, _ := runDiff(t, dirs[i], dirs[j], filepath.Join(work, fmt.Sprintf("diff-%s-%d-%d", name, i, j)))
				pairs++
				if f := flagged(d); len(f) > 0 {
					flags++
					t.Logf("%s %d→%d: %q (process %+v)", name, i, j, f, d.Process)
				}
			}
		}
		t.Logf("%s: %d of %d pairs flagged something", name, flags, pairs)
		if strict && flags > 0 {
			t.Errorf("%s: %d of %d pairs of captures of the same workload flagged a change", name, flags, pairs)
		}
	}
	server := func(b fixtures.Behavior) *fixtures.Server {
		srv, err := fixtures.NewServer(fixtures.Options{Defaults: b})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	slow := server(fixtures.Behavior{Size: 100, Latency: 50 * time.Millisecond})
	run("pool4", true, func() *phase { return startPhase(t, poolWorkload(slow, 4), served(slow, 96)) })
	run("pool32", true, func() *phase { return startPhase(t, poolWorkload(slow, 32), served(slow, 128)) })
	js := server(fixtures.Behavior{Latency: 50 * time.Millisecond})
	run("json", true, func() *phase { return startPhase(t, jsonWorkload(js, 64<<10), served(js, 50)) })
	cpu := server(fixtures.Behavior{})
	run("json-cpu-bound", false, func() *phase { return startPhase(t, jsonWorkload(cpu, 64<<10), served(cpu, 50)) })
}
