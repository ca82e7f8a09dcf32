package dashboard

import (
	"os"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/agentclient"
)

// Options configure Run. Only Source is required.
type Options struct {
	// Source supplies snapshots and profiles. Required.
	Source Source
	// Interval is how often the source is asked for a snapshot; 0 means
	// one second.
	Interval time.Duration
	// Title describes the target in the header, for example the agent's
	// address ("pid 4242 via /tmp/httptop/4242.sock"). TitleFunc, when
	// set, is asked instead at every frame: the target may change (a
	// program restarted under a new pid and port).
	Title     string
	TitleFunc func() string
	// Capturer backs the c key; nil leaves capture unavailable.
	Capturer Capturer
	// Screen is the screen to draw on; nil opens the terminal. Run
	// initialises it (tview calls its Init) and finalises it on return.
	// Tests pass a tcell.SimulationScreen.
	Screen tcell.Screen
	// NoColor draws without any colour. The NO_COLOR environment
	// variable (https://no-color.org), when set and not empty, does the
	// same.
	NoColor bool
	// ProfileDuration is the length of each rolling profile the hot
	// functions pane takes while it is on screen; 0 means
	// agentclient.RollingDuration (4 s).
	ProfileDuration time.Duration
	// Modules is the program's module list (from its agent's info), with
	// which the hot functions pane tells its code from the standard
	// library; the zero value works (see flame.Modules).
	Modules flame.Modules

	// clock replaces the wall clock in tests.
	clock clock
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.ProfileDuration <= 0 {
		o.ProfileDuration = agentclient.RollingDuration
	}
	if os.Getenv("NO_COLOR") != "" {
		o.NoColor = true
	}
	if o.clock == nil {
		o.clock = realClock{}
	}
	return o
}

// clock is the part of package time the background loops use, so tests can
// drive backoffs and profile pacing without waiting.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
