package promexport

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/httptop/httptop/probe"
)

const dashboardFile = "../docs/grafana-dashboard.json"

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// dashboardExprs returns the PromQL expressions of the dashboard's panels.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: uid %q, title %q, %d panels", dashboardFile, d.UID, d.Title, len(d.Panels))
	}
	var exprs []string
	for _, p := range d.Panels {
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q has no title or no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// exportedNames returns the names of the metrics the collector describes,
// with the series names of its histograms.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc, 64)
	New(probe.NewCollector(probe.CollectorOptions{}), Options{}).Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := make(map[string]bool)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names[m[1]] = true
		if strings.HasSuffix(m[1], "_seconds") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	return names
}

// Every query of the Grafana dashboard reads metrics the collector
// exports (the Prometheus test also runs them against a real server).
func TestDashboardMetrics(t *testing.T) {
	names := exportedNames(t)
	metric := regexp.MustCompile(`\bhttptop_[a-z_]+`)
	for _, e := range dashboardExprs(t) {
		found := metric.FindAllString(e, -1)
		if len(found) == 0 {
			t.Errorf("query reads no httptop metric: %s", e)
		}
		for _, n := range found {
			if !names[n] {
				t.Errorf("query reads %s, which the collector does not export: %s", n, e)
			}
		}
	}
}

// dashboardQuery makes a dashboard expression a plain query: every
// template variable matches everything, rate intervals are 10 s.
func dashboardQuery(e string) string {
	return strings.NewReplacer(`"$job"`, `".+"`, `"$instance"`, `".+"`, `"$client"`, `".+"`, `"$host"`, `".+"`,
		"$__rate_interval", "10s").Replace(e)
}
