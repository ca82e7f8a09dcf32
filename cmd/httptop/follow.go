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
// restarts: after a stream fails it dials the target anew, which re-reads
// the discovery files (a new token, a new port), and when the target was a
// pid that no longer runs, it takes the one agent of the same program
// that does (the program restarted under a new pid).
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

// Stream streams the followed agent's snapshots, dialing it again first
// when the previous stream failed.
func (f *follower) Stream(ctx context.Context, interval time.Duration, fn func(*snapshot.Snapshot) error) error {
	f.mu.Lock()
	stale := f.stale
	f.mu.Unlock()
	if stale {
		if err := f.redial(ctx); err != nil {
			return err
		}
	}
	err := f.client().Stream(ctx, interval, fn)
	if err != nil && ctx.Err() == nil {
		f.mu.Lock()
		f.stale = true
		f.mu.Unlock()
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

// redial dials the target again and follows what answers.
func (f *follower) redial(ctx context.Context) error {
	c, err := agentclient.Dial(ctx, f.target)
	if err != nil {
		pid, perr := strconv.Atoi(f.target)
		if perr != nil || !errors.Is(err, agentclient.ErrNoAgent) {
			return err
		}
		c, err = f.successor(ctx, pid, err)
		if err != nil {
			return err
		}
	}
	f.mu.Lock()
	old := f.c
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
