package main

import (
	"context"
	"errors"
	"flag"
)

// snapshotCommand is not built yet.
var snapshotCommand = command{
	name:    "snapshot",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("snapshot: not built yet")
		}
	},
}
