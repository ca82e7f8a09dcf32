// Command roundrobin measures, per request, what each instrumentation
// variant adds to a keep-alive loopback GET, by sending one request through
// every variant in turn (see bench.RoundRobin).
//
//	roundrobin [-variants bare,lean,...] [-rounds 5] [-n 20000] [-warm 500]
//
// It prints, for each round, one benchstat line per variant
// (BenchmarkRoundRobin/v=NAME with its median and mean per request), so
// that `benchstat -col /v` compares the variants with p-values across
// rounds, and then a summary table of the cost above bare.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/httptop/httptop/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "roundrobin:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("roundrobin", flag.ContinueOnError)
	names := fs.String("variants", "bare,withcontext,lean,httpstat,httptop,promhttp,otelhttp-noop,otelhttp-sdk", "comma-separated variants, bare first")
	rounds := fs.Int("rounds", 5, "rounds (each a fresh set of clients)")
	n := fs.Int("n", 20000, "requests per variant per round")
	warm := fs.Int("warm", 500, "warm-up requests per variant per round")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the rounds to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	variants, err := bench.Select(strings.Split(*names, ","))
	if err != nil {
		return err
	}
	if len(variants) == 0 || variants[0].Name != "bare" {
		return fmt.Errorf("the first variant must be bare, got %q", *names)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}))
	defer srv.Close()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/httptop/httptop/bench\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "variants: %d\n", len(variants))
	med := make(map[string][]time.Duration)
	mean := make(map[string][]time.Duration)
	for range *rounds {
		samples, err := bench.RoundRobin(variants, bench.RoundRobinOptions{URL: srv.URL, Warm: *warm, Iterations: *n})
		if err != nil {
			return err
		}
		for _, s := range samples {
			m, a := bench.Median(s.Times), bench.Mean(s.Times)
			med[s.Variant] = append(med[s.Variant], m)
			mean[s.Variant] = append(mean[s.Variant], a)
			fmt.Fprintf(w, "BenchmarkRoundRobin/k=%d/v=%s \t%d\t%d p50-ns/req\t%d mean-ns/req\n", len(variants), s.Variant, len(s.Times), m.Nanoseconds(), a.Nanoseconds())
		}
	}
	fmt.Fprintf(w, "\n# per request, %d rounds of %d requests per variant, %d variants in rotation: median of the rounds' p50 and mean, and the range over rounds of the cost above bare (same round)\n", *rounds, *n, len(variants))
	fmt.Fprintf(w, "# %-14s %10s %10s %22s %22s\n", "variant", "p50", "mean", "p50-bare", "mean-bare")
	for _, v := range variants {
		fmt.Fprintf(w, "# %-14s %10s %10s %22s %22s\n", v.Name,
			us(bench.Median(med[v.Name])), us(bench.Median(mean[v.Name])),
			span(med[v.Name], med["bare"]), span(mean[v.Name], mean["bare"]))
	}
	return nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.2fµs", float64(d)/1e3) }

// span returns the median and range over rounds of a[i]-b[i].
func span(a, b []time.Duration) string {
	d := make([]time.Duration, len(a))
	lo, hi := time.Duration(1<<62), time.Duration(-1<<62)
	for i := range a {
		d[i] = a[i] - b[i]
		lo, hi = min(lo, d[i]), max(hi, d[i])
	}
	return fmt.Sprintf("%+.2f (%+.2f..%+.2f)µs", float64(bench.Median(d))/1e3, float64(lo)/1e3, float64(hi)/1e3)
}
