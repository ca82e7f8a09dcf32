//go:build race

package main

// raceEnabled reports whether the race detector is on, which makes
// requests and JSON decoding many times slower.
const raceEnabled = true
