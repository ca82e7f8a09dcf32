package main

import (
	"context"
	"errors"
	"flag"
)

// psCommand is not built yet.
var psCommand = command{
	name:    "ps",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("ps: not built yet")
		}
	},
}
