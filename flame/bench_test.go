package flame

import (
	"io"
	"strconv"
	"testing"
)

// Benchmarks over generated CPU-like profiles (genProfile: 32-64 frames deep,
// 3000 functions, every sample a distinct stack). Full results are in
// testdata/bench.txt; compare changes with benchstat. Recorded on a shared
// 2 vCPU VM (go test -bench . -benchmem -run '^$' ./flame/):
//
//	BenchmarkFolded/1000-2             4.7 ms/op    1.6 MB/op    77 allocs/op
//	BenchmarkFolded/10000-2           26.5 ms/op    8.5 MB/op    79 allocs/op
//	BenchmarkFolded/100000-2         402   ms/op   77.5 MB/op    79 allocs/op
//	BenchmarkSVG/1000-2               11.3 ms/op    2.3 MB/op  8876 allocs/op
//	BenchmarkSVG/10000-2              21.1 ms/op    9.0 MB/op  4701 allocs/op
//	BenchmarkSVG/100000-2            352   ms/op   78.0 MB/op  2799 allocs/op
//	BenchmarkSVGKeepAll/100000-2     765   ms/op   78.3 MB/op  9093 allocs/op
//	BenchmarkTop/100000-2             68.5 ms/op    1.0 MB/op    97 allocs/op
//	BenchmarkBuildTree/100000-2      334   ms/op   77.5 MB/op    67 allocs/op  (1.59M nodes)

var benchSizes = []int{1000, 10000, 100000}

func BenchmarkFolded(b *testing.B) {
	for _, n := range benchSizes {
		p := genProfile(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Folded(io.Discard, p, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSVG(b *testing.B) {
	for _, n := range benchSizes {
		p := genProfile(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := SVG(io.Discard, p, DefaultSVGOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSVGKeepAll draws every frame (MinWidthPercent 0): the worst
// case, with one <g> per tree node.
func BenchmarkSVGKeepAll(b *testing.B) {
	for _, n := range benchSizes {
		p := genProfile(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := SVG(io.Discard, p, SVGOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTop(b *testing.B) {
	for _, n := range benchSizes {
		p := genProfile(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(Top(p, 1, 20)) == 0 {
					b.Fatal("no functions")
				}
			}
		})
	}
}

func BenchmarkBuildTree(b *testing.B) {
	for _, n := range benchSizes {
		p := genProfile(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var nodes int
			for b.Loop() {
				nodes = len(buildTree(p, 1, nil).nodes)
			}
			b.ReportMetric(float64(nodes), "nodes")
		})
	}
}
