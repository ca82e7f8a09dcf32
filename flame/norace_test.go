//go:build !race

package flame

const raceEnabled = false
