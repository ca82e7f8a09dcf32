package main

import (
	"context"
	"errors"
	"flag"
)

// attachCommand is not built yet.
var attachCommand = command{
	name:    "attach",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("attach: not built yet")
		}
	},
}
