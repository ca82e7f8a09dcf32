package main

import (
	"context"
	"errors"
)

// runDefault is what bare `httptop` does: attach to the one agent running,
// or list the agents when there are none or several.
func (m *Main) runDefault(ctx context.Context) error {
	return errors.New("not built yet")
}
