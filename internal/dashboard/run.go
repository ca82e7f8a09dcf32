package dashboard

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// Run shows the dashboard until the user quits (q) or ctx is done. It
// streams snapshots from opts.Source at opts.Interval, reconnecting with a
// backoff when the source goes away, and takes rolling profiles for the
// hot functions pane while that pane is on screen.
//
// Run returns nil when the user quits or ctx is cancelled, and an error
// when the terminal cannot be used.
func Run(ctx context.Context, opts Options) error {
	if opts.Source == nil {
		return errors.New("dashboard: Options.Source is nil")
	}
	// In httptop demo the dashboard shares its process with the
	// workload: its goroutines (and those they start) carry httptop's
	// pprof label, so that profiles show its cost apart.
	var err error
	pprof.Do(ctx, pprof.Labels(flame.LabelKey, "dashboard"), func(ctx context.Context) {
		err = newUI(opts).run(ctx)
	})
	return err
}

// Backoff between attempts to reach the source.
const (
	minBackoff = time.Second
	maxBackoff = 16 * time.Second
	// profileRetry is the wait after a failed profile before the next
	// attempt.
	profileRetry = 10 * time.Second
	// hotFuncs is how many entries of each view the hot functions pane
	// keeps.
	hotFuncs = 50
	// hotWaitFuncs is how many functions the pane lists under each kind
	// of wait.
	hotWaitFuncs = 2
)

// run runs the application and its background loops until q or ctx.
//
// tview's QueueUpdate blocks until the event loop has run the update, so
// the dashboard stops in order: q (or ctx) cancels the loops, the loops and
// the pump that hands their results to the UI finish while the event loop
// still runs, and only then is the application stopped.
func (u *ui) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	u.ctx, u.quit = ctx, cancel
	if u.opts.Screen != nil {
		u.app.SetScreen(u.opts.Screen)
	}
	u.goLoop(func() { u.streamLoop(ctx) })
	u.goLoop(func() { u.profileLoop(ctx) })
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		u.pump(ctx)
	}()
	runDone := make(chan struct{})
	stopped := make(chan struct{})
	var stopping atomic.Bool
	go func() {
		defer close(stopped)
		<-ctx.Done()
		u.waitLoops()
		<-pumped
		// Stop only a running application: Stop before Run would make
		// Run open the terminal.
		select {
		case <-u.started:
			stopping.Store(true)
			u.app.Stop()
		case <-runDone:
		}
	}()
	err := u.app.Run()
	close(runDone)
	cancel()
	u.waitLoops()
	if stopping.Load() {
		<-stopped
	}
	// Otherwise the application stopped by itself (a terminal error): an
	// update the pump queued just before may never run, and the pump then
	// stays blocked in QueueUpdateDraw; Run does not wait for it.
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// goLoop runs fn on a goroutine of its own as one of the loops that feed
// the model, unless the dashboard is shutting down; it reports whether fn
// runs.
func (u *ui) goLoop(fn func()) bool {
	u.loopsMu.Lock()
	defer u.loopsMu.Unlock()
	if u.loopsClosed {
		return false
	}
	u.loops.Add(1)
	go func() {
		defer u.loops.Done()
		fn()
	}()
	return true
}

// waitLoops stops new loops from starting and waits for the running ones,
// which end when Run's context is cancelled.
func (u *ui) waitLoops() {
	u.loopsMu.Lock()
	u.loopsClosed = true
	u.loopsMu.Unlock()
	u.loops.Wait()
}

// mailbox hands results from background goroutines to the UI goroutine.
// Posting never blocks: posts queue up here, in order, with consecutive
// snapshots (and capture progress) coalesced to the latest, and the pump
// hands them over with one QueueUpdateDraw at a time.
type mailbox struct {
	mu    sync.Mutex
	items []mail
	// dropped counts snapshots replaced by a newer one before the UI
	// took them.
	dropped int
	// ready is signalled when items were posted.
	ready chan struct{}
}

// mail is one posted item: a function to run on the UI goroutine, and
// what it is, for coalescing.
type mail struct {
	fn   func()
	kind mailKind
}

type mailKind int

const (
	mailOther mailKind = iota
	mailSnapshot
	mailProgress
)

// post runs fn on the UI goroutine, then redraws. A fn of kind snapshot
// or progress replaces one of the same kind posted just before it and not
// yet run.
func (u *ui) post(kind mailKind, fn func()) {
	mb := &u.mb
	mb.mu.Lock()
	if n := len(mb.items); kind != mailOther && n > 0 && mb.items[n-1].kind == kind {
		mb.items[n-1].fn = fn
		if kind == mailSnapshot {
			mb.dropped++
		}
	} else {
		mb.items = append(mb.items, mail{fn, kind})
	}
	mb.mu.Unlock()
	select {
	case mb.ready <- struct{}{}:
	default:
	}
}

// pump hands posted items to the UI goroutine until ctx is done; what is
// still posted then is dropped with the dashboard.
func (u *ui) pump(ctx context.Context) {
	for {
		select {
		case <-u.mb.ready:
			u.app.QueueUpdateDraw(u.drain)
		case <-ctx.Done():
			return
		}
	}
}

// drain runs everything posted, on the UI goroutine.
func (u *ui) drain() {
	mb := &u.mb
	mb.mu.Lock()
	items := mb.items
	mb.items = nil
	dropped := mb.dropped
	mb.dropped = 0
	mb.mu.Unlock()
	u.m.received += dropped
	for _, it := range items {
		it.fn()
	}
	u.syncSelection()
}

// streamLoop streams snapshots into the model, reconnecting with an
// exponential backoff (reset by every stream that delivered a snapshot)
// and counting the seconds down on screen.
func (u *ui) streamLoop(ctx context.Context) {
	backoff := minBackoff
	for {
		u.post(mailOther, u.m.setConnecting)
		var got atomic.Bool
		err := u.opts.Source.Stream(ctx, u.opts.Interval, func(s *snapshot.Snapshot) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			got.Store(true)
			u.post(mailSnapshot, func() { u.m.ingest(s) })
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if got.Load() {
			backoff = minBackoff
		}
		if err == nil {
			err = errors.New("the snapshot stream ended")
		}
		msg := err.Error()
		if errors.Is(err, ErrExited) {
			u.post(mailOther, func() { u.m.setExited(msg) })
			return
		}
		for left := backoff; left > 0; {
			step := min(time.Second, left)
			tick := u.opts.clock.After(step)
			l := left
			u.post(mailOther, func() { u.m.setDisconnected(msg, l) })
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
			left -= step
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// profWant is what the profiler should be doing: whether anyone watches
// the hot functions.
type profWant struct {
	on bool
}

// profControl passes profWant from the UI goroutine to the profiler.
type profControl struct {
	mu   sync.Mutex
	want profWant
	wake chan struct{} // signalled when want changes
}

// set changes what the profiler should do, waking it when that changed.
func (p *profControl) set(w profWant) {
	p.mu.Lock()
	changed := p.want != w
	p.want = w
	p.mu.Unlock()
	if changed {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// get returns what the profiler should do.
func (p *profControl) get() profWant {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.want
}

// profileResult is the outcome of one profile: its attribution (and, for
// a wall-clock profile, where requests wait), or why it failed.
type profileResult struct {
	attr  *flame.Attribution
	waits *flame.Waits
	err   error
	// samples and span are a wall-clock profile's resolution: how many
	// times the goroutines were sampled, over what time (see wallView).
	samples int
	span    time.Duration
}

// rollingKinds are the profiles the hot functions pane takes, side by
// side over the same span, so that switching between them shows results
// at once.
var rollingKinds = []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall}

// profileLoop takes profiles back to back while the hot functions pane is
// watched, a CPU and a wall-clock profile at the same time, and posts
// what they show. Profiles in flight are cancelled when the pane goes
// away.
func (u *ui) profileLoop(ctx context.Context) {
	for {
		w := u.prof.get()
		if !w.on {
			select {
			case <-ctx.Done():
				return
			case <-u.prof.wake:
				continue
			}
		}
		start := u.opts.clock.Now()
		res, stale, quit := u.takeRolling(ctx, w)
		if quit {
			return
		}
		if stale {
			continue
		}
		failed := false
		for i, kind := range rollingKinds {
			r := res[i]
			failed = failed || r.err != nil
			u.post(mailOther, func() { u.m.setProfile(kind, r) })
		}
		if !u.paceProfiles(ctx, failed, start) {
			return
		}
	}
}

// takeRolling takes the rolling profiles side by side for the pane's
// wish w and returns what they show. stale says the wish changed before
// they came back (they were cancelled), quit that ctx is done; either
// way the profiles have ended when it returns.
func (u *ui) takeRolling(ctx context.Context, w profWant) (res [2]profileResult, stale, quit bool) {
	d := u.opts.ProfileDuration
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	done := make(chan [2]profileResult, 1)
	go func() {
		var res [2]profileResult
		var wg sync.WaitGroup
		for i, kind := range rollingKinds {
			wg.Go(func() { res[i] = u.takeProfile(pctx, kind, d) })
		}
		wg.Wait()
		done <- res
	}()
	for {
		select {
		case <-ctx.Done():
			pcancel()
			<-done
			return res, false, true
		case <-u.prof.wake:
			if u.prof.get() != w {
				pcancel()
				<-done
				return res, true, false
			}
		case res = <-done:
			return res, false, false
		}
	}
}

// paceProfiles waits before the next profiles: after a failure, before
// trying again; after profiles that came back much sooner than asked
// (started at start), for the rest of their span, so a source that
// answers at once is not asked in a loop. A change of the pane's wish
// ends the wait; it reports false when ctx is done.
func (u *ui) paceProfiles(ctx context.Context, failed bool, start time.Time) bool {
	d, clk := u.opts.ProfileDuration, u.opts.clock
	var pause time.Duration
	if failed {
		pause = profileRetry
	} else if el := clk.Now().Sub(start); el < d/2 {
		pause = d - el
	}
	if pause > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-clk.After(pause):
		case <-u.prof.wake:
		}
	}
	return true
}

// takeProfile asks the source for a profile and sums it up in the
// program's terms.
// A wall-clock profile is shown with the latest ones before it (see
// wallWindow).
func (u *ui) takeProfile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) profileResult {
	data, err := u.opts.Source.Profile(ctx, kind, d)
	if err != nil {
		return profileResult{err: err}
	}
	p, err := parseProfile(kind, data)
	if err != nil {
		return profileResult{err: err}
	}
	if kind != snapshot.ProfileWall {
		return summariseProfile(kind, p, u.opts.Modules)
	}
	v, err := u.wall.add(p)
	if err != nil {
		return profileResult{err: err}
	}
	if v.p == nil {
		v.p = p // no sample yet: an empty profile
	}
	r := summariseProfile(kind, v.p, u.opts.Modules)
	r.samples, r.span = v.samples, v.span
	return r
}

// parseProfile parses a profile of kind the source returned.
func parseProfile(kind snapshot.ProfileKind, data []byte) (*profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s profile: %w", kind, err)
	}
	return p, nil
}

// summariseProfile sums a parsed profile of kind up for the hot functions
// pane.
func summariseProfile(kind snapshot.ProfileKind, p *profile.Profile, mods flame.Modules) profileResult {
	a, err := flame.Attribute(p, -1, mods)
	if err != nil {
		return profileResult{err: err}
	}
	r := profileResult{attr: a.Trim(hotFuncs)}
	if kind == snapshot.ProfileWall {
		if r.waits, err = flame.AttributeWaits(p, -1, mods); err != nil {
			return profileResult{err: err}
		}
	}
	return r
}

// startCapture starts a capture with the Capturer, if there is one and
// none runs, showing its progress in the footer. Quitting the dashboard
// cancels it. It runs on the UI goroutine.
func (u *ui) startCapture() {
	m, ctx := u.m, u.ctx
	switch {
	case u.opts.Capturer == nil:
		m.message = "capture is unavailable here: run httptop capture TARGET instead"
		return
	case m.capture.running:
		m.message = "a capture is already running"
		return
	}
	started := u.goLoop(func() {
		dir, err := u.opts.Capturer.Capture(ctx, func(done, total time.Duration) {
			u.post(mailProgress, func() { m.capture.done, m.capture.total = done, total })
		})
		u.post(mailOther, func() {
			m.capture.running = false
			if err != nil {
				m.message = "capture failed: " + err.Error()
				return
			}
			m.message = "capture written to " + dir
		})
	})
	if started {
		m.capture = captureState{running: true}
	}
}
