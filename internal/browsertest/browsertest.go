// Package browsertest opens pages in headless Chromium for tests of the
// HTML that httptop writes (report.html, diff.html): console messages,
// the rendered DOM, screenshots. Only tests import it.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Chromium returns the path of a Chromium binary, skipping the test when
// there is none (failing instead when HTTPTOP_REQUIRE_CHROMIUM is set, as
// CI does).
func Chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HTTPTOP_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is not installed and HTTPTOP_REQUIRE_CHROMIUM is set: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// Run opens page (a file path) in headless Chromium with extra flags and
// returns its standard output and the console messages it logged.
func Run(t *testing.T, bin, page string, extra ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}
	args = append(append(args, extra...), "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		// Console messages, whatever their level, are logged as
		// ...:INFO:CONSOLE:1] "message", source: file://... (line).
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return out.String(), console
}

// Screenshot draws page at the given window size ("1280,2400") into the
// PNG file shot, failing the test when the page logs to the console or
// no PNG of a drawn page comes out.
func Screenshot(t *testing.T, bin, page, shot, size string) {
	t.Helper()
	_, console := Run(t, bin, page, "--screenshot="+shot, "--window-size="+size, "--hide-scrollbars")
	if len(console) > 0 {
		t.Errorf("%s logged to the console while drawing the screenshot:\n%s", page, strings.Join(console, "\n"))
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 10000 {
		t.Errorf("screenshot is %d bytes and not a PNG of a drawn page", len(png))
	}
}
