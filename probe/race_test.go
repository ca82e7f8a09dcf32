//go:build race

package probe

// raceEnabled reports whether the race detector is on, which makes
// requests about ten times slower.
const raceEnabled = true
