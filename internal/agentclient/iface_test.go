package agentclient_test

import (
	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/dashboard"
)

// The client is the source of the dashboard and of captures.
var (
	_ dashboard.Source = (*agentclient.Client)(nil)
	_ capture.Source   = (*agentclient.Client)(nil)
)
