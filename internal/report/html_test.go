package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/httptop/httptop/internal/browsertest"
	"github.com/httptop/httptop/internal/capture"
)

// chartTitles are the figure captions each host section has.
var chartTitles = []string{
	"Latency over time (rolling 10 s window)",
	"Pool over time: open, active, idle, waiting",
	"Latency vs pool utilisation",
	"Connections per second: new vs reused",
}

// TestHTMLSelfContained checks, without a browser, that report.html
// fetches nothing: no scripts or images by URL, no stylesheets, links only
// to its own sections and to the capture's files.
func TestHTMLSelfContained(t *testing.T) {
	r := Build(fixtureCapture(), capture.Profiles{CPU: fixtureCPU(), Wall: fixtureWall(), Mutex: fixtureMutex(), Block: fixtureBlock()})
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"httptop itself took 0.0%", "<code>main.encodeOrder</code>", "[GC &amp; allocation]",
		"waiting for a connection", "<code>main.(*cache).get:10</code>", "Contention: mutexes", "GC share of the runtime"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", " src="} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q: it must not load anything", bad)
		}
	}
	allowed := map[string]bool{capture.CPUFlame: true, capture.WallFlame: true, capture.CPUProfile: true, capture.WallProfile: true, capture.HeapProfile: true, capture.CPUFolded: true, capture.WallFolded: true,
		capture.MutexProfile: true, capture.BlockProfile: true}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if h := m[1]; !strings.HasPrefix(h, "#") && !allowed[h] {
			t.Errorf("report.html links to %q; want only #sections and the capture's files", h)
		}
	}
	if got, want := strings.Count(page, `<svg class="chart"`), 4*len(r.Hosts); got != want {
		t.Errorf("report.html has %d charts, want %d (4 per host)", got, want)
	}
	for _, title := range chartTitles {
		if got := strings.Count(page, "<figcaption>"+title+"</figcaption>"); got != len(r.Hosts) {
			t.Errorf("chart %q appears %d times, want %d", title, got, len(r.Hosts))
		}
	}
	if strings.Contains(page, "ZgotmplZ") {
		t.Error("report.html contains ZgotmplZ: html/template rejected a value")
	}
}

// TestHTMLInChromium opens report.html in headless Chromium, for the
// fixture capture and for a synthetic one with varying load: the page must
// log nothing to the console (it has no script, so any message is an
// error: a blocked or failed load, a parse error) and its DOM must hold the
// charts. With HTTPTOP_REPORT_SCREENSHOT=file.png it also keeps the
// screenshots, as file.png and file-synthetic.png, to look at.
func TestHTMLInChromium(t *testing.T) {
	bin := browsertest.Chromium(t)

	t.Run("console errors are detected", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.html")
		if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><p>x</p><script>notDefined()</script>`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, console := browsertest.Run(t, bin, bad, "--dump-dom")
		if len(console) == 0 || !strings.Contains(strings.Join(console, "\n"), "Uncaught ReferenceError") {
			t.Fatalf("a page with a script error logged %q; the console check would miss errors", console)
		}
	})

	t.Run("fixture", func(t *testing.T) {
		dir := writeFixtureDir(t)
		r, err := Regenerate(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		dom := checkInChromium(t, bin, dir, r, "")
		for _, want := range []string{"<path", "seconds since capture start", "latency, ms", "in flight ÷ MaxConnsPerHost (N = 4)",
			"default → https://backend.internal", "pool_saturated", "Raise MaxConnsPerHost from 4 to 32",
			"encoding/json.(*encodeState).marshal", `href="cpu.svg"`, `href="wall.svg"`} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
	})

	t.Run("synthetic", func(t *testing.T) {
		dir := t.TempDir()
		c := syntheticCapture(4, 300)
		if err := capture.Write(dir, c); err != nil {
			t.Fatal(err)
		}
		r, err := Regenerate(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		checkInChromium(t, bin, dir, r, "-synthetic")
	})
}

// checkInChromium loads dir's report.html, checks the console and the
// charts, takes a screenshot and returns the rendered DOM.
func checkInChromium(t *testing.T, bin, dir string, r *Report, suffix string) string {
	t.Helper()
	page := filepath.Join(dir, capture.HTMLFile)
	dom, console := browsertest.Run(t, bin, page, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("report.html logged to the console:\n%s", strings.Join(console, "\n"))
	}
	if got, want := strings.Count(dom, `<svg class="chart"`), 4*len(r.Hosts); got != want {
		t.Errorf("rendered DOM has %d charts, want %d", got, want)
	}
	for _, title := range chartTitles {
		if got := strings.Count(dom, "<figcaption>"+title+"</figcaption>"); got != len(r.Hosts) {
			t.Errorf("rendered DOM has chart %q %d times, want %d", title, got, len(r.Hosts))
		}
		if !strings.Contains(dom, "<title>"+title+"</title>") {
			t.Errorf("rendered DOM has no SVG titled %q", title)
		}
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	if keep := os.Getenv("HTTPTOP_REPORT_SCREENSHOT"); keep != "" {
		shot = strings.TrimSuffix(keep, ".png") + suffix + ".png"
	}
	browsertest.Screenshot(t, bin, page, shot, "1280,2400")
	return dom
}

// TestNiceTicks marks axes of ordinary and hostile ranges: a range far
// from zero and only a few units wide (a capture with gauges near
// −2⁶³) must not loop forever.
func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		labels []string
	}{
		{0, 10, []string{"0", "2", "4", "6", "8", "10"}},
		{0, 0.35, []string{"0.0", "0.1", "0.2", "0.3"}},
		{-1e18, -1e18 + 256, nil},
		{-9.2e18, -9.2e18 + 2048, nil},
		{0, 1.7e308, nil},
	} {
		done := make(chan []plot.Tick, 1)
		go func() { done <- niceTicks{}.Ticks(tt.lo, tt.hi) }()
		var ticks []plot.Tick
		select {
		case ticks = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Ticks(%g, %g) did not return", tt.lo, tt.hi)
		}
		if len(ticks) == 0 || len(ticks) > maxTicks {
			t.Errorf("Ticks(%g, %g): %d ticks", tt.lo, tt.hi, len(ticks))
		}
		if tt.labels == nil {
			continue
		}
		var got []string
		for _, tk := range ticks {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tt.labels) {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tt.lo, tt.hi, got, tt.labels)
		}
	}
}
