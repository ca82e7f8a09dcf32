package snapshot

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseProfileKind(t *testing.T) {
	tests := []struct {
		in         string
		want       ProfileKind
		continuous bool
		err        bool
	}{
		{"cpu", ProfileCPU, true, false},
		{"wall", ProfileWall, true, false},
		{"heap", ProfileHeap, false, false},
		{"goroutine", ProfileGoroutine, false, false},
		{"CPU", "", false, true},
		{"", "", false, true},
	}
	for _, tt := range tests {
		got, err := ParseProfileKind(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseProfileKind(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.Continuous() != tt.continuous {
			t.Errorf("%s.Continuous() = %v, want %v", got, got.Continuous(), tt.continuous)
		}
	}
}

func TestHasCode(t *testing.T) {
	busy := &AgentError{Code: ErrCodeBusy, Message: "busy profiling"}
	tests := []struct {
		name string
		err  error
		code ErrorCode
		want bool
	}{
		{"itself", busy, ErrCodeBusy, true},
		{"wrapped", fmt.Errorf("capture: %w", busy), ErrCodeBusy, true},
		{"joined", errors.Join(errors.New("x"), busy), ErrCodeBusy, true},
		{"other code", busy, ErrCodeInternal, false},
		{"plain error", errors.New("busy"), ErrCodeBusy, false},
		{"nil", nil, ErrCodeBusy, false},
	}
	for _, tt := range tests {
		if got := HasCode(tt.err, tt.code); got != tt.want {
			t.Errorf("%s: HasCode = %v, want %v", tt.name, got, tt.want)
		}
	}
	if busy.Error() != "busy profiling" || (&AgentError{Code: ErrCodeBusy}).Error() != `agent error "busy"` {
		t.Errorf("Error() = %q", busy.Error())
	}
}

func TestConnStateLive(t *testing.T) {
	for s, want := range map[ConnState]bool{ConnHandshaking: true, ConnActive: true, ConnIdle: true, ConnClosed: false, "": false} {
		if s.Live() != want {
			t.Errorf("%q.Live() = %v, want %v", s, s.Live(), want)
		}
	}
}
