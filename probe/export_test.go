package probe

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/httptop/httptop/poolstats"
)

// withRecycling forces span recycling on a RoundTripper that is not an
// *http.Transport, for a fake transport that fires hooks exactly as
// *http.Transport does.
func withRecycling() Option {
	return optionFunc(func(c *config) { c.recycle = true })
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }

func poolstatsNow() int64 { return poolstats.Now() }

// callerLine returns the file and line of the test source line holding
// marker, so that a test can name its own call sites without hard-coding
// line numbers.
func callerLine(t *testing.T, marker string) (fn, file string, line int) {
	t.Helper()
	pc, file, _, ok := runtime.Caller(1)
	if !ok {
		t.Fatal("no caller")
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "// "+marker) && !strings.Contains(l, "callerLine") {
			return runtime.FuncForPC(pc).Name(), file, i + 1
		}
	}
	t.Fatalf("marker %q not found in %s", marker, file)
	return "", "", 0
}
