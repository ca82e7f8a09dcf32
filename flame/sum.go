package flame

import "math"

// addSat returns a + b, saturated at the bounds of int64: a profile's
// values are the program's (or whoever wrote the file's), and a sum that
// wraps past math.MaxInt64 would turn a total negative.
func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}
