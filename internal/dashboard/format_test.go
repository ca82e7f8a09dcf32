package dashboard

import (
	"testing"
	"unicode/utf8"
)

func TestFormatters(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"ms tiny", fmtMs(0.004), "4µs"},
		{"ms sub", fmtMs(0.42), "420µs"},
		{"ms round up to 1ms", fmtMs(0.9996), "1.00ms"},
		{"ms 1", fmtMs(4.214), "4.21ms"},
		{"ms 9.996", fmtMs(9.996), "10.0ms"},
		{"ms 2", fmtMs(42.14), "42.1ms"},
		{"ms 99.96", fmtMs(99.96), "100ms"},
		{"ms 3", fmtMs(421.4), "421ms"},
		{"ms 999.6", fmtMs(999.6), "1.00s"},
		{"s", fmtMs(1310), "1.31s"},
		{"s 2", fmtMs(42100), "42.1s"},
		{"s 3", fmtMs(421000), "421s"},
		{"ms negative", fmtMs(-1), "-"},
		{"ms none", fmtMsN(0, 0), "-"},
		{"ms zero of some", fmtMsN(0, 3), "0ms"},
		{"bytes", fmtBytes(512), "512B"},
		{"bytes KiB", fmtBytes(4608), "4.5KiB"},
		{"bytes KiB 2", fmtBytes(41 << 10), "41KiB"},
		{"bytes edge", fmtBytes(1023*1024 + 1000), "1.0MiB"},
		{"bytes MiB", fmtBytes(48 << 20), "48MiB"},
		{"bytes GiB", fmtBytes(3 << 30), "3.0GiB"},
		{"bytes dash", fmtBytesOrDash(0), "-"},
		{"rate 0", fmtRate(0), "0"},
		{"rate tiny", fmtRate(0.01), "<0.1"},
		{"rate", fmtRate(2.14), "2.1"},
		{"rate 2", fmtRate(38.2), "38"},
		{"rate k", fmtRate(1234), "1.2k"},
		{"rate k2", fmtRate(12345), "12k"},
		{"rate M", fmtRate(2.5e6), "2.5M"},
		{"count", fmtCount(99999), "99999"},
		{"count k", fmtCount(123456), "123k"},
		{"pct", fmtPct(97.4), "97%"},
		{"pct1", fmtPct1(37.46), "37.5%"},
		{"age s", fmtAge(42.9), "42s"},
		{"age m", fmtAge(187), "3m07s"},
		{"age h", fmtAge(3725), "1h02m"},
		{"age d", fmtAge(3*86400 + 4*3600 + 5), "3d04h"},
		{"seconds", fmtSeconds(90), "1m30s"},
		{"func", shortFuncName("github.com/x/y/pkg.(*T).M"), "pkg.(*T).M"},
		{"func std", shortFuncName("runtime.mallocgc"), "runtime.mallocgc"},
		{"func major", shortFuncName("github.com/gdamore/tcell/v2.(*tScreen).Show"), "tcell/v2.(*tScreen).Show"},
		{"func vendor-like", shortFuncName("example.com/pkg/vfs.Open"), "vfs.Open"},
		{"func generic", shortFuncName("example.com/p.Map[go.shape.*example.com/q.T]"), "p.Map[go.shape.*example.com/q.T]"},
		{"truncate", truncate("inventory.internal", 10), "inventory…"},
		{"truncate fits", truncate("abc", 3), "abc"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestFormattersShort checks the widths the tables rely on: durations
// and rates in at most six cells.
func TestFormattersShort(t *testing.T) {
	for v := 0.0001; v < 1e7; v *= 1.37 {
		if s := fmtMs(v); utf8.RuneCountInString(s) > 6 {
			t.Errorf("fmtMs(%g) = %q, longer than 6", v, s)
		}
		if s := fmtRate(v); utf8.RuneCountInString(s) > 5 {
			t.Errorf("fmtRate(%g) = %q, longer than 5", v, s)
		}
		if s := fmtBytes(int64(v * 1000)); utf8.RuneCountInString(s) > 6 {
			t.Errorf("fmtBytes(%d) = %q, longer than 6", int64(v*1000), s)
		}
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0}, 4, "  ▁▁"},
		{[]float64{1, 2, 4, 8}, 4, "▂▃▅█"},
		{[]float64{8, 0.01}, 2, "█▂"},
		{[]float64{1, 2, 3, 4, 5, 6}, 3, "▆▇█"},
	}
	for _, tt := range tests {
		if got := sparkline(tt.vals, tt.width); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vals, tt.width, got, tt.want)
		}
	}
}

func TestRing(t *testing.T) {
	var r ring
	for i := range historyLen + 5 {
		r.add(float64(i))
	}
	got := r.last(nil, 3)
	want := []float64{historyLen + 2, historyLen + 3, historyLen + 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("last 3 = %v, want %v", got, want)
		}
	}
	if n := len(r.last(nil, 1000)); n != historyLen {
		t.Errorf("last(1000) has %d values, want %d", n, historyLen)
	}
}
