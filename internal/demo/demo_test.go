package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
	"github.com/httptop/httptop/snapshot"
)

// The tour shows each pathology on its own client within seconds.
func TestTourDiagnoses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo workload for several seconds")
	}
	d, err := Start(Options{Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	want := map[snapshot.DiagnosisKind]string{
		snapshot.KindPoolSaturated: "payments",
		snapshot.KindIdleChurn:     "search",
		snapshot.KindBodyLeak:      "export",
	}
	var s probe.Snapshot
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s = d.Collector().Snapshot()
		missing := 0
		for kind, client := range want {
			if !has(s, kind, client) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling a condition, with a deadline
	}
	for kind, client := range want {
		if !has(s, kind, client) {
			t.Errorf("no %s diagnosis for %s; diagnoses: %+v", kind, client, s.Diagnoses)
		}
	}
	for _, dg := range s.Diagnoses {
		if dg.Client == "catalog" || dg.Client == "llm" {
			t.Errorf("healthy client %s diagnosed: %s: %s", dg.Client, dg.Kind, dg.Summary)
		}
	}
	clients := map[string]bool{}
	for _, h := range s.Hosts {
		clients[h.Client] = true
		if h.Requests == 0 && h.Client != "export" {
			t.Errorf("client %s made no requests", h.Client)
		}
	}
	for _, c := range []string{"catalog", "payments", "search", "auth", "export", "llm"} {
		if !clients[c] {
			t.Errorf("client %s missing from the snapshot", c)
		}
	}
}

func has(s probe.Snapshot, kind snapshot.DiagnosisKind, client string) bool {
	for _, d := range s.Diagnoses {
		if d.Kind == kind && d.Client == client {
			return true
		}
	}
	return false
}

func TestScenarioMode(t *testing.T) {
	if _, err := Start(Options{Scenario: "no_such"}); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	d, err := Start(Options{Scenario: "small_post"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s := d.Collector().Snapshot()
		if len(s.Hosts) == 1 && s.Hosts[0].Requests >= 20 {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, with a deadline
	}
	t.Fatal("small_post made fewer than 20 requests in 10 s")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// --scenario takes a pathology of the tour, by its name or its client's,
// as well as a benchmark scenario; anything else is refused with the names
// it takes.
func TestScenarioNames(t *testing.T) {
	for _, name := range []string{"saturated", "payments", "small_post"} {
		d, err := Start(Options{Scenario: name})
		if err != nil {
			t.Errorf("scenario %q: %v", name, err)
			continue
		}
		d.Close()
	}
	_, err := Start(Options{Scenario: "nope"})
	if err == nil || !strings.Contains(err.Error(), "saturated") || !strings.Contains(err.Error(), "small_post") {
		t.Errorf("unknown scenario: %v, want both kinds of names listed", err)
	}
}

// The ingest pathology is bound by its CPU: through the agent, its pool
// advice says the CPU binds first, at a ceiling computed from the 2 ms of
// CPU each request costs.
func TestIngestCPUBinds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a CPU-bound workload for several seconds")
	}
	d, err := Start(Options{Scenario: "cpu", Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(agent.Handler(d.Collector(), "token"))
	t.Cleanup(srv.Close)
	get := func() (s snapshot.Snapshot) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+snapshot.APIPath+snapshot.EndpointSnapshot, nil)
		req.Header.Set("Authorization", "Bearer token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	var s snapshot.Snapshot
	var advice string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		s = get()
		for _, dg := range s.Diagnoses {
			if dg.Kind == snapshot.KindPoolSaturated && dg.Client == "ingest" {
				advice = dg.Advice
			}
		}
		if strings.Contains(advice, "the CPU binds first") {
			break
		}
		time.Sleep(500 * time.Millisecond) // polling a condition, with a deadline
	}
	p := s.Process
	t.Logf("CPU %.2f of %.2f cores, %.3f ms per request, ceiling %.0f req/s; advice: %s", p.WindowCPUPercent/100, p.Cores, p.CPUPerRequestMs, p.CeilingRPS, advice)
	if !strings.Contains(advice, "the CPU binds first") {
		t.Errorf("ingest's pool advice %q does not say the CPU binds first", advice)
	}
	if p.CPUPerRequestMs < 2 {
		t.Errorf("CPU per request %.3f ms, want at least the 2 ms each request burns", p.CPUPerRequestMs)
	}
}
