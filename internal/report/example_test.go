package report_test

import (
	"fmt"

	"github.com/httptop/httptop/internal/report"
)

// A pool serving 80 req/s, each holding a connection for 50 ms, keeps
// λ·W = 4 connections busy on average. Four connections would be full all
// the time; the queueing model says how many keep waiting rare.
func ExamplePoolFor() {
	load := 80 * 0.050 // λ·W, in Erlangs
	n := report.PoolFor(load, report.TargetWaitProbability)
	fmt.Printf("pool of %d: P(wait) = %.1f%%, mean wait %.1f ms\n", n, 100*report.ErlangC(n, load), report.MeanWait(n, load, 50))
	fmt.Printf("pool of %d: P(wait) = %.1f%%, mean wait %.1f ms\n", 6, 100*report.ErlangC(6, load), report.MeanWait(6, load, 50))
	// Output:
	// pool of 9: P(wait) = 2.4%, mean wait 0.2 ms
	// pool of 6: P(wait) = 28.5%, mean wait 7.1 ms
}
