package dashboard

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// viewHosts lists the hosts table's rows.
func viewHosts(m *model) []string {
	var out []string
	for i := range m.hostView {
		out = append(out, m.host(i).h.Host)
	}
	return out
}

func TestModelSort(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	if got, want := viewHosts(m), []string{"inventory.internal:8080", "auth.example.com:443", "api.stripe.test:443", "cdn.example.net:443"}; !slices.Equal(got, want) {
		t.Errorf("default sort (req/s, largest first): got %v, want %v", got, want)
	}
	tests := []struct {
		col  string
		desc bool
		want []string
	}{
		{"WAIT", true, []string{"api.stripe.test:443", "auth.example.com:443", "cdn.example.net:443", "inventory.internal:8080"}},
		{"HOST", false, []string{"api.stripe.test:443", "auth.example.com:443", "cdn.example.net:443", "inventory.internal:8080"}},
		{"HOST", true, []string{"inventory.internal:8080", "cdn.example.net:443", "auth.example.com:443", "api.stripe.test:443"}},
		{"CWAIT95", true, []string{"api.stripe.test:443", "inventory.internal:8080", "cdn.example.net:443", "auth.example.com:443"}},
		{"REUSE", false, []string{"inventory.internal:8080", "cdn.example.net:443", "auth.example.com:443", "api.stripe.test:443"}},
		{"TLSMEM", true, []string{"cdn.example.net:443", "api.stripe.test:443", "auth.example.com:443", "inventory.internal:8080"}},
	}
	for _, tt := range tests {
		m.hostSort = sortState{col: colIndex(hostColumns, tt.col), desc: tt.desc}
		m.deriveHosts()
		if got := viewHosts(m); !slices.Equal(got, tt.want) {
			t.Errorf("sort by %s desc=%v: got %v, want %v", tt.col, tt.desc, got, tt.want)
		}
	}
}

func TestModelCycleSort(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	seen := map[int]bool{}
	for range len(hostColumns) {
		m.cycleSort()
		if hostColumns[m.hostSort.col].cmp == nil {
			t.Errorf("cycled onto unsortable column %s", hostColumns[m.hostSort.col].title)
		}
		if m.hostSort.desc != hostColumns[m.hostSort.col].descFirst {
			t.Errorf("column %s starts desc=%v", hostColumns[m.hostSort.col].title, m.hostSort.desc)
		}
		seen[m.hostSort.col] = true
	}
	if want := len(hostColumns) - 2; len(seen) != want { // all but the sparklines
		t.Errorf("cycling visited %d columns, want %d", len(seen), want)
	}
	m.reverseSort()
	if m.hostSort.desc == hostColumns[m.hostSort.col].descFirst {
		t.Error("reverseSort did not flip the direction")
	}
	// With the connections focused, s sorts them.
	m.setFocus(paneConns)
	before := m.hostSort
	m.cycleSort()
	if m.hostSort != before || m.connSort.col != 1 {
		t.Errorf("cycleSort on conns: hostSort %+v (was %+v), connSort %+v", m.hostSort, before, m.connSort)
	}
}

func TestModelFilter(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	for _, tt := range []struct {
		filter string
		want   int
	}{
		{"", 4},
		{"EXAMPLE", 2},
		{"payments", 1}, // the client
		{"http", 4},     // the scheme
		{":8080", 1},
		{"nothing", 0},
	} {
		m.setFilter(tt.filter)
		if got := len(m.hostView); got != tt.want {
			t.Errorf("filter %q: %d hosts, want %d", tt.filter, got, tt.want)
		}
	}
	// The filter applies to later snapshots.
	m.setFilter("example")
	m.ingest(testSnapshot(2))
	if got := len(m.hostView); got != 2 {
		t.Errorf("after a new snapshot: %d hosts, want 2", got)
	}
	if math.Abs(m.totalRPS-800.6) > 1e-9 {
		t.Errorf("totalRPS = %v: totals cover every host, not just the filtered ones", m.totalRPS)
	}
}

func TestModelDrill(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	if len(m.connView) != 13 {
		t.Fatalf("%d conns, want 13", len(m.connView))
	}
	i := m.hostIndex(hostKey{client: "default", scheme: "https", host: "cdn.example.net:443"})
	m.drillInto(i)
	if len(m.connView) != 6 || m.focus != paneConns {
		t.Errorf("drilled in: %d conns (want 6), focus %v", len(m.connView), m.focus)
	}
	for j := range m.connView {
		if c := m.conn(j); c.Host != "cdn.example.net:443" {
			t.Errorf("conn %d of %s listed", c.ID, c.Host)
		}
	}
	m.ingest(testSnapshot(2))
	if len(m.connView) != 6 {
		t.Errorf("after a new snapshot: %d conns, want 6", len(m.connView))
	}
	m.drillOut()
	if len(m.connView) != 13 || m.focus != paneHosts {
		t.Errorf("drilled out: %d conns, focus %v", len(m.connView), m.focus)
	}
	m.drillInto(99) // out of range: no-op
	if m.drill != nil {
		t.Error("drillInto out of range drilled in")
	}
}

func TestModelPause(t *testing.T) {
	m := newModel()
	s1, s2 := testSnapshot(1), testSnapshot(2)
	m.ingest(s1)
	m.setPaused(true)
	m.ingest(s2)
	if m.snap != s1 || m.received != 2 {
		t.Errorf("paused: showing %p (want %p), received %d", m.snap, s1, m.received)
	}
	m.setProfile(snapshot.ProfileCPU, summarise(snapshot.ProfileCPU, testProfile(), flame.Modules{}))
	if m.hot.cpu.attr != nil || len(m.hot.rows) != 0 {
		t.Error("a profile changed the paused view")
	}
	m.setPaused(false)
	if m.snap != s2 || m.pending != nil {
		t.Errorf("resumed: showing %p, want the latest %p", m.snap, s2)
	}
}

func TestModelHistory(t *testing.T) {
	m := newModel()
	s := testSnapshot(1)
	m.ingest(s)
	k := hostKey{client: "payments", scheme: "https", host: "api.stripe.test:443"}
	h := m.history[k]
	if h == nil {
		t.Fatal("no history")
	}
	// Seeded from the series, then the snapshot's own rate.
	if got := h.rps.last(nil, 100); len(got) != len(s.Hosts[0].Series)+1 || got[len(got)-1] != 38.2 {
		t.Errorf("rps history %v", got)
	}
	m.ingest(testSnapshot(2))
	if got := h.p95.last(nil, 100); len(got) != 2 {
		t.Errorf("p95 history %v, want 2 values", got)
	}
	// A host that leaves the snapshot loses its history.
	s3 := testSnapshot(1)
	s3.Hosts = s3.Hosts[1:]
	m.ingest(s3)
	if _, ok := m.history[k]; ok || len(m.history) != 3 {
		t.Errorf("history kept %d hosts, want 3 without %v", len(m.history), k)
	}
}

func TestModelDiagnosesOrder(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	var got []snapshot.DiagnosisKind
	for _, d := range m.diags {
		got = append(got, d.Kind)
	}
	want := []snapshot.DiagnosisKind{snapshot.KindPoolSaturated, snapshot.KindBodyLeak, snapshot.KindIdleChurn}
	if !slices.Equal(got, want) {
		t.Errorf("diagnoses %v, want most severe first %v", got, want)
	}
}

func TestModelProfile(t *testing.T) {
	m := newModel()
	cpu := summarise(snapshot.ProfileCPU, testProfile(), flame.Modules{})
	wall := summarise(snapshot.ProfileWall, testWallProfile(), flame.Modules{})
	if cpu.err != nil || wall.err != nil {
		t.Fatal(cpu.err, wall.err)
	}
	m.setProfile(snapshot.ProfileCPU, cpu)
	m.setProfile(snapshot.ProfileCPU, profileResult{err: errors.New("busy")})
	if len(m.hot.rows) == 0 || m.hot.profile().err != "busy" {
		t.Errorf("after a failure: %d rows, err %q; the last results should stay", len(m.hot.rows), m.hot.profile().err)
	}
	// Both kinds are kept: switching shows the other's latest at once.
	m.setProfile(snapshot.ProfileWall, wall)
	if m.hot.rows[0].name != "main.(*signer).sign" {
		t.Errorf("a wall-clock result changed the CPU rows: %+v", m.hot.rows[0])
	}
	m.toggleProfileKind()
	if m.hot.kind != snapshot.ProfileWall || m.hot.view() != viewWaits || len(m.hot.rows) == 0 || m.hot.rows[0].name != flame.WaitConn.Title() {
		t.Errorf("after w: kind %s view %d rows %+v, want where requests wait", m.hot.kind, m.hot.view(), m.hot.rows)
	}
	m.toggleProfileKind()
	if m.hot.kind != snapshot.ProfileCPU || m.hot.profile().err != "busy" {
		t.Errorf("back to CPU: %+v", m.hot)
	}
}

// TestModelHotViews checks every view's rows against the test profiles:
// the CPU profile (1000 ms) signs in main.(*signer).sign (400), decodes
// in main.decode (400), reads and writes in net/http's loops (180) and
// serves httptop's agent (20); the
// wall-clock one waits for a connection (700 of the requests' 750).
func TestModelHotViews(t *testing.T) {
	m := newModel()
	m.setProfile(snapshot.ProfileCPU, summarise(snapshot.ProfileCPU, testProfile(), flame.Modules{}))
	m.setProfile(snapshot.ProfileWall, summarise(snapshot.ProfileWall, testWallProfile(), flame.Modules{}))
	row := func(r hotRow) string { return r.a + "|" + r.b + "|" + r.name }
	tests := []struct {
		view   hotView
		header [3]string
		first  []string
	}{
		{viewCode, [3]string{"SHARE", "CUM", "FUNCTION"}, []string{"40.0%|40.0%|main.(*signer).sign", "40.0%|40.0%|main.decode", "12.0%||[syscalls & network I/O]", "6.0%||[HTTP client (net/http, x/net/http2)]"}},
		{viewPackages, [3]string{"CUM", "", "PACKAGE"}, []string{"80.0%||main", "40.0%||crypto/hmac", "40.0%||crypto/sha256", "25.0%||encoding/json", "21.0%||runtime", "18.0%||net/http"}},
		{viewCategories, [3]string{"SHARE", "", "KIND OF WORK"}, []string{"40.0%||TLS & crypto", "25.0%||encoding (JSON, protobuf, compression)", "15.0%||GC & allocation", "12.0%||syscalls & network I/O", "6.0%||HTTP client (net/http, x/net/http2)", "2.0%||httptop itself"}},
		{viewFlat, [3]string{"FLAT", "CUM", "FUNCTION"}, []string{"40.0%|40.0%|sha256.block", "25.0%|25.0%|json.(*decodeState).object"}},
	}
	for _, tt := range tests {
		if m.hot.view() != tt.view {
			t.Fatalf("view %d, want %d", m.hot.view(), tt.view)
		}
		if m.hot.header != tt.header || len(m.hot.rows) < len(tt.first) {
			t.Fatalf("view %d: header %v, %d rows", tt.view, m.hot.header, len(m.hot.rows))
		}
		for i, want := range tt.first {
			if got := row(m.hot.rows[i]); got != want {
				t.Errorf("view %d row %d = %q, want %q", tt.view, i, got, want)
			}
		}
		m.cycleHotView()
	}
	if m.hot.view() != viewCode {
		t.Errorf("v after flat shows view %d, want code again", m.hot.view())
	}
	m.toggleProfileKind()
	want := []string{"93.3%|0.7|waiting for a connection", "||  main.(*client).do 100%", "6.7%|0.1|outside the transport", "||  main.(*signer).sign 100%"}
	for i, w := range want {
		if got := row(m.hot.rows[i]); got != w {
			t.Errorf("waits row %d = %q, want %q", i, got, w)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, tt := range []struct {
		s, f string
		want bool
	}{
		{"API.Example.com", "example", true},
		{"abc", "", true},
		{"abc", "abcd", false},
		{"inventory", "tory", true},
		{"inventory", "x", false},
	} {
		if got := containsFold(tt.s, tt.f); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v", tt.s, tt.f, got)
		}
	}
}
