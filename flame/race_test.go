//go:build race

package flame

// raceEnabled reports whether the race detector is on: it slows
// programs down unevenly and adds frames of its own to profiles.
const raceEnabled = true
