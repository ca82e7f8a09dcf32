package units

import "testing"

func TestMs(t *testing.T) {
	for _, tt := range []struct {
		ms   float64
		want string
	}{
		{-1, "-"}, {0, "0ms"}, {0.0001, "<1µs"}, {0.004, "4µs"}, {0.42, "420µs"}, {0.9996, "1.00ms"},
		{4.214, "4.21ms"}, {9.996, "10.0ms"}, {42.14, "42.1ms"}, {99.96, "100ms"}, {421.4, "421ms"},
		{999.6, "1.00s"}, {1310, "1.31s"}, {42100, "42.1s"}, {421000, "421s"},
	} {
		if got := Ms(tt.ms); got != tt.want {
			t.Errorf("Ms(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}
