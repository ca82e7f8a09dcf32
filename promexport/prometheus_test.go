package promexport

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/exporttest"
)

// alertsFile is the alert rules the README recommends.
const alertsFile = "../docs/alerts.yml"

// MetricsPath is where an attached program's agent serves the metrics.
const metricsPath = "/debug/httptop/v1/metrics"

// scrapeTarget serves h behind a bearer token, the way the agent does,
// twice: at metricsPath in the format the scraper asks for (Prometheus
// with native histograms asks for protocol buffers) and at /classic in
// the text format whatever it asks, so that one server stores both the
// native and the classic histograms. It counts the scrapes of each.
type scrapeTarget struct {
	token string
	h     http.Handler

	mu      sync.Mutex
	scrapes map[string]int // by path
	changed chan struct{}
}

func (s *scrapeTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	want := "Bearer " + s.token
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case metricsPath:
	case "/classic":
		r.Header.Del("Accept")
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.scrapes[r.URL.Path]++
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.h.ServeHTTP(w, r)
}

// waitScrapes blocks until both paths have been scraped n times.
func (s *scrapeTarget) waitScrapes(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		s.mu.Lock()
		got, ch := min(s.scrapes[metricsPath], s.scrapes["/classic"]), s.changed
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("scraped %d times in a minute, want %d", got, n)
		}
	}
}

// startPrometheus runs a Prometheus server on loopback with a scrape
// config for target and the alert rules, stores into a temporary
// directory, and stops it when the test ends. It returns the server's
// base URL.
func startPrometheus(t *testing.T, target, token string) string {
	t.Helper()
	bin := lookTool(t, "prometheus")
	dir := t.TempDir()
	rules, err := filepath.Abs(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: httptop
    metrics_path: %s
    authorization:
      credentials: %q
    static_configs:
      - targets: [%q]
  - job_name: classic
    metrics_path: /classic
    authorization:
      credentials: %q
    static_configs:
      - targets: [%q]
`, rules, metricsPath, token, target, token, target)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--enable-feature=native-histograms",
		"--log.level=warn",
	)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

// freeLoopbackAddr returns a loopback address with a port free a moment
// ago, for a server that cannot report the port it picked.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// promQuery is the part of a Prometheus instant-query answer the test
// reads.
type promQuery struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// query runs an instant PromQL query and returns the values of the
// result's series.
func query(t *testing.T, base, q string) []float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var ans promQuery
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("query %s: decode: %v", q, err)
	}
	if ans.Status != "success" {
		t.Fatalf("query %s: %s: %s", q, ans.Status, ans.Error)
	}
	var out []float64
	for _, r := range ans.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, r.Value)
		}
		out = append(out, v)
	}
	return out
}

// one runs a query that must return exactly one series.
func one(t *testing.T, base, q string) float64 {
	t.Helper()
	vs := query(t, base, q)
	if len(vs) != 1 {
		t.Fatalf("query %s: %d series, want 1", q, len(vs))
	}
	return vs[0]
}

// ruleExprs returns the expressions of the alert rules in path, which
// writes each on one line after "expr:".
func ruleExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make(map[string]string)
	var alert string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if a, ok := strings.CutPrefix(line, "- alert:"); ok {
			alert = strings.TrimSpace(a)
		} else if e, ok := strings.CutPrefix(line, "expr:"); ok {
			out[alert] = strings.TrimSpace(e)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A real Prometheus server scrapes a program running the saturated-pool
// scenario (pool 4, 32 workers, 50 ms server) through NewHandler behind a
// bearer token, as an attached program's agent serves it. Its queries
// find the scenario's answers: 28 waiting, a median wait of 350 ms, the
// pool_saturated diagnosis; the README's alert rules load and the pool
// alert's expression selects the saturated host.
func TestPrometheusScrapesSaturatedPool(t *testing.T) {
	promtool := lookTool(t, "promtool")
	if out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", alertsFile, err, out)
	}
	s := exporttest.StartSaturated(t)
	target := &scrapeTarget{token: "test-token-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		h: NewHandler(s.Collector, Options{}), scrapes: make(map[string]int), changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: target}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })

	// Without the token, nothing.
	resp, err := http.Get("http://" + ln.Addr().String() + metricsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("scrape without token: status %d, want 401", resp.StatusCode)
	}

	prom := startPrometheus(t, ln.Addr().String(), target.token)
	// A scrape's samples are committed before the next scrape starts:
	// when the third begins, two are stored.
	target.waitScrapes(t, 3)
	sel := fmt.Sprintf(`{job="httptop",client=%q,host=%q}`, exporttest.Client, s.Host)

	waiting := one(t, prom, "httptop_client_waiting_requests"+sel)
	p50 := one(t, prom, "histogram_quantile(0.5, rate(httptop_client_connection_wait_seconds"+sel+"[10s]))")
	diag := one(t, prom, `httptop_client_diagnosis{job="httptop",kind="pool_saturated"}`)
	open := one(t, prom, "sum(httptop_client_open_connections"+sel+")")
	t.Logf("prometheus: waiting %v, conn-wait p50 %.3f s (native histogram), pool_saturated %v, open %v", waiting, p50, diag, open)
	if math.Abs(waiting-exporttest.WantWaiting) > 2 {
		t.Errorf("waiting = %v, want %d ± 2", waiting, exporttest.WantWaiting)
	}
	want := exporttest.WantWaitP50.Seconds()
	if p50 < want*0.75 || p50 > want*1.25 {
		t.Errorf("histogram_quantile(0.5) of the connection wait = %.3f s, want %.3f s ± 25%%", p50, want)
	}
	if diag != 1 {
		t.Errorf("pool_saturated diagnosis gauge = %v, want 1", diag)
	}
	if open != exporttest.Pool {
		t.Errorf("open connections = %v, want %d", open, exporttest.Pool)
	}

	// The classic buckets (text format), powers of two: the median is
	// interpolated inside the bucket (0.25, 0.5].
	classic := fmt.Sprintf(`{job="classic",client=%q,host=%q}`, exporttest.Client, s.Host)
	cp50 := one(t, prom, "histogram_quantile(0.5, sum by (le) (rate(httptop_client_connection_wait_seconds_bucket"+classic+"[10s])))")
	t.Logf("prometheus: conn-wait p50 %.3f s (classic buckets)", cp50)
	if cp50 <= 0.25 || cp50 > 0.5 {
		t.Errorf("classic histogram_quantile(0.5) = %.3f s, want in (0.25, 0.5]", cp50)
	}

	// The alert rules: loaded, and the pool alert's expression selects
	// the saturated host (its 5 minutes cannot pass in a test), the
	// churn alert's nothing (a saturated pool reuses its connections).
	exprs := ruleExprs(t, alertsFile)
	if len(exprs) != 2 {
		t.Fatalf("rules in %s: %v, want 2", alertsFile, exprs)
	}
	if got := query(t, prom, exprs["HTTPClientPoolSaturated"]); len(got) != 2 { // both jobs
		t.Errorf("pool alert expression: %v, want the saturated host of both jobs", got)
	}
	if got := query(t, prom, exprs["HTTPClientIdleChurn"]); len(got) != 0 {
		t.Errorf("churn alert expression: %v, want nothing", got)
	}
	// Every query of the Grafana dashboard runs, and all but the errors
	// (there are none) find data.
	for _, e := range dashboardExprs(t) {
		got := query(t, prom, dashboardQuery(e))
		if len(got) == 0 && !strings.Contains(e, "errors_total") {
			t.Errorf("dashboard query finds nothing: %s", e)
		}
	}

	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	resp, err = http.Get(prom + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			loaded++
			if r.Health == "err" {
				t.Errorf("rule %s: health %s", r.Name, r.Health)
			}
		}
	}
	if loaded != 2 {
		t.Errorf("prometheus loaded %d rules, want 2", loaded)
	}
}
