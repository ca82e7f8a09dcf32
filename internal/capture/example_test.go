package capture_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// agent stands for *agentclient.Client, which has the two methods of
// capture.Source.
type agent struct{}

func (agent) Snapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	return &snapshot.Snapshot{Version: snapshot.Version, Time: time.Now(), Program: "example"}, nil
}

func (agent) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("agent: %s profile: %w", kind, &snapshot.AgentError{Code: snapshot.ErrCodeBusy, Message: "busy"})
}

// How httptop capture drives Run: a countdown from Progress, Ctrl-C
// through ctx; the report (package report) is then built from what Run
// returns.
func ExampleRun() {
	ctx := context.Background() // signal.NotifyContext(..., os.Interrupt) in the CLI
	dir := capture.DefaultDir("example", 1234, time.Now())
	c, _, err := capture.Run(ctx, agent{}, capture.Options{
		Duration: 30 * time.Second,
		Dir:      dir,
		Target:   "1234",
		Progress: func(done, total time.Duration) {
			fmt.Fprintf(os.Stderr, "\rcapturing… %v left ", (total - done).Round(time.Second))
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "httptop:", err)
		return
	}
	if c.Canceled {
		fmt.Fprintln(os.Stderr, "interrupted: wrote what was gathered")
	}
	fmt.Println("wrote", dir+"/"+capture.CaptureFile)
}
