package termtext

import "testing"

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"orders-api", "orders-api"},
		{"café → naïve", "café → naïve"},
		{"a\tb\nc\rd", "a b c d"},
		{"x\x1b[2Jy", "x\ufffd[2Jy"},
		{"\x1b]0;title\x07", "\ufffd]0;title\ufffd"},
		{"c1\u009b31m", "c1\ufffd31m"},
		{"del\x7f", "del\ufffd"},
		{"bidi\u202egnp.exe\u2066x\u2069", "bidi\ufffdgnp.exe\ufffdx\ufffd"},
		{"bad\xffutf8", "bad\ufffdutf8"},
	} {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanNoAlloc(t *testing.T) {
	for _, s := range []string{"orders-api (pid 42)", "café → naïve"} {
		if n := testing.AllocsPerRun(100, func() { Clean(s) }); n != 0 {
			t.Errorf("Clean(%q) allocates %v times", s, n)
		}
	}
}
