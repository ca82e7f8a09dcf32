package diff

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/golden"
	"github.com/httptop/httptop/internal/report"
	"github.com/httptop/httptop/snapshot"
)

// metricOf returns the metric with the given key of a host.
func metricOf(t *testing.T, hd *HostDiff, key string) *Metric {
	t.Helper()
	for i := range hd.Metrics {
		if hd.Metrics[i].Key == key {
			return &hd.Metrics[i]
		}
	}
	t.Fatalf("host %s has no metric %s", hd.Label, key)
	return nil
}

// buildFixture diffs two scenarios.
func buildFixture(t *testing.T, before, after scenario, opts Options) *Diff {
	t.Helper()
	d, err := Build(fixtureInput(before), fixtureInput(after), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPoolScenario checks the diff of the pool-size scenario against what
// it implies: waiting 28 → 0, conn-wait ~370 → ~0 ms, p50 400 → 50 ms,
// req/s 80 → 640, pool_saturated gone, each beyond noise.
func TestPoolScenario(t *testing.T) {
	d := buildFixture(t, pool4, pool32, Options{})
	if len(d.Hosts) != 1 {
		t.Fatalf("%d hosts, want 1", len(d.Hosts))
	}
	hd := &d.Hosts[0]
	if hd.Match != MatchSame || hd.Label != "default → https://backend.internal" {
		t.Errorf("host %q matched %q, want the same host", hd.Label, hd.Match)
	}
	for _, tt := range []struct {
		key                string
		before, after, tol float64
		verdict            string
	}{
		{"rps", 80, 640, 5, VerdictBetter},
		{"latency_p50_ms", 400, 50.5, 1, VerdictBetter},
		{"conn_wait_p95_ms", 370, 0.5, 3, VerdictBetter},
		{"waiting", 28, 0.02, 0.5, VerdictBetter},
		{"pool_open", 4, 32, 0, VerdictChanged},
		{"pool_limit", 4, 32, 0, VerdictChanged},
		{"tls_mem_per_conn_bytes", 40 << 10, 40 << 10, 0, VerdictSame},
		{"errors_per_s", 0, 0, 0, VerdictSame},
	} {
		m := metricOf(t, hd, tt.key)
		if math.Abs(m.Before-tt.before) > tt.tol || math.Abs(m.After-tt.after) > tt.tol || m.Verdict != tt.verdict {
			t.Errorf("%s: %v → %v %s, want %v → %v %s", tt.key, m.Before, m.After, m.Verdict, tt.before, tt.after, tt.verdict)
		}
		if beyond := tt.verdict == VerdictBetter || tt.verdict == VerdictChanged; m.BeyondNoise != beyond {
			t.Errorf("%s: beyond noise %v, want %v", tt.key, m.BeyondNoise, beyond)
		}
	}
	// The figures are the reports' own.
	rb := report.Build(fixtureCapture(pool4), capture.Profiles{})
	if m := metricOf(t, hd, "latency_p95_ms"); m.Before != rb.Hosts[0].Latency.P95 {
		t.Errorf("p95 before %v, report %v", m.Before, rb.Hosts[0].Latency.P95)
	}
	if m := metricOf(t, hd, "waiting"); m.Test == nil || m.Test.NBefore != fixSeconds || m.Test.P >= Alpha || m.Test.Basis != "per-second mean waiting" {
		t.Errorf("waiting test %+v, want %d seconds a side, p < %v", m.Test, fixSeconds, Alpha)
	}

	if len(hd.Diagnoses) != 1 {
		t.Fatalf("diagnoses %+v, want pool_saturated", hd.Diagnoses)
	}
	dd := hd.Diagnoses[0]
	if dd.Kind != snapshot.KindPoolSaturated || dd.Status != StatusGone || !dd.BeyondNoise || dd.ShareBefore != 1 || dd.ShareAfter != 0 {
		t.Errorf("diagnosis %+v, want pool_saturated gone beyond noise", dd)
	}
	if len(dd.Evidence) != 4 || dd.Evidence[0].Name != "avg_waiting" || dd.Evidence[0].Before == nil || dd.Evidence[0].After != nil {
		t.Errorf("evidence %+v, want before only, by name", dd.Evidence)
	}
	if lb, la := hd.Little.Before, hd.Little.After; lb == nil || la == nil || lb.Recommended != 32 || la.N != 32 {
		t.Errorf("pool sizing %+v → %+v, want 32 recommended, then a pool of 32", lb, la)
	}
	if hd.BeyondNoise != 8 || d.beyond() != 9 {
		t.Errorf("%d metrics and %d changes beyond noise, want 8 and 9", hd.BeyondNoise, d.beyond())
	}
}

// TestUnchangedNoFlags diffs captures of the same scenario drawn with
// different noise, many times: nothing may be flagged.
func TestUnchangedNoFlags(t *testing.T) {
	for _, base := range []scenario{pool4, pool32} {
		for seed := uint64(10); seed < 40; seed++ {
			b, a := base, base
			b.seed, a.seed = seed, seed+1000
			d := buildFixture(t, b, a, Options{})
			if n := d.beyond(); n > 0 {
				var buf bytes.Buffer
				d.WriteSummary(&buf)
				t.Fatalf("limit %d, seeds %d and %d: %d changes beyond noise:\n%s", base.limit, b.seed, a.seed, n, buf.String())
			}
			if dd := d.Hosts[0].Diagnoses; base.waiting >= 1 && (len(dd) != 1 || dd[0].Status != StatusStayed || dd[0].BeyondNoise) {
				t.Fatalf("diagnoses %+v, want pool_saturated stayed", dd)
			}
		}
	}
}

// TestWelch checks the test against values computed independently (the
// t density integrated numerically).
func TestWelch(t *testing.T) {
	for _, tt := range []struct {
		a, b      []float64
		t, df, p  float64
		tolP      float64
		wantOK    bool
		wantExact bool
	}{
		{a: []float64{1, 2, 3, 4, 5}, b: []float64{2, 4, 6, 8, 10}, t: 1.8973666, df: 5.8823529, p: 0.10753119, tolP: 1e-6, wantOK: true},
		{a: []float64{80, 82, 79, 81, 78, 80}, b: []float64{640, 650, 630, 655, 645}, t: 129.96174, df: 4.1443664, p: 1.2193478e-8, tolP: 1e-10, wantOK: true},
		{a: []float64{27.1, 28.3, 27.9, 28.8, 27.5}, b: []float64{28.0, 27.2, 29.1, 28.4}, t: 0.5144521, df: 5.9177708, p: 0.62557631, tolP: 1e-6, wantOK: true},
		{a: []float64{4, 4, 4}, b: []float64{32, 32, 32}, df: 4, p: 0, wantOK: true, wantExact: true},
		{a: []float64{4, 4, 4}, b: []float64{4, 4, 4}, df: 4, p: 1, wantOK: true, wantExact: true},
		{a: []float64{1, 2}, b: []float64{3, 4, 5}},
	} {
		tv, df, p, ok := welch(tt.a, tt.b)
		if ok != tt.wantOK {
			t.Errorf("welch(%v, %v): ok %v", tt.a, tt.b, ok)
			continue
		}
		if !ok {
			continue
		}
		if math.Abs(tv-tt.t) > 1e-5*math.Max(1, math.Abs(tt.t)) || math.Abs(df-tt.df) > 1e-6*tt.df || math.Abs(p-tt.p) > tt.tolP {
			t.Errorf("welch(%v, %v) = t %v, df %v, p %v; want %v, %v, %v", tt.a, tt.b, tv, df, p, tt.t, tt.df, tt.p)
		}
	}
}

// TestWelchFalseAlarms draws both samples of each trial from one normal
// distribution: the test must reject at about its level, Alpha, and the
// minimum change must keep almost all of those from being flagged.
func TestWelchFalseAlarms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const trials = 4000
	rejected, flagged := 0, 0
	draw := func(n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = 100 + 5*rng.NormFloat64()
		}
		return vs
	}
	for range trials {
		a, b := draw(5), draw(5)
		_, _, p, _ := welch(a, b)
		if p < Alpha {
			rejected++
			if math.Abs(mean(b)-mean(a)) >= MinRelativeChange*mean(a) {
				flagged++
			}
		}
	}
	// Binomial(4000, 0.01): mean 40, sd 6.3.
	if rejected < 20 || rejected > 60 {
		t.Errorf("rejected %d of %d identical pairs, want about %v", rejected, trials, Alpha*trials)
	}
	if flagged > 4 {
		t.Errorf("flagged %d of %d identical pairs with 5%% noise, want almost none", flagged, trials)
	}
	t.Logf("identical pairs (n = 5, 5%% noise): %d of %d significant at %v, %d beyond the minimum change", rejected, trials, Alpha, flagged)
}

// TestMinimumChange: a significant change smaller than the minimum is
// within noise, and one whose tested values went the other way too.
func TestMinimumChange(t *testing.T) {
	b, a := pool4, pool4
	a.seed, a.rps = 99, 84 // +5%: significant over 20 seconds of 2% noise, too small to flag
	d := buildFixture(t, b, a, Options{})
	m := metricOf(t, &d.Hosts[0], "rps")
	if m.Test == nil || m.Test.P >= Alpha || m.BeyondNoise || m.Verdict != VerdictNoise || !strings.Contains(m.Test.Note, "smaller than the minimum change") {
		t.Errorf("+5%% req/s: %+v, test %+v; want significant, within noise", m, m.Test)
	}
}

// TestTailAlone: a tail that moves while the median holds is not flagged,
// however significant: the tails of one workload captured twice on a busy
// machine differ that much.
func TestTailAlone(t *testing.T) {
	b, a := pool4, pool4
	a.seed, a.tail = 77, 1.4
	d := buildFixture(t, b, a, Options{})
	for _, key := range []string{"latency_p95_ms", "latency_p99_ms"} {
		m := metricOf(t, &d.Hosts[0], key)
		if m.Test == nil || m.Test.P >= Alpha || math.Abs(*m.RelChange) < MinRelativeChange || m.BeyondNoise || m.Verdict != VerdictNoise ||
			!strings.Contains(m.Test.Note, "p50 did not move beyond noise") {
			t.Errorf("%s +40%% alone: %+v, test %+v; want significant, large, and within noise", key, m, m.Test)
		}
	}
	if n := d.beyond(); n != 0 {
		t.Errorf("%d changes beyond noise, want none", n)
	}
}

// TestTooShort: captures of fewer than three whole seconds are not
// tested.
func TestTooShort(t *testing.T) {
	b, a := fixtureCapture(pool4), fixtureCapture(pool32)
	for _, c := range []*capture.Capture{b, a} {
		c.Snapshots = c.Snapshots[:3]
		c.End = c.Snapshots[2].Time
	}
	d, err := Build(Input{Capture: b}, Input{Capture: a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := metricOf(t, &d.Hosts[0], "waiting")
	if m.Verdict != VerdictUntested || m.BeyondNoise || !strings.Contains(m.Test.Note, "too few values") {
		t.Errorf("2 s captures: %+v, test %+v; want not tested", m, m.Test)
	}
	if d.CPU != nil || d.Wall != nil || len(d.Warnings) != 2 || !strings.Contains(d.Warnings[0], "neither capture has a cpu profile") {
		t.Errorf("without profiles: cpu %v wall %v, warnings %q", d.CPU, d.Wall, d.Warnings)
	}
}

// TestCodePerRequest: CPU per request by package and function, against
// the fixture's fixed costs, and the pprof pair scaled per request.
func TestCodePerRequest(t *testing.T) {
	d := buildFixture(t, pool4, pool32, Options{})
	cd := d.CPU
	if cd == nil || cd.Per != PerRequest || cd.Unit != "nanoseconds" {
		t.Fatalf("cpu %+v, want per request", cd)
	}
	// The requests completed over the profile's 20 s: the hosts' counters.
	in := fixtureInput(pool4)
	want := float64(in.Capture.Snapshots[fixSeconds].Hosts[0].Requests)
	if cd.Before.Requests != want {
		t.Errorf("requests before %v, want %v", cd.Before.Requests, want)
	}
	var row *CodeRow
	for i, r := range cd.Views[0].Rows {
		if r.Name == "encoding/json" {
			row = &cd.Views[0].Rows[i]
		}
	}
	if cd.Views[0].Name != "package" || cd.Views[0].Order != OrderCum || row == nil {
		t.Fatalf("first view %+v, want packages by cum with encoding/json", cd.Views[0])
	}
	// 200, then 100 samples of 10 ms per 1000 requests, less the integer
	// division of fixtureProfiles.
	if math.Abs(row.CumBefore-2e6) > 0.02e6 || math.Abs(row.CumAfter-1e6) > 0.02e6 || row.RelChange == nil || math.Abs(*row.RelChange+0.5) > 0.01 {
		t.Errorf("encoding/json cum per request %v → %v (%v), want 2 ms → 1 ms (−50%%)", row.CumBefore, row.CumAfter, row.RelChange)
	}
	pkgFlat := float64(flat(in.Profiles.CPU, "encoding/json")) / cd.Before.Requests
	if math.Abs(row.FlatBefore-pkgFlat) > 1e-3 {
		t.Errorf("encoding/json flat per request %v, the profile's %v", row.FlatBefore, pkgFlat)
	}
	if fv := cd.Views[1]; fv.Name != "function" || fv.Order != OrderFlat || fv.Rows[0].Name != "encoding/json.(*decodeState).object" {
		t.Errorf("function view %+v, want the JSON decoder first", fv)
	}

	// The pair for go tool pprof -diff_base: values per request.
	q := scaledProfile(cd.before, cd.beforeIdx, cd.beforeScale, "note")
	if err := q.CheckValid(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range q.Sample {
		total += s.Value[0]
	}
	if len(q.SampleType) != 1 || q.SampleType[0].Type != "cpu" || math.Abs(float64(total)-cd.Before.PerUnit) > float64(len(q.Sample)) {
		t.Errorf("scaled profile: types %v, total %d, want cpu and %v", q.SampleType, total, cd.Before.PerUnit)
	}
	if q.Comments[len(q.Comments)-1] != "note" || len(cd.before.SampleType) != 2 {
		t.Error("scaling changed the capture's profile or lost the comment")
	}
}

func TestMatchHosts(t *testing.T) {
	h := func(client, scheme, host string) report.HostReport {
		return report.HostReport{Client: client, Scheme: scheme, Host: host}
	}
	before := []report.HostReport{
		h("api", "https", "old.internal:443"),
		h("api", "https", "same.internal:443"),
		h("search", "http", "127.0.0.1:9200"),
		h("gone", "http", "gone.internal:80"),
	}
	after := []report.HostReport{
		h("api", "https", "same.internal:443"),
		h("api", "https", "new.internal:8443"),
		h("search", "http", "127.0.0.1:9300"),
		h("fresh", "http", "fresh.internal:80"),
	}
	pairs, warnings := matchHosts(before, after, []HostMatch{{Old: "old.internal", New: "https://new.internal:8443"}, {Old: "nowhere", New: "x"}})
	got := map[string]string{}
	for _, p := range pairs {
		var b, a string
		if p.before != nil {
			b = p.before.Host
		}
		if p.after != nil {
			a = p.after.Host
		}
		got[b+" → "+a] = p.match
	}
	want := map[string]string{
		"same.internal:443 → same.internal:443": MatchSame,
		"old.internal:443 → new.internal:8443":  MatchRule,
		"127.0.0.1:9200 → 127.0.0.1:9300":       MatchAuto,
		" → fresh.internal:80":                  MatchAfterOnly,
		"gone.internal:80 → ":                   MatchBeforeOnly,
	}
	if len(got) != len(want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: matched %q, want %q", k, got[k], v)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "--match nowhere=x: the before capture has no host nowhere") {
		t.Errorf("warnings %q", warnings)
	}
	if pairs[0].after.Host != "same.internal:443" || pairs[len(pairs)-1].before.Host != "gone.internal:80" {
		t.Error("pairs are not in the after report's order, then the before hosts left")
	}
}

func TestParseMatch(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want HostMatch
		err  bool
	}{
		{"a:443=b:8443", HostMatch{"a:443", "b:8443"}, false},
		{" a = b ", HostMatch{"a", "b"}, false},
		{"a", HostMatch{}, true},
		{"=b", HostMatch{}, true},
		{"a=", HostMatch{}, true},
	} {
		got, err := ParseMatch(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseMatch(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestPackageOf(t *testing.T) {
	for in, want := range map[string]string{
		"encoding/json.(*decodeState).object":            "encoding/json",
		"main.main":                                      "main",
		"runtime.gopark":                                 "runtime",
		"github.com/x/y/z.(*T).M":                        "github.com/x/y/z",
		"github.com/x/y.v2.F":                            "github.com/x/y.v2",
		"gopkg.in/yaml.v3.Unmarshal":                     "gopkg.in/yaml.v3",
		"gopkg.in/yaml.v3.(*decoder).unmarshal":          "gopkg.in/yaml.v3",
		"net/http.(*Transport).roundTrip-fm":             "net/http",
		"github.com/x/y.Map[go.shape.int].Get":           "github.com/x/y",
		"main.vlog":                                      "main",
		"0x4a5b6c":                                       "0x4a5b6c",
		"gcWriteBarrier":                                 "gcWriteBarrier",
		"golang.org/x/net/http2.(*ClientConn).RoundTrip": "golang.org/x/net/http2",
	} {
		if got := PackageOf(in); got != want {
			t.Errorf("PackageOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDifferentPrograms(t *testing.T) {
	b, a := fixtureInput(pool4), fixtureInput(pool32)
	a.Capture.Program = "orders-api-v2"
	d, err := Build(b, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Warnings) != 1 || d.Warnings[0] != "the captures are of different programs (before: orders-api, after: orders-api-v2); compared anyway" {
		t.Errorf("warnings %q", d.Warnings)
	}
	if d.title() != "orders-api → orders-api-v2" || d.Hosts[0].BeyondNoise == 0 {
		t.Errorf("title %q, %d flagged: the comparison must still be made", d.title(), d.Hosts[0].BeyondNoise)
	}
}

// TestOneSideWithoutProfile: the pool part stands, the code part is left
// out with a warning.
func TestOneSideWithoutProfile(t *testing.T) {
	b, a := fixtureInput(pool4), fixtureInput(pool32)
	a.Profiles.CPU = nil
	d, err := Build(b, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.CPU != nil || d.Wall == nil || len(d.Warnings) != 1 || d.Warnings[0] != "the after capture has no cpu profile: no cpu comparison" {
		t.Errorf("cpu %v, wall %v, warnings %q", d.CPU, d.Wall != nil, d.Warnings)
	}
	if d.Hosts[0].BeyondNoise != 8 {
		t.Errorf("%d metrics beyond noise, want the 8 of the pool scenario", d.Hosts[0].BeyondNoise)
	}
}

// TestGolden renders the pool scenario's diff as diff.md, diff.json and
// the terminal summary.
func TestGolden(t *testing.T) {
	d := buildFixture(t, pool4, pool32, Options{})
	d.Before.Dir, d.After.Dir = "pool4", "pool32"
	for name, write := range map[string]func(w *bytes.Buffer) error{
		"diff.md":     func(w *bytes.Buffer) error { return d.WriteMarkdown(w) },
		"diff.json":   func(w *bytes.Buffer) error { return d.WriteJSON(w) },
		"summary.txt": func(w *bytes.Buffer) error { return d.WriteSummary(w) },
	} {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", name), buf.Bytes())
	}
}

// TestWrite writes every file and reads them back: the JSON as a Diff,
// the pprof pair as profiles of one value per request.
func TestWrite(t *testing.T) {
	d := buildFixture(t, pool4, pool32, Options{})
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{capture.DiffJSONFile, capture.DiffMarkdownFile, capture.DiffHTMLFile, capture.DiffCPUFlame,
		capture.DiffWallFlame, capture.CPUBefore, capture.CPUAfter, capture.WallBefore, capture.WallAfter} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", name, fi, err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, capture.DiffJSONFile))
	var back Diff
	if err := json.Unmarshal(data, &back); err != nil || back.Version != Version || len(back.Hosts) != 1 || back.CPU == nil {
		t.Errorf("diff.json does not read back: %v", err)
	}
	for _, name := range []string{capture.CPUBefore, capture.CPUAfter} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var total int64
		for _, s := range p.Sample {
			total += s.Value[0]
		}
		want := d.CPU.Before.PerUnit
		if name == capture.CPUAfter {
			want = d.CPU.After.PerUnit
		}
		if math.Abs(float64(total)-want) > float64(len(p.Sample)) || !strings.Contains(strings.Join(p.Comments, "\n"), "per request") {
			t.Errorf("%s: total %d, comments %q; want %v per request", name, total, p.Comments, want)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, capture.DiffCPUFlame))
	if !bytes.Contains(svg, []byte("CPU per request: after against before")) || !bytes.Contains(svg, []byte("encoding/json.(*decodeState).object (after ")) {
		t.Error("diff-cpu.svg lacks its title or the decoder's frame")
	}
}

// TestHTMLSelfContained checks, without a browser, that diff.html fetches
// nothing and links only to its files and the two reports.
func TestHTMLSelfContained(t *testing.T) {
	d := buildFixture(t, pool4, pool32, Options{})
	d.Before.Report, d.After.Report = "../pool4/report.html", "report.html"
	var buf bytes.Buffer
	if err := d.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "ZgotmplZ"} {
		if strings.Contains(page, bad) {
			t.Errorf("diff.html contains %q", bad)
		}
	}
	allowed := map[string]bool{
		"../pool4/report.html": true, "report.html": true, capture.DiffCPUFlame: true, capture.DiffWallFlame: true,
		capture.CPUBefore: true, capture.CPUAfter: true, capture.WallBefore: true, capture.WallAfter: true,
	}
	for _, part := range strings.Split(page, `href="`)[1:] {
		h := part[:strings.IndexByte(part, '"')]
		if !strings.HasPrefix(h, "#") && !allowed[h] {
			t.Errorf("diff.html links to %q", h)
		}
	}
	if got := strings.Count(page, `<svg class="chart"`); got != 3 {
		t.Errorf("diff.html has %d charts, want 3 for its host", got)
	}
	for _, want := range []string{"pool_saturated", "better, beyond noise", "Welch", "encoding/json", "go tool pprof -top -diff_base cpu-before.pb.gz cpu-after.pb.gz"} {
		if !strings.Contains(page, want) {
			t.Errorf("diff.html lacks %q", want)
		}
	}
}

func TestCompareFindings(t *testing.T) {
	f := func(kind snapshot.DiagnosisKind, n int) report.Finding {
		return report.Finding{Diagnosis: snapshot.Diagnosis{Kind: kind, Severity: snapshot.SeverityWarning,
			Evidence: map[string]float64{"n": float64(n)}}, Snapshots: n}
	}
	before := []report.Finding{f("a", 20), f("b", 20), f("c", 20), f("d", 2)}
	after := []report.Finding{f("b", 4), f("c", 15), f("d", 18), f("e", 20)}
	got := map[snapshot.DiagnosisKind]DiagnosisDiff{}
	var order []string
	for _, dd := range compareFindings(before, after, 20, 20, func(f *report.Finding) string { return string(f.Kind) }) {
		got[dd.Kind] = dd
		order = append(order, string(dd.Kind)+" "+dd.Status)
	}
	for kind, want := range map[snapshot.DiagnosisKind]struct {
		status string
		beyond bool
	}{
		"a": {StatusGone, true},
		"b": {StatusReceded, true},  // 100% → 20%
		"c": {StatusStayed, false},  // 100% → 75%
		"d": {StatusGrew, true},     // 10% → 90%
		"e": {StatusAppeared, true}, // 0 → 100%
	} {
		if dd := got[kind]; dd.Status != want.status || dd.BeyondNoise != want.beyond {
			t.Errorf("%s: %s (beyond noise %v), want %s (%v)", kind, dd.Status, dd.BeyondNoise, want.status, want.beyond)
		}
	}
	if want := "e appeared,d grew,a gone,b receded,c stayed"; strings.Join(order, ",") != want {
		t.Errorf("order %q, want %q", strings.Join(order, ","), want)
	}
	if ev := got["d"].Evidence; len(ev) != 1 || *ev[0].Before != 2 || *ev[0].After != 18 {
		t.Errorf("evidence %+v, want n 2 → 18", ev)
	}
}
