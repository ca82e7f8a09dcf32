package main

import (
	"context"
	"errors"
	"flag"
)

// demoCommand is not built yet.
var demoCommand = command{
	name:    "demo",
	summary: "(not built yet)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			return errors.New("demo: not built yet")
		}
	},
}
