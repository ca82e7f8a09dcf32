package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
)

// runDefault is what bare `httptop` does: attach to the one agent running
// when it can draw on a terminal, or list the agents; with none, an error.
func (m *Main) runDefault(ctx context.Context) error {
	agents, err := agentclient.List()
	if err != nil {
		return err
	}
	if len(agents) == 0 {
		// Nothing to attach to is an error, as the README says: the
		// message says where httptop looked and what to do.
		c, err := agentclient.Dial(ctx, "")
		if err != nil {
			return err
		}
		c.Close() // one started meanwhile
		if agents, err = agentclient.List(); err != nil {
			return err
		}
	}
	if len(agents) == 1 && needTerminal(m, "") == nil {
		return runAttach(ctx, m, strconv.Itoa(agents[0].PID), time.Second)
	}
	m.printAgents(ctx, agents)
	if len(agents) > 0 {
		fmt.Fprintf(m.Stdout, "\nrun 'httptop attach PID' or 'httptop snapshot PID', e.g. 'httptop snapshot %d'\n", agents[0].PID)
	}
	return nil
}
