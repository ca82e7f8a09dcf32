package main

import (
	"context"
	"errors"
	"flag"
)

// captureCommand is not built yet.
var captureCommand = command{
	name:    "capture",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("capture: not built yet")
		}
	},
}
