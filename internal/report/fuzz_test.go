package report

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
)

// FuzzRegenerate is `httptop report DIR` on a capture directory whose
// capture.json is the fuzzer's: read it (capture.LoadContext), build the
// report and render the three files. Beside capture.json the directory
// holds a real CPU profile (cpu.pb.gz), a symbolic link to a profile
// outside the directory (wall.pb.gz), a FIFO (fifo.pb.gz) and a link to
// /dev/zero (zero.pb.gz), which capture.json may name as it likes. Reading
// must never block, read outside the directory, panic or fail to render a
// capture it accepted; report.md links only files of the directory.
func FuzzRegenerate(f *testing.F) {
	for _, c := range []*capture.Capture{fixtureCapture(), syntheticCapture(2, 4)} {
		data, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, file := range []string{"cpu.pb.gz", "wall.pb.gz", "fifo.pb.gz", "zero.pb.gz", "../outside.pb.gz", "/dev/zero", "javascript:alert(1)"} {
		f.Add([]byte(`{"version":1,"start":"2025-01-01T00:00:00Z","end":"2025-01-01T00:00:05Z","profile_mode":"single",` +
			`"profiles":[{"kind":"cpu","file":"` + file + `","flame_graph":"` + file + `","seconds":5},{"kind":"wall","file":"` + file + `"}],` +
			`"snapshots":[{"version":1,"time":"2025-01-01T00:00:01Z","hosts":[{"client":"c","scheme":"http","host":"h:80",` +
			`"max_conns_per_host":9223372036854775807,"limits_known":true,"rps":1e12,"open":3,"latency_ms":{"n":3,"p50":1000}}]}]}`))
	}

	base := f.TempDir()
	outside := filepath.Join(base, "outside.pb.gz")
	cpu, err := os.ReadFile(writeFixtureProfile(f, base))
	if err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(outside, cpu, 0o600); err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join(base, "capture")
	if err := os.Mkdir(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, capture.CPUProfile), cpu, 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, capture.WallProfile)); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.pb.gz")); err != nil {
		f.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.pb.gz"), 0o600); err != nil {
		f.Skip("mkfifo:", err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, capture.CaptureFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Deadlines far above what a small capture takes: hitting one
		// means something blocked or loops.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		problems := make(chan []string, 1)
		go func() { problems <- regenerate(ctx, dir) }()
		select {
		case ps := <-problems:
			for _, p := range ps {
				t.Error(p)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("reading, building or rendering the report did not finish within 30 s")
		}
	})
}

// regenerate reads the capture in dir, builds and renders its report,
// and returns what went wrong that must not.
func regenerate(ctx context.Context, dir string) []string {
	c, p, err := capture.LoadContext(ctx, dir)
	if ctx.Err() != nil {
		return []string{"reading the capture blocked: " + err.Error()}
	}
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			return []string{"error of more than one line: " + err.Error()}
		}
		return nil
	}
	var problems []string
	if p.Wall != nil {
		for _, pi := range c.Profiles {
			if pi.Kind == "wall" && pi.File == capture.WallProfile {
				problems = append(problems, "read the wall profile through a link out of the directory")
			}
		}
	}
	r, err := BuildContext(ctx, c, p)
	if err != nil {
		return append(problems, "build: "+err.Error())
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		problems = append(problems, "markdown: "+err.Error())
	}
	for _, target := range mdLinks(md.String()) {
		if !capture.IsFileName(target) {
			problems = append(problems, "report.md links "+target)
		}
	}
	if err := r.WriteJSON(io.Discard); err != nil {
		problems = append(problems, "json: "+err.Error())
	}
	if err := r.WriteHTML(io.Discard); err != nil {
		problems = append(problems, "html: "+err.Error())
	}
	return problems
}

// writeFixtureProfile writes the fixture's CPU profile into dir and
// returns its path.
func writeFixtureProfile(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "fixture-cpu.pb.gz")
	if err := flame.WriteFile(path, fixtureCPU()); err != nil {
		tb.Fatal(err)
	}
	return path
}
