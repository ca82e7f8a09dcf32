package report

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/httptop/httptop/internal/capture"
)

// BenchmarkRender renders the report of captures of growing size, up to
// 30 minutes at one snapshot a second (1800 snapshots) of 20 hosts: Build,
// then report.json, report.md and report.html (4 charts a host).
func BenchmarkRender(b *testing.B) {
	for _, size := range []struct{ hosts, snapshots int }{{1, 31}, {5, 300}, {20, 1800}} {
		b.Run(fmt.Sprintf("hosts=%d/snapshots=%d", size.hosts, size.snapshots), func(b *testing.B) {
			c := syntheticCapture(size.hosts, size.snapshots)
			p := capture.Profiles{CPU: fixtureCPU(), Wall: fixtureWall()}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := Build(c, p)
				if err := r.WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
				if err := r.WriteMarkdown(io.Discard); err != nil {
					b.Fatal(err)
				}
				if err := r.WriteHTML(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuild is the computation alone, without rendering.
func BenchmarkBuild(b *testing.B) {
	c := syntheticCapture(20, 1800)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Build(c, capture.Profiles{})
	}
}

// BenchmarkRegenerate is `httptop report DIR` on a 30-minute capture of 20
// hosts: read capture.json and the profiles, build, write the three files.
func BenchmarkRegenerate(b *testing.B) {
	dir := b.TempDir()
	if err := capture.Write(dir, syntheticCapture(20, 1800)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Regenerate(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}
