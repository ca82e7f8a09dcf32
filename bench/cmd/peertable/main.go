// Command peertable prints the README's table of what each variant adds to
// a keep-alive loopback GET, from the output of cmd/roundrobin and of the
// separate benchmarks (go test -bench Get), both in the Go benchmark
// format.
//
//	peertable -rr rr.txt -get get.txt [-machine "CPU, 2 cores, go1.26"]
//
// p-values: in the round robin, an exact Wilcoxon signed-rank test of the
// per-round differences (variant − bare in the same round: the rounds are
// paired, and the machine's drift between rounds is larger than the
// differences); in the benchmarks, a Mann-Whitney U test over the -count
// runs, as benchstat's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peertable:", err)
		os.Exit(1)
	}
}

// samples maps a row key (a variant, or conc=N/v=variant) and a unit to
// the values measured, in file order.
type samples map[string]map[string][]float64

func (s samples) add(key, unit string, v float64) {
	if s[key] == nil {
		s[key] = make(map[string][]float64)
	}
	s[key][unit] = append(s[key][unit], v)
}

func read(path, base string) (s samples, order []string, k string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer f.Close()
	s = make(samples)
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		b, parts := res.Name.Parts()
		if string(b) != base {
			continue
		}
		var v string
		var conc string
		for _, p := range parts {
			switch p := strings.TrimPrefix(string(p), "/"); {
			case strings.HasPrefix(p, "v="):
				v = strings.TrimPrefix(p, "v=")
			case strings.HasPrefix(p, "conc="):
				conc = p
			case strings.HasPrefix(p, "k="):
				k = strings.TrimPrefix(p, "k=")
			}
		}
		if !slices.Contains(order, v) {
			order = append(order, v)
		}
		key := v
		if conc != "" {
			key = conc + "/" + v
		}
		for _, val := range res.Values {
			// Units as written (benchfmt tidies ns/op into sec/op).
			unit, v := val.Unit, val.Value
			if val.OrigUnit != "" {
				unit, v = val.OrigUnit, val.OrigValue
			}
			s.add(key, unit, v)
		}
	}
	if err := r.Err(); err != nil {
		return nil, nil, "", err
	}
	if len(order) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no Benchmark%s results", path, base)
	}
	return s, order, k, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// pvalue compares two samples as benchstat does.
func pvalue(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	th := benchmath.DefaultThresholds
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(a), &th), benchmath.NewSample(slices.Clone(b), &th))
	return c.P
}

// paired returns the median and range of a[i]-b[i].
func paired(a, b []float64) (med, lo, hi float64) {
	n := min(len(a), len(b))
	d := make([]float64, n)
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range n {
		d[i] = a[i] - b[i]
		lo, hi = math.Min(lo, d[i]), math.Max(hi, d[i])
	}
	return median(d), lo, hi
}

func us(ns float64) string { return fmt.Sprintf("%.2f", ns/1e3) }

func signedUs(ns float64) string { return fmt.Sprintf("%+.2f", ns/1e3) }

func pstr(p float64) string {
	if math.IsNaN(p) {
		return "p=?"
	}
	return fmt.Sprintf("p=%.3f", p)
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("peertable", flag.ContinueOnError)
	rrPath := fs.String("rr", "", "round robin output (cmd/roundrobin)")
	getPath := fs.String("get", "", "benchmark output (go test -bench Get)")
	machine := fs.String("machine", "", "machine and Go version to print above the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rrPath == "" || *getPath == "" {
		return errors.New("need -rr and -get")
	}
	rr, order, k, err := read(*rrPath, "RoundRobin")
	if err != nil {
		return err
	}
	get, _, _, err := read(*getPath, "Get")
	if err != nil {
		return err
	}
	if order[0] != "bare" {
		return fmt.Errorf("%s: first variant is %q, want bare", *rrPath, order[0])
	}
	const p50, mean = "p50-ns/req", "mean-ns/req"
	rounds := len(rr["bare"][p50])
	if *machine != "" {
		fmt.Fprintf(w, "%s\n\n", *machine)
	}
	fmt.Fprintf(w, "Round robin: %s variants in rotation, %d rounds; cost above bare per request: median over rounds of (variant − bare) in the same round, its range, and the p-value of those differences (Wilcoxon signed-rank). Separate benchmarks: median of the runs, added to bare, p-value against bare.\n\n", k, rounds)
	fmt.Fprintln(w, "| variant | round robin p50 | p50 added (range), µs | mean added, µs | allocs/op | B/op | sequential, µs | 64 goroutines, µs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, v := range order {
		row := []string{v}
		m := rr[v][p50]
		row = append(row, us(median(m))+" µs")
		if v == "bare" {
			row = append(row, "–", "–")
		} else {
			d, lo, hi := paired(m, rr["bare"][p50])
			row = append(row, fmt.Sprintf("%s (%s..%s) %s", signedUs(d), signedUs(lo), signedUs(hi), pstr(signedRank(m, rr["bare"][p50]))))
			dm, _, _ := paired(rr[v][mean], rr["bare"][mean])
			row = append(row, signedUs(dm))
		}
		for _, unit := range []string{"allocs/op", "B/op"} {
			val, base := median(get["conc=1/"+v][unit]), median(get["conc=1/bare"][unit])
			if v == "bare" {
				row = append(row, fmt.Sprintf("%.0f", val))
			} else {
				row = append(row, fmt.Sprintf("%+.0f", val-base))
			}
		}
		for _, conc := range []string{"conc=1/", "conc=64/"} {
			val, base := get[conc+v]["ns/op"], get[conc+"bare"]["ns/op"]
			if v == "bare" {
				row = append(row, us(median(val)))
			} else {
				row = append(row, fmt.Sprintf("%s %s", signedUs(median(val)-median(base)), pstr(pvalue(val, base))))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	if rr["httptop"] != nil {
		fmt.Fprintln(w)
		for _, peer := range []string{"httpstat", "lean", "httptop-before"} {
			if rr[peer] == nil {
				continue
			}
			d, lo, hi := paired(rr["httptop"][p50], rr[peer][p50])
			top, _, _ := paired(rr["httptop"][p50], rr["bare"][p50])
			other, _, _ := paired(rr[peer][p50], rr["bare"][p50])
			fmt.Fprintf(w, "httptop − %s, round robin p50: %s µs (%s..%s) %s; httptop's cost is %.0f%% of %s's.\n",
				peer, signedUs(d), signedUs(lo), signedUs(hi), pstr(signedRank(rr["httptop"][p50], rr[peer][p50])), 100*top/other, peer)
		}
		if rr["withcontext"] != nil {
			d, lo, hi := paired(rr["withcontext"][p50], rr["bare"][p50])
			fmt.Fprintf(w, "The request's copy alone (withcontext − bare), which every RoundTripper that traces makes and go-httpstat does not: %s µs (%s..%s) %s.\n",
				signedUs(d), signedUs(lo), signedUs(hi), pstr(signedRank(rr["withcontext"][p50], rr["bare"][p50])))
		}
	}
	return nil
}

// signedRank returns the two-sided p-value of an exact Wilcoxon
// signed-rank test of the paired differences a[i]-b[i] (zero differences
// dropped, ties given their average rank).
func signedRank(a, b []float64) float64 {
	var d []float64
	for i := range min(len(a), len(b)) {
		if x := a[i] - b[i]; x != 0 {
			d = append(d, x)
		}
	}
	n := len(d)
	if n == 0 {
		return 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return math.Abs(d[idx[i]]) < math.Abs(d[idx[j]]) })
	// Ranks doubled, so that average ranks of ties stay integers.
	rank2 := make([]int, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(d[idx[j+1]]) == math.Abs(d[idx[i]]) {
			j++
		}
		for k := i; k <= j; k++ {
			rank2[idx[k]] = i + j + 2 // 2 × the average of ranks i+1..j+1
		}
		i = j + 1
	}
	total, wplus := 0, 0
	for i, r := range rank2 {
		total += r
		if d[i] > 0 {
			wplus += r
		}
	}
	// counts[w]: sign assignments whose positive ranks sum to w.
	counts := make([]float64, total+1)
	counts[0] = 1
	for _, r := range rank2 {
		for w := total; w >= r; w-- {
			counts[w] += counts[w-r]
		}
	}
	extreme := min(wplus, total-wplus)
	var tail float64
	for w := 0; w <= extreme; w++ {
		tail += counts[w]
	}
	return math.Min(1, 2*tail/math.Pow(2, float64(n)))
}
