package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/golden"
	"github.com/httptop/httptop/internal/proftest"
	"github.com/httptop/httptop/snapshot"
)

// hostByName returns the report of the named host, failing the test when
// there is none.
func hostByName(t *testing.T, r *Report, host string) *HostReport {
	t.Helper()
	for i := range r.Hosts {
		if r.Hosts[i].Host == host {
			return &r.Hosts[i]
		}
	}
	t.Fatalf("report has no host %s", host)
	return nil
}

// approx reports whether got is within 1e-6 of want.
func approx(got, want float64) bool { return math.Abs(got-want) < 1e-6 }

// TestFigures checks every figure the report computes for the fixture
// against what the scenario implies (see fixtureCapture).
func TestFigures(t *testing.T) {
	r := Build(fixtureCapture(), capture.Profiles{CPU: fixtureCPU(), Wall: fixtureWall(), Mutex: fixtureMutex(), Block: fixtureBlock()})
	if got, want := len(r.Hosts), 3; got != want {
		t.Fatalf("report has %d hosts, want %d", got, want)
	}
	// Ordered by severity (backend and partner are critical), then rate.
	for i, want := range []string{backendHost, partnerHost, searchHost} {
		if r.Hosts[i].Host != want {
			t.Errorf("Hosts[%d] = %s, want %s", i, r.Hosts[i].Host, want)
		}
	}
	if r.Snapshots != fixSnapshots || r.Seconds != 20 || r.Program != "orders-api" || r.PID != 4242 {
		t.Errorf("header: %d snapshots, %v s, %s pid %d; want 21, 20, orders-api 4242", r.Snapshots, r.Seconds, r.Program, r.PID)
	}

	type fig struct {
		name      string
		got, want float64
	}
	check := func(h *HostReport, figs []fig) {
		t.Helper()
		for _, f := range figs {
			if !approx(f.got, f.want) {
				t.Errorf("%s: %s = %v, want %v", h.Host, f.name, f.got, f.want)
			}
		}
	}

	b := hostByName(t, r, backendHost)
	check(b, []fig{
		{"seconds", float64(b.Seconds), 20},
		{"requests", float64(b.Requests), 1600},
		{"rps (λ)", b.RPS, 80},
		{"latency p50", b.Latency.P50, 400},
		{"latency p95 (median of 415/420/425)", b.Latency.P95, 420},
		{"latency p99 (median of 430/435/440)", b.Latency.P99, 435},
		{"worst p99", b.Latency.WorstP99, 440},
		{"latency max", b.Latency.Max, 490},
		{"conn wait p95", b.ConnWait.P95, 370},
		{"mean waiting", b.Pool.MeanWaiting, 28},
		{"peak waiting", float64(b.Pool.PeakWaiting), 28},
		{"mean in flight", b.Pool.MeanInFlight, 32},
		{"peak in flight", float64(b.Pool.PeakInFlight), 32},
		{"peak open", float64(b.Pool.PeakOpen), 4},
		{"mean latency", b.Little.MeanLatency, 400},
		{"mean conn wait", b.Little.MeanConnWait, 350},
		{"W", b.Little.Service, 50},
		{"λ·W", b.Little.Load, 4},
		{"N", float64(b.Little.N), 4},
		{"utilisation", b.Little.Utilisation, 1},
		{"demand (mean in flight)", b.Little.Demand, 32},
		{"P(wait) at N", b.Little.PWait, 1},
		{"Erlang N", float64(b.Little.ErlangN), float64(bruteForcePool(32, TargetWaitProbability))},
		{"recommended N (peak in flight)", float64(b.Little.Recommended), 32},
		{"new conns/s", b.Churn.NewPerSecond, 0},
		{"reused/s", b.Churn.ReusedPerSecond, 80},
		{"conns seen", float64(b.Handshakes.Conns), 4},
		{"conns opened", float64(b.Handshakes.Opened), 0},
		{"dial p50 (nearest rank of 1.2..1.8)", b.Handshakes.Dial.P50, 1.4},
		{"dial mean", b.Handshakes.Dial.Mean, 1.5},
		{"tls p50", b.Handshakes.TLS.P50, 14},
		{"tls p95", b.Handshakes.TLS.P95, 18},
		{"set-up per second", b.Handshakes.SetupPerSecond, 0},
		{"memory per conn", b.Memory.PerConn, 60 << 10},
		{"TLS memory per conn", b.Memory.TLSPerConn, 40 << 10},
	})
	if b.Little.Relation != "at" || !b.Little.Saturated || b.Little.Stable || !b.Little.Capped {
		t.Errorf("backend: relation %q saturated %v stable %v capped %v, want at, true, false, true",
			b.Little.Relation, b.Little.Saturated, b.Little.Stable, b.Little.Capped)
	}
	for _, want := range []string{"80.0 req/s × 50.0ms = 4.00", "N = 4", "λ·W equals N", "wait 350ms for a connection on average (28.0 waiting at any time, 88% of latency)",
		"N ÷ W = 80.0 req/s", "Raise MaxConnsPerHost from 4 to 32", "MaxIdleConnsPerHost from 2 to 32"} {
		if !strings.Contains(b.Little.Verdict, want) {
			t.Errorf("backend verdict lacks %q:\n%s", want, b.Little.Verdict)
		}
	}

	p := hostByName(t, r, partnerHost)
	check(p, []fig{
		{"rps", p.RPS, 20},
		{"latency p50", p.Latency.P50, 32},
		{"conn wait p95", p.ConnWait.P95, 62},
		{"mean latency", p.Little.MeanLatency, 45},
		{"mean conn wait", p.Little.MeanConnWait, 15},
		{"W", p.Little.Service, 30},
		{"λ·W", p.Little.Load, 0.6},
		{"N (unlimited)", float64(p.Little.N), 0},
		{"Erlang N at 0.6", float64(p.Little.ErlangN), 3},
		{"recommended", float64(p.Little.Recommended), 3},
		{"new/s", p.Churn.NewPerSecond, 5},
		{"reused/s", p.Churn.ReusedPerSecond, 15},
		{"new fraction", p.Churn.NewFraction, 0.25},
		{"closed", float64(p.Churn.ClosedConns), 100},
		{"conns seen", float64(p.Handshakes.Conns), 21},
		{"opened", float64(p.Handshakes.Opened), 20},
		{"dial p50", p.Handshakes.Dial.P50, 20},
		{"tls p50", p.Handshakes.TLS.P50, 40},
		{"set-up ms/s = 5 × (20 + 40)", p.Handshakes.SetupPerSecond, 300},
	})
	if p.Little.Relation != "unlimited" || p.Little.Saturated {
		t.Errorf("partner: relation %q saturated %v, want unlimited, false", p.Little.Relation, p.Little.Saturated)
	}

	s := hostByName(t, r, searchHost)
	check(s, []fig{
		{"seconds (first seen 10 s in, series from 9 s)", float64(s.Seconds), 11},
		{"snapshots", float64(s.Snapshots), 11},
		{"first seen", s.FirstSeen, 10},
		{"rps", s.RPS, 5},
		{"latency p50", s.Latency.P50, 8},
		{"W", s.Little.Service, 8},
		{"λ·W", s.Little.Load, 0.04},
		{"recommended", float64(s.Little.Recommended), 1},
	})
	if s.Pool.LimitsKnown || s.Little.Relation != "unlimited" {
		t.Errorf("search: limits known %v, relation %q; want false, unlimited", s.Pool.LimitsKnown, s.Little.Relation)
	}

	// Diagnoses: one finding per kind and host, worst severity, counted.
	if len(b.Diagnoses) != 1 || b.Diagnoses[0].Kind != snapshot.KindPoolSaturated || b.Diagnoses[0].Snapshots != 21 ||
		b.Diagnoses[0].Severity != snapshot.SeverityCritical {
		t.Errorf("backend diagnoses = %+v, want pool_saturated critical in 21 snapshots", b.Diagnoses)
	}
	if len(p.Diagnoses) != 1 || p.Diagnoses[0].Kind != snapshot.KindIdleChurn || p.Diagnoses[0].Snapshots != 16 ||
		p.Diagnoses[0].Severity != snapshot.SeverityCritical || p.Diagnoses[0].FirstSeen != 5 || p.Diagnoses[0].LastSeen != 20 {
		t.Errorf("partner diagnoses = %+v, want idle_churn, worst critical, in 16 snapshots from 5 s to 20 s", p.Diagnoses)
	}
	if len(s.Diagnoses) != 0 {
		t.Errorf("search diagnoses = %+v, want none", s.Diagnoses)
	}

	// Top functions.
	if r.TopCPU == nil || r.TopWall == nil {
		t.Fatal("top tables missing")
	}
	if got, want := len(r.TopCPU.Funcs), 10; got != want {
		t.Errorf("top CPU has %d functions, want %d", got, want)
	}
	if f := r.TopCPU.Funcs[0]; f.Name != "encoding/json.(*encodeState).marshal" || f.Flat != 420*10e6 {
		t.Errorf("top CPU function = %s flat %d, want encoding/json.(*encodeState).marshal flat 4.2e9", f.Name, f.Flat)
	}
	if f := r.TopCPU.Funcs[1]; f.Name != "runtime.mallocgc" || f.Flat != 185*10e6 {
		t.Errorf("second CPU function = %s flat %d, want runtime.mallocgc 1.85e9", f.Name, f.Flat)
	}
	if r.TopCPU.Total != 934*10e6 || r.TopCPU.FlameGraph != capture.CPUFlame {
		t.Errorf("top CPU total %d flame graph %q, want 9.34e9 and %s", r.TopCPU.Total, r.TopCPU.FlameGraph, capture.CPUFlame)
	}
	if f := r.TopWall.Funcs[0]; f.Name != "runtime.gopark" || f.Flat != 43200*10e6 {
		t.Errorf("top wall function = %s flat %d, want runtime.gopark 4.32e11", f.Name, f.Flat)
	}

	checkHot(t, r)
}

// checkHot checks the hot functions in the program's terms against the
// fixture profiles (values in 10 ms samples; the CPU profile holds 934).
func checkHot(t *testing.T, r *Report) {
	t.Helper()
	h := r.Hot
	if h == nil || h.CPU == nil || h.Waits == nil {
		t.Fatalf("hot = %+v, want the CPU and wall-clock views", h)
	}
	code := map[string]int64{
		"main.encodeOrder": 580, "main.worker": 134, "main.decodeReply": 80, "main.logLine": 12,
		flame.CategoryGC.Title(): 83, flame.CategorySyscall.Title(): 30, flame.CategoryScheduler.Title(): 15,
	}
	if len(h.CPU.Code) != len(code) {
		t.Errorf("code view %+v, want %d entries", h.CPU.Code, len(code))
	}
	for _, e := range h.CPU.Code {
		if want := code[e.Name] * 10e6; e.Value != want {
			t.Errorf("code view: %s = %d, want %d", e.Name, e.Value, want)
		}
	}
	if e := h.CPU.Code[0]; e.Name != "main.encodeOrder" || e.Pct != round3(100*580.0/934) || e.Module != "example.com/orders" {
		t.Errorf("first of the code view = %+v, want main.encodeOrder at 62.1%% in example.com/orders", e)
	}
	if h.CPU.HttptopPct != 0 || h.CPU.Profile != capture.CPUProfile || h.CPU.Seconds != 20 {
		t.Errorf("CPU view httptop %.1f%% profile %q seconds %v", h.CPU.HttptopPct, h.CPU.Profile, h.CPU.Seconds)
	}
	if e := h.CPU.Packages[0]; e.Name != "main" || e.Value != 806*10e6 {
		t.Errorf("first package = %+v, want main with 806 samples", e)
	}
	cats := map[flame.Category]int64{}
	var sum int64
	for _, e := range h.CPU.Categories {
		cats[e.Category] = e.Value / 10e6
		sum += e.Value
	}
	if sum != h.CPU.Total || cats[flame.CategoryEncoding] != 475 || cats[flame.CategoryGC] != 268 || cats[flame.CategoryCrypto] != 90 {
		t.Errorf("categories %v (sum %d of %d), want encoding 475, GC 268, crypto 90", cats, sum, h.CPU.Total)
	}

	w := h.Waits
	buckets := map[flame.WaitKind]int64{}
	for _, b := range w.Buckets {
		buckets[b.Kind] = b.Value / 10e6
	}
	if buckets[flame.WaitConn] != 22400 || buckets[flame.WaitHeaders] != 3200 || buckets[flame.WaitOutside] != 660 || w.Requests != 26260*10e6 {
		t.Errorf("waits %v of %d, want 22400 waiting for a connection, 3200 for headers, 660 outside, of 26260", buckets, w.Requests/10e6)
	}
	if b := w.Buckets[0]; b.Kind != flame.WaitConn || b.Goroutines != 11.2 || b.Funcs[0].Name != "main.worker" {
		t.Errorf("waiting for a connection = %+v, want 11.2 goroutines charged to main.worker", b)
	}

	if len(h.Contention) != 2 || h.Contention[0].Kind != snapshot.ProfileBlock || h.Contention[1].Kind != snapshot.ProfileMutex {
		t.Fatalf("contention tables %+v, want block then mutex", h.Contention)
	}
	block := h.Contention[0]
	if block.Total != 160*10e6 || len(block.Sites) != 3 {
		t.Fatalf("block table %+v, want 3 sites of 1.6 s in all (httptop's 0.4 s left out)", block)
	}
	if s := block.Sites[0]; s.Func != "main.(*cache).get" || s.On != "sync.(*Mutex).Lock" || s.Delay != 800e6 || s.Pct != 50 || !s.Program {
		t.Errorf("top blocking site = %+v, want main.(*cache).get on sync.(*Mutex).Lock, 800 ms, 50%%", s)
	}
	if s := block.Sites[1]; s.Func != "net/http.(*persistConn).readLoop" || s.Program {
		t.Errorf("second blocking site = %+v, want net/http's read loop, not the program's", s)
	}
	if s := h.Contention[1].Sites[0]; s.Func != "main.(*cache).get" || s.On != "sync.(*Mutex).Unlock" || s.Pct != 100 {
		t.Errorf("top mutex site = %+v", s)
	}

	rt := r.Runtime
	if rt == nil || rt.Snapshots != fixSnapshots || rt.GCCPUPercent.Median != 13 || rt.GCCPUPercent.Max != 14 ||
		rt.SchedLatencyP99Ms.Max != 1.5 || rt.MutexWaitPerSecond.Median != 0.25 || rt.RunnableGoroutines.Max != 3 {
		t.Errorf("runtime = %+v", rt)
	}
}

// TestMarkdownHostsTable reads the hosts table back from report.md and
// checks each cell against the scenario.
func TestMarkdownHostsTable(t *testing.T) {
	r := Build(fixtureCapture(), capture.Profiles{CPU: fixtureCPU(), Wall: fixtureWall()})
	var buf bytes.Buffer
	if err := r.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	rows := mdTable(t, buf.String(), "## Hosts")
	want := [][]string{
		{"host", "req/s", "p50", "p95", "p99", "conn-wait p95", "pool", "waiting", "new conns/s"},
		{"default → https://backend.internal", "80.0", "400ms", "420ms", "435ms", "370ms", "4/4", "28.0", "0.00"},
		{"default → https://api.partner.example", "20.0", "32.0ms", "95.0ms", "110ms", "62.0ms", "2/∞", "0.3", "5.00"},
		{"search → http://10.0.0.7:9200", "5.0", "8.00ms", "9.00ms", "9.00ms", "20µs", "1/?", "0.0", "0.00"},
	}
	compareRows(t, "hosts", rows, want)

	rows = mdTable(t, buf.String(), "## Pool sizing")
	want = [][]string{
		{"host", "λ req/s", "W", "λ·W", "N", "λ·W vs N", "waiting", "P(wait) at N", "recommended N", "CPU limit"},
		// 2 cores at 3.5 ms of CPU per request carry 571 req/s; each
		// host gets that less the other hosts' 25, 85 and 100 req/s.
		// The 32 connections recommended for backend carry 640.
		{"default → https://backend.internal", "80.0", "50.0ms", "4.00", "4", "= N (100%)", "28.0", "100% (unstable)", "32", "~546 req/s (binds)"},
		{"default → https://api.partner.example", "20.0", "30.0ms", "0.60", "∞", "no limit", "0.3", "–", "3", "~486 req/s"},
		{"search → http://10.0.0.7:9200", "5.0", "8.00ms", "0.04", "?", "no limit", "0.0", "–", "1", "~471 req/s"},
	}
	compareRows(t, "pool sizing", rows, want)

	rows = mdTable(t, buf.String(), "## Connection churn")
	want = [][]string{
		{"host", "new conns/s", "reused/s", "new", "closed", "conns seen", "dial p50", "TLS handshake p50", "TLS p95", "resumed", "handshaking", "set-up time/s"},
		{"default → https://backend.internal", "0.00", "80.0", "0%", "0", "4", "1.40ms", "14.0ms", "18.0ms", "0/4", "0.0", "0ms"},
		{"default → https://api.partner.example", "5.00", "15.0", "25%", "100", "21", "20.0ms", "40.0ms", "40.0ms", "0/21", "0.0", "300ms"},
		{"search → http://10.0.0.7:9200", "0.00", "5.0", "0%", "0", "0", "–", "–", "–", "–", "0.0", "0ms"},
	}
	compareRows(t, "churn", rows, want)

	rows = mdTable(t, buf.String(), "### CPU")
	if len(rows) != 11 || rows[1][1] != "encoding/json.(*encodeState).marshal" || rows[1][2] != "4.20s" || rows[1][3] != "45.0%" {
		t.Errorf("CPU top table first row = %q, want encoding/json.(*encodeState).marshal, 4.20s, 45.0%% (420 of 934 samples)", rows[1])
	}
}

// mdTable returns the cells of the first Markdown table after the line
// starting with heading, without the separator row, unescaped.
func mdTable(t *testing.T, md, heading string) [][]string {
	t.Helper()
	i := strings.Index(md, "\n"+heading)
	if i < 0 {
		t.Fatalf("report.md has no %q section", heading)
	}
	var rows [][]string
	started := false
	for _, line := range strings.Split(md[i+1:], "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		if strings.HasPrefix(line, "|:-") || strings.HasPrefix(line, "|--") {
			continue
		}
		line = strings.ReplaceAll(line, `\|`, "\x00")
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j, c := range cells {
			c = strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|"))
			c = strings.Trim(c, "`")
			cells[j] = strings.NewReplacer(`\*`, "*", `\_`, "_", `\[`, "[", `\]`, "]").Replace(c)
		}
		rows = append(rows, cells)
	}
	return rows
}

func compareRows(t *testing.T, table string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s table has %d rows, want %d:\n%q", table, len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], " | ") != strings.Join(want[i], " | ") {
			t.Errorf("%s table row %d:\n got %q\nwant %q", table, i, got[i], want[i])
		}
	}
}

// TestGolden renders the fixture capture directory and compares report.md
// and report.json with testdata/. Run go test -update after an intended
// change and review the diff.
func TestGolden(t *testing.T) {
	dir := writeFixtureDir(t)
	if _, err := Regenerate(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{capture.MarkdownFile, capture.JSONFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", name), got)
	}
	// report.json decodes back into a Report with the same figures.
	data, err := os.ReadFile(filepath.Join(dir, capture.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report.json does not decode: %v", err)
	}
	if b := hostByName(t, &r, backendHost); b.Little.Load != 4 || b.Little.N != 4 || b.RPS != 80 {
		t.Errorf("report.json backend: λ·W %v N %d rps %v, want 4, 4, 80", b.Little.Load, b.Little.N, b.RPS)
	}
}

// TestCaptureRoundTrip writes a capture and reads it back.
func TestCaptureRoundTrip(t *testing.T) {
	c := fixtureCapture()
	dir := t.TempDir()
	if err := capture.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := capture.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Snapshots) != fixSnapshots || len(got.Series) != 3 || len(got.Conns) != 4+21 {
		t.Errorf("read back %d snapshots, %d series, %d conns; want 21, 3, 25", len(got.Snapshots), len(got.Series), len(got.Conns))
	}
	for _, s := range got.Snapshots {
		if len(s.Conns) != 0 {
			t.Fatalf("stored snapshot keeps %d conns, want them moved to Conns", len(s.Conns))
		}
		for _, h := range s.Hosts {
			if len(h.Series) != 0 {
				t.Fatalf("stored snapshot keeps %s's series, want it merged into Series", h.Host)
			}
		}
	}
	// backend's series: 60 s before the first snapshot, then one more
	// second per snapshot.
	if got := len(got.SeriesOf("default", "https", backendHost)); got != 80 {
		t.Errorf("backend series has %d points, want 80", got)
	}
	if a, b := Build(c, capture.Profiles{}), Build(got, capture.Profiles{}); !reportsEqual(t, a, b) {
		t.Error("the report of the capture read back differs from the original's")
	}
}

func reportsEqual(t *testing.T, a, b *Report) bool {
	var ja, jb bytes.Buffer
	if err := a.WriteJSON(&ja); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja.Bytes(), jb.Bytes())
}

// TestReadCaptureErrors checks the messages for a directory that is not a
// capture.
func TestReadCaptureErrors(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, capture.CaptureFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	future := t.TempDir()
	if err := os.WriteFile(filepath.Join(future, capture.CaptureFile), []byte(`{"version": 99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dir, want string
	}{
		{empty, "has no capture.json: is it a directory written by httptop capture?"},
		{bad, "is not a valid capture"},
		{future, "is capture version 99; this httptop reads version 1"},
	} {
		_, err := capture.Read(tt.dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("capture.Read(%s) = %v, want an error containing %q", tt.dir, err, tt.want)
		}
	}
}

// TestEmptyCapture renders a capture with no snapshots and no profiles.
func TestEmptyCapture(t *testing.T) {
	c := capture.NewCapture(t0)
	c.End = t0.Add(2 * time.Second)
	c.Canceled = true
	r := Build(c, capture.Profiles{})
	var md, html, js bytes.Buffer
	for _, err := range []error{r.WriteMarkdown(&md), r.WriteHTML(&html), r.WriteJSON(&js)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"No instrumented HTTP client made requests", "No CPU or wall-clock profile was captured", "ended early"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md of an empty capture lacks %q", want)
		}
	}
	if !strings.Contains(html.String(), "No instrumented HTTP client made requests") {
		t.Error("report.html of an empty capture lacks its explanation")
	}
}

// TestSnapshotsBasis checks the figures of hosts without per-second
// series: rates from the snapshots' counters, a host that appears during
// the capture counted from zero at the snapshot before.
func TestSnapshotsBasis(t *testing.T) {
	c := capture.NewCapture(t0)
	for k := range 5 {
		s := snapshot.Snapshot{Version: 1, Time: t0.Add(time.Duration(k) * time.Second), Program: "p",
			Hosts: []snapshot.Host{{
				Client: "c", Scheme: "http", Host: "a:80", Requests: 1000 + 100*int64(k), ReusedConns: 1000 + 100*int64(k),
				Open: 3, InFlight: 2, AvgWaiting: 0.5, MaxConnsPerHost: 4, LimitsKnown: true, PeakInFlight: 3,
				Latency:  snapshot.Percentiles{Count: 10, P50: 20 + float64(k), P95: 30, P99: 40},
				ConnWait: snapshot.Percentiles{Count: 10, P50: 5, P95: 8, P99: 9},
			}}}
		if k >= 2 {
			s.Hosts = append(s.Hosts, snapshot.Host{Client: "c", Scheme: "http", Host: "b:80", Requests: 10 * int64(k-1), NewConns: 10 * int64(k-1),
				Latency: snapshot.Percentiles{Count: 1, P50: 3, P95: 3, P99: 3}})
		}
		c.AddSnapshot(&s)
	}
	c.End = t0.Add(4 * time.Second)
	r := Build(c, capture.Profiles{})
	a, b := hostByName(t, r, "a:80"), hostByName(t, r, "b:80")
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"a rps", a.RPS, 100},
		{"a mean latency (median p50)", a.Little.MeanLatency, 22},
		{"a W", a.Little.Service, 17},
		{"a λ·W", a.Little.Load, 1.7},
		{"a mean waiting", a.Pool.MeanWaiting, 0.5},
		{"a mean in flight", a.Pool.MeanInFlight, 2},
		{"b rps (30 requests since 1 s)", b.RPS, 10},
		{"b new/s", b.Churn.NewPerSecond, 10},
		{"b new fraction", b.Churn.NewFraction, 1},
	} {
		if !approx(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if a.Basis != BasisSnapshots || a.Seconds != 4 || b.Seconds != 3 {
		t.Errorf("basis %q, seconds %d and %d; want snapshots, 4 and 3", a.Basis, a.Seconds, b.Seconds)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "No per-second series") || !strings.Contains(html.String(), "One point per snapshot") {
		t.Error("report.html does not explain the charts drawn without per-second series")
	}
}

// TestBaselineLink: a capture compared with a baseline (httptop capture
// --baseline) has a report that links to the diff beside it.
func TestBaselineLink(t *testing.T) {
	c := fixtureCapture()
	c.Baseline = &capture.Baseline{Dir: "../before", Diff: capture.DiffHTMLFile}
	r := Build(c, capture.Profiles{})
	var md, page bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if want := "Compared with the baseline ../before: [before and after](diff.html)."; !strings.Contains(md.String(), want) {
		t.Errorf("report.md lacks %q", want)
	}
	if want := `compared with the baseline ../before: <a href="diff.html">before and after</a>`; !strings.Contains(page.String(), want) {
		t.Errorf("report.html lacks %q", want)
	}
	if r := Build(fixtureCapture(), capture.Profiles{}); r.Baseline != nil {
		t.Errorf("a capture without a baseline has report baseline %+v", r.Baseline)
	}
}

// TestBuildContextCanceled: Ctrl-C stops building a report.
func TestBuildContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := BuildContext(ctx, syntheticCapture(3, 10), capture.Profiles{}); r != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("BuildContext(canceled) = %v, %v; want nil, context.Canceled", r != nil, err)
	}
}

// TestReportHostLimit builds the report of a capture of 300 hosts: it
// details the MaxHosts busiest (the most severe diagnoses first), says
// so, and counts the others.
func TestReportHostLimit(t *testing.T) {
	r := Build(syntheticCapture(300, 4), capture.Profiles{})
	if len(r.Hosts) != 100 {
		t.Errorf("the report details %d hosts, want 100", len(r.Hosts))
	}
	data, _ := json.Marshal(r)
	var fields map[string]any
	json.Unmarshal(data, &fields)
	if fields["hosts_omitted"] != 200.0 {
		t.Errorf("hosts_omitted = %v, want 200", fields["hosts_omitted"])
	}
	var md, html strings.Builder
	r.WriteMarkdown(&md)
	r.WriteHTML(&html)
	for name, out := range map[string]string{"report.md": md.String(), "report.html": html.String()} {
		if !strings.Contains(out, "the 100 busiest of 300 hosts") {
			t.Errorf("%s does not say it details the 100 busiest of 300 hosts", name)
		}
	}
}

// TestTopTableValuesPastInt64: a profile whose values sum past MaxInt64
// has a positive total, not one wrapped negative.
func TestTopTableValuesPastInt64(t *testing.T) {
	huge := int64(math.MaxInt64/2 + 1)
	p := buildProfile(proftest.CPUTypes, 1, []stack{{[]string{"main.main", "main.a"}, 1}, {[]string{"main.main", "main.b"}, 1}, {[]string{"main.main", "main.c"}, 1}})
	for _, s := range p.Sample {
		s.Value[0], s.Value[1] = huge, huge
	}
	tt := topTable(snapshot.ProfileCPU, nil, p, OrderFlat)
	if tt == nil || tt.Total <= 0 || len(tt.Funcs) == 0 {
		t.Fatalf("top table %+v, want a positive total and functions", tt)
	}
	for _, f := range tt.Funcs {
		if f.FlatPct < 0 || f.FlatPct > 100 {
			t.Errorf("%s: %.1f%%", f.Name, f.FlatPct)
		}
	}
}
