package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/snapshot"
)

// follower is the agent the dashboard shows, found again when the program
// restarts: after a stream fails it reads the discovery directory again
// (agentclient.Redial: the program restarted at the same address, with a
// new pid or a new token), else dials the target anew, and when the
// program's process is gone it takes the one agent of the same program
// that runs (the program restarted under a new pid). When there is none,
// its stream fails with dashboard.ErrExited, and the dashboard says
// "process exited" and stops retrying.
type follower struct {
	target  string // as the user gave it
	program string // the program first attached to

	mu    sync.Mutex
	c     *agentclient.Client
	stale bool // the last stream failed: dial again before the next
}

var _ dashboard.Source = (*follower)(nil)

// newFollower follows the agent c, dialed for target.
func newFollower(target string, c *agentclient.Client) *follower {
	return &follower{target: target, program: c.Info().Program, c: c}
}

// client returns the agent followed now.
func (f *follower) client() *agentclient.Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.c
}

// Stream streams the followed agent's snapshots. When the stream breaks
// it looks for the program again at once (see follower), so that the
// next Stream streams from where the program is now, or so that this one
// reports, with dashboard.ErrExited, that it is gone.
func (f *follower) Stream(ctx context.Context, interval time.Duration, fn func(*snapshot.Snapshot) error) error {
	f.mu.Lock()
	stale := f.stale
	f.mu.Unlock()
	if stale {
		if err := f.redial(ctx); err != nil {
			return err
		}
	}
	var fnErr error
	err := f.client().Stream(ctx, interval, func(s *snapshot.Snapshot) error {
		fnErr = fn(s)
		return fnErr
	})
	if err == nil || ctx.Err() != nil || (fnErr != nil && errors.Is(err, fnErr)) {
		return err
	}
	if rerr := f.redial(ctx); rerr != nil {
		f.mu.Lock()
		f.stale = true
		f.mu.Unlock()
		if errors.Is(rerr, dashboard.ErrExited) {
			return rerr
		}
	}
	return err
}

// Profile takes a rolling profile of the followed agent, which gives way
// to a capture (see agentclient.Client.RollingProfile).
func (f *follower) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return f.client().RollingProfile(ctx, kind, d)
}

// Title names the agent followed now, for the dashboard's header.
func (f *follower) Title() string { return f.client().Info().Addr }

// redial finds the followed program's agent again, and follows it.
func (f *follower) redial(ctx context.Context) error {
	old := f.client()
	c, err := agentclient.Redial(ctx, old)
	switch {
	case c != nil:
	case errors.Is(err, agentclient.ErrExited):
		if c, err = f.successor(ctx, old.Info().PID, err); err != nil {
			return fmt.Errorf("%w: %v", dashboard.ErrExited, err)
		}
	case err != nil:
		return err
	default:
		// Nothing new in the discovery directory (or the agent was not
		// found through it): dial the target as the user gave it.
		if c, err = agentclient.Dial(ctx, f.target); err != nil {
			pid, perr := strconv.Atoi(f.target)
			if perr != nil || !errors.Is(err, agentclient.ErrNoAgent) {
				return err
			}
			if c, err = f.successor(ctx, pid, err); err != nil {
				return err
			}
		}
	}
	f.mu.Lock()
	f.c, f.stale = c, false
	f.mu.Unlock()
	old.Close()
	return nil
}

// successor dials the one agent of the followed program, when the pid it
// ran under (gone: err) has none any more.
func (f *follower) successor(ctx context.Context, pid int, gone error) (*agentclient.Client, error) {
	infos, lerr := agentclient.List()
	if lerr != nil {
		return nil, errors.Join(gone, lerr)
	}
	var same []agentclient.Info
	for _, in := range infos {
		if in.Program == f.program && in.PID != pid {
			same = append(same, in)
		}
	}
	switch len(same) {
	case 0:
		return nil, fmt.Errorf("%w; no other agent of %s runs yet", gone, f.program)
	case 1:
		return agentclient.Dial(ctx, strconv.Itoa(same[0].PID))
	}
	return nil, fmt.Errorf("%w; %d agents of %s run: attach to one by pid ('httptop ps')", gone, len(same), f.program)
}

// Close closes the followed agent's client.
func (f *follower) Close() { f.client().Close() }
