package agent

import (
	"bufio"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// TestCostMeter reports work to a meter as a stream does (so long every
// second) and checks the share of a core it reads back: the work's rate,
// from the first reports on, decaying once they stop.
func TestCostMeter(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		work  time.Duration // each second
		ticks int           // seconds of reports
		after time.Duration // read so long after the last
		want  float64
	}{
		{name: "no work", want: 0},
		{name: "5 ms a second for 10 minutes", work: 5 * time.Millisecond, ticks: 600, want: 0.005},
		// 15 ms from the start of the first to the end of the last,
		// 2.005 s: a stream that just started counts in full, and more.
		{name: "5 ms a second for 3 seconds", work: 5 * time.Millisecond, ticks: 3, want: 0.015 / 2.005},
		{name: "0.1 ms a second for 2 minutes", work: 100 * time.Microsecond, ticks: 120, want: 0.0001},
		{name: "a minute after the work stopped", work: 5 * time.Millisecond, ticks: 600, after: costTau, want: 0.005 / math.E},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m costMeter
			now := t0
			for i := range tt.ticks {
				now = t0.Add(time.Duration(i)*time.Second + tt.work)
				m.add(now, tt.work)
			}
			got := m.share(now.Add(tt.after))
			if math.Abs(got-tt.want) > 0.05*tt.want+1e-9 {
				t.Errorf("share %.5f%% of a core, want %.5f%%", 100*got, 100*tt.want)
			}
		})
	}
}

// TestWallShare checks how the budget is split: the rolling wall-clock
// profile gets what the snapshots and the CPU profile leave, within its
// bounds.
func TestWallShare(t *testing.T) {
	for _, tt := range []struct {
		spent, want float64
	}{
		{0, agentBudget - cpuProfileShare},
		{0.006, agentBudget - cpuProfileShare - 0.006},
		{agentBudget - cpuProfileShare - minWallShare/2, minWallShare},
		{0.02, minWallShare},
	} {
		if got := wallShare(tt.spent); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("snapshots at %.2f%%: the wall-clock profile gets %.3f%%, want %.3f%%", 100*tt.spent, 100*got, 100*tt.want)
		}
		if total := tt.spent + cpuProfileShare + wallShare(tt.spent); tt.spent+cpuProfileShare+minWallShare <= agentBudget && total > agentBudget+1e-9 {
			t.Errorf("snapshots at %.2f%%: %.2f%% in all, over the budget", 100*tt.spent, 100*total)
		}
	}
	if got := wallShare(0); got > flame.MaxWallShare {
		t.Errorf("share %g above flame's bound", got)
	}
}

// TestStreamReportsItsCost streams snapshots and checks that what they
// cost reaches the meter the wall-clock profiles are paced by.
func TestStreamReportsItsCost(t *testing.T) {
	a := startAgent(t, Options{NoDiscovery: true})
	c := newAgentClient(t, a)
	resp := c.do(t.Context(), "GET", snapshot.APIPath+"stream?interval=100ms", "Bearer "+a.Token(), nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 2 {
		if _, err := br.ReadBytes('\n'); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	// The second snapshot was reported before it was written.
	if got := a.handler.cost.share(time.Now()); !(got > 0) {
		t.Errorf("the meter reads %g after two snapshots, want their cost", got)
	}
}
