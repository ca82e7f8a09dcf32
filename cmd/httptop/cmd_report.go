package main

import (
	"context"
	"errors"
	"flag"
)

// reportCommand is not built yet.
var reportCommand = command{
	name:    "report",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("report: not built yet")
		}
	},
}
