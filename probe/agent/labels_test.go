package agent

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// TestAgentWorkIsLabelled streams snapshots at the shortest interval and
// asks for one snapshot after another (the agent is cheap enough that
// streams alone may leave no sample in 2 s) while the test takes a CPU
// profile of its own: every sample in the agent's code carries the
// agent's pprof label, and the attribution puts them all in httptop's
// share.
func TestAgentWorkIsLabelled(t *testing.T) {
	a := startAgent(t, Options{})
	c := newAgentClient(t, a)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Read once, here: the client side below must run none of the
	// agent's code while the profile is taken, or a sample of it in
	// Token counts as the agent's work, unlabelled.
	token := a.Token()
	get := func(endpoint string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+snapshot.APIPath+endpoint, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.hc.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
	}
	for range 2 {
		go get("stream?interval=100ms")
	}
	go func() {
		for ctx.Err() == nil {
			get(snapshot.EndpointSnapshot)
		}
	}()
	p, err := flame.Capture(t.Context(), snapshot.ProfileCPU, 2*time.Second)
	if err != nil {
		t.Skipf("cannot take a CPU profile here: %v", err)
	}
	cancel()
	var agentSamples, unlabelled int
	for _, s := range p.Sample {
		inAgent := false
		for _, l := range s.Location {
			for _, ln := range l.Line {
				// The agent's code, not this test's client side.
				if ln.Function != nil && strings.HasPrefix(ln.Function.Name, "github.com/httptop/httptop/probe/agent.") &&
					!strings.HasSuffix(ln.Function.Filename, "_test.go") {
					inAgent = true
				}
			}
		}
		if !inAgent {
			continue
		}
		agentSamples++
		if len(s.Label[flame.LabelKey]) == 0 || s.Label[flame.LabelKey][0] != "agent" {
			unlabelled++
			if unlabelled <= 3 {
				var names []string
				for _, l := range s.Location {
					for _, ln := range l.Line {
						names = append(names, ln.Function.Name)
					}
				}
				t.Logf("unlabelled: %v", names)
			}
		}
	}
	if agentSamples == 0 {
		t.Fatal("no CPU sample of the agent's code in 2 s of streaming")
	}
	if unlabelled > 0 {
		t.Errorf("%d of %d samples in the agent's code lack the label %s=agent", unlabelled, agentSamples, flame.LabelKey)
	}
	at, err := flame.Attribute(p, -1, flame.ReadModules())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d samples in the agent's code; httptop %.1f%% of the profile", agentSamples, at.HttptopPct)
	if at.Httptop == 0 {
		t.Error("the attribution gives httptop nothing")
	}
}
