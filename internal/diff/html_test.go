package diff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httptop/httptop/internal/browsertest"
	"github.com/httptop/httptop/internal/capture"
)

// TestHTMLInChromium opens diff.html and the differential flame graph of
// the pool scenario in headless Chromium: neither may log to the console
// (the page has no script, so any message is an error; the flame graph's
// script must run clean), and the page's DOM must hold its charts and
// tables. With HTTPTOP_DIFF_SCREENSHOT=file.png it keeps a screenshot of
// the page to look at.
func TestHTMLInChromium(t *testing.T) {
	bin := browsertest.Chromium(t)
	dir := t.TempDir()
	d := buildFixture(t, pool4, pool32, Options{})
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, capture.DiffHTMLFile)
	dom, console := browsertest.Run(t, bin, page, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("diff.html logged to the console:\n%s", strings.Join(console, "\n"))
	}
	if got := strings.Count(dom, `<svg class="chart"`); got != 3 {
		t.Errorf("rendered DOM has %d charts, want 3", got)
	}
	for _, want := range []string{"<title>Mean latency per second</title>", "better, beyond noise", "pool_saturated",
		"By package", "encoding/json.(*decodeState).object", `href="diff-cpu.svg"`, "How noise is judged"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	shot := filepath.Join(t.TempDir(), "diff.png")
	if keep := os.Getenv("HTTPTOP_DIFF_SCREENSHOT"); keep != "" {
		shot = keep
	}
	browsertest.Screenshot(t, bin, page, shot, "1400,3000")

	svg := filepath.Join(dir, capture.DiffCPUFlame)
	if _, console := browsertest.Run(t, bin, svg, "--dump-dom"); len(console) > 0 {
		t.Errorf("%s logged to the console:\n%s", capture.DiffCPUFlame, strings.Join(console, "\n"))
	}
}
