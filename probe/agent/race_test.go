//go:build race

package agent

// raceEnabled reports whether the race detector is on, which makes every
// request cost several times the CPU.
const raceEnabled = true
