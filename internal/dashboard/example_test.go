package dashboard_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/snapshot"
)

// oneShot is a Source with one snapshot: it hands it over, then ends the
// dashboard. A real Source is the agent client.
type oneShot struct{ stop context.CancelFunc }

func (o oneShot) Stream(ctx context.Context, _ time.Duration, fn func(*snapshot.Snapshot) error) error {
	err := fn(&snapshot.Snapshot{Version: snapshot.Version, PID: 4242, Program: "checkout-svc",
		Hosts: []snapshot.Host{{Client: "default", Scheme: "https", Host: "api.example.com:443", Open: 4, Active: 4, Waiting: 28}}})
	if err != nil {
		return err
	}
	o.stop() // a user would press q
	<-ctx.Done()
	return ctx.Err()
}

func (oneShot) Profile(context.Context, snapshot.ProfileKind, time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("profiling is not available in this example")
}

func ExampleRun() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := dashboard.Run(ctx, dashboard.Options{
		Source:   oneShot{stop: cancel},
		Interval: time.Second,
		Title:    "pid 4242",
		// Leave Screen nil to draw on the terminal.
		Screen: tcell.NewSimulationScreen("UTF-8"),
	})
	fmt.Println("dashboard closed:", err)
	// Output: dashboard closed: <nil>
}
