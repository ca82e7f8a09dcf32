package dashboard

import (
	"strconv"
	"strings"

	"github.com/httptop/httptop/internal/units"
)

// The formatters below give every number on screen the same shape: short
// (at most six cells), with a unit where one is needed, and "-" for "no
// data" rather than a misleading zero.

// fmtMs formats a duration in milliseconds as everything httptop shows
// does (units.Ms): "420µs", "4.21ms", "42.1ms", "421ms", "4.21s".
func fmtMs(ms float64) string { return units.Ms(ms) }

// fmtMsN is fmtMs for a percentile computed over n samples: "-" when there
// were none.
func fmtMsN(ms float64, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmtMs(ms)
}

// byteUnits are the binary units fmtBytes steps through.
var byteUnits = []string{"B", "KiB", "MiB", "GiB", "TiB"}

// fmtBytes formats a size in binary units: "512B", "4.5KiB", "12KiB",
// "345MiB", "1.1GiB".
func fmtBytes(b int64) string {
	if b < 0 {
		return "-"
	}
	if b < 1024 {
		return strconv.FormatInt(b, 10) + "B"
	}
	v := float64(b)
	u := 0
	for v >= 1023.5 && u < len(byteUnits)-1 {
		v /= 1024
		u++
	}
	if v < 9.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + byteUnits[u]
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + byteUnits[u]
}

// fmtBytesOrDash is fmtBytes with "-" for zero, for figures that are zero
// when unknown (TLS memory before TLS stats land).
func fmtBytesOrDash(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmtBytes(b)
}

// fmtRate formats a per-second rate: "0", "<0.1", "0.5", "9.9", "42",
// "999", "1.2k", "12k", "1.2M".
func fmtRate(r float64) string {
	switch {
	case r <= 0:
		return "0"
	case r < 0.05:
		return "<0.1"
	case r < 9.95:
		return strconv.FormatFloat(r, 'f', 1, 64)
	case r < 999.5:
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return fmtSI(r)
}

// fmtCount formats a count: exact up to 99999, then "123k", "1.2M".
func fmtCount(n int64) string {
	if n < 100000 {
		return strconv.FormatInt(n, 10)
	}
	return fmtSI(float64(n))
}

// fmtSI formats v >= 999.5 with a k, M or G suffix and two or three
// significant digits.
func fmtSI(v float64) string {
	suffix := "k"
	v /= 1000
	for _, s := range []string{"M", "G"} {
		if v < 999.5 {
			break
		}
		v /= 1000
		suffix = s
	}
	if v < 9.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + suffix
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + suffix
}

// fmtPct formats a percentage with no decimals: "0%", "97%", "100%".
func fmtPct(p float64) string {
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// fmtPct1 formats a percentage with one decimal: "0.4%", "37.5%".
func fmtPct1(p float64) string {
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// fmtAge formats a span in seconds as "42s", "3m07s", "2h05m", "3d04h".
func fmtAge(sec float64) string {
	if sec < 0 {
		sec = 0
	}
	s := int64(sec)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m" + pad2(s%60) + "s"
	case s < 86400:
		return strconv.FormatInt(s/3600, 10) + "h" + pad2(s%3600/60) + "m"
	}
	return strconv.FormatInt(s/86400, 10) + "d" + pad2(s%86400/3600) + "h"
}

// pad2 formats 0 <= n < 100 with two digits.
func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// fmtSeconds formats a whole number of seconds for countdowns and
// progress: "3s", "1m30s".
func fmtSeconds(sec int64) string {
	if sec < 60 {
		return strconv.FormatInt(sec, 10) + "s"
	}
	return strconv.FormatInt(sec/60, 10) + "m" + pad2(sec%60) + "s"
}

// shortFuncName trims the import path from a function name, keeping the
// package name: "github.com/x/y/pkg.(*T).M" becomes "pkg.(*T).M", and a
// major-version suffix keeps the element before it:
// "github.com/gdamore/tcell/v2.(*tScreen).Show" becomes
// "tcell/v2.(*tScreen).Show".
func shortFuncName(name string) string {
	// A slash can also appear inside a type's parameters
	// ("pkg.F[go.shape.*example.com/q.T]"), so look only before the
	// first '['.
	head := name
	if i := strings.IndexByte(head, '['); i >= 0 {
		head = head[:i]
	}
	i := strings.LastIndexByte(head, '/')
	if i < 0 {
		return name
	}
	if isMajorVersion(head[i+1:]) {
		if j := strings.LastIndexByte(head[:i], '/'); j >= 0 {
			return name[j+1:]
		}
		return name
	}
	return name[i+1:]
}

// isMajorVersion reports whether s, a function name's last path element,
// starts with a module major-version suffix such as "v2.".
func isMajorVersion(s string) bool {
	dot := strings.IndexByte(s, '.')
	if dot < 2 || s[0] != 'v' {
		return false
	}
	for _, c := range s[1:dot] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n cells (runes), ending with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}

// truncateMiddle shortens s to at most n cells (runes) by replacing its
// middle with "…", keeping both ends: a host keeps its scheme and port.
func truncateMiddle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 3 {
		return truncate(s, n)
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
