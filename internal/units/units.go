// Package units formats the figures httptop shows, the same way in the
// dashboard, the snapshot summary and the capture report: a duration of
// 0.42 ms reads "420µs" everywhere, and zero reads "0ms".
package units

import "strconv"

// Ms formats a duration in milliseconds with three significant digits and
// the unit that suits it, in at most six cells: "0ms", "<1µs", "420µs",
// "4.21ms", "42.1ms", "421ms", "4.21s", "42.1s", "421s". A negative
// duration reads "-".
func Ms(ms float64) string {
	switch {
	case ms < 0:
		return "-"
	case ms == 0:
		return "0ms"
	case ms < 0.0005:
		return "<1µs"
	case ms < 0.9995:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	case ms < 9.995:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case ms < 99.95:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	case ms < 999.5:
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	}
	s := ms / 1000
	switch {
	case s < 9.995:
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	case s < 99.95:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + "s"
}
