package hostfold

import (
	"slices"
	"testing"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// reading returns a host of client "c" with the given ID whose counters
// are all n, and whose latency histogram holds n values in bucket id.
func reading(id uint64, host string, n int64) probe.HostMetrics {
	return probe.HostMetrics{
		ID: id, Client: "c", Scheme: "http", Host: host,
		Requests: n, Waiting: 1, NewConns: n,
		Latency: probe.Histogram{Count: uint64(n), Sum: float64(n), Offset: int32(id), Counts: []uint64{uint64(n)}},
	}
}

func hostsOf(rows []probe.HostMetrics) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Host)
	}
	return out
}

func find(t *testing.T, rows []probe.HostMetrics, host string) probe.HostMetrics {
	t.Helper()
	for _, r := range rows {
		if r.Host == host {
			return r
		}
	}
	t.Fatalf("no row %q in %v", host, hostsOf(rows))
	return probe.HostMetrics{}
}

func TestFold(t *testing.T) {
	f := New(2)
	// First reading: a and b keep rows, c and d are folded.
	rows := f.Fold([]probe.HostMetrics{reading(1, "a", 10), reading(2, "b", 20), reading(3, "c", 30), reading(4, "d", 40)})
	if got, want := hostsOf(rows), []string{"a", "b", Other}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	o := find(t, rows, Other)
	if o.Requests != 70 || o.Waiting != 2 || o.Latency.Count != 70 || o.Latency.Offset != 3 || !slices.Equal(o.Latency.Counts, []uint64{30, 40}) {
		t.Errorf("other = %+v, want c+d", o)
	}

	// a is dropped and c goes away too; e is new and takes a's slot;
	// c's counts stay in other.
	rows = f.Fold([]probe.HostMetrics{reading(2, "b", 21), reading(4, "d", 41), reading(5, "e", 1)})
	if got, want := hostsOf(rows), []string{"b", "e", Other}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	o = find(t, rows, Other)
	if o.Requests != 71 || o.Waiting != 1 || o.NewConns != 71 || o.Latency.Count != 71 || !slices.Equal(o.Latency.Counts, []uint64{30, 41}) {
		t.Errorf("other = %+v, want c's last reading + d", o)
	}

	// d goes away too: other keeps both, and reports no gauge.
	rows = f.Fold([]probe.HostMetrics{reading(2, "b", 22), reading(5, "e", 2)})
	o = find(t, rows, Other)
	if o.Requests != 71 || o.Waiting != 0 {
		t.Errorf("other = requests %d waiting %d, want 71 and 0", o.Requests, o.Waiting)
	}
}

// The collector's overflow host is always folded, and diagnoses of folded
// hosts show once per kind at the highest severity.
func TestFoldOverflowAndDiagnoses(t *testing.T) {
	f := New(10)
	over := reading(1, probe.OverflowHost, 5)
	over.Diagnoses = []probe.ActiveDiagnosis{{Kind: snapshot.KindIdleChurn, Severity: snapshot.SeverityWarning}}
	rows := f.Fold([]probe.HostMetrics{over, reading(2, "b", 1)})
	if got, want := hostsOf(rows), []string{"b", Other}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	f = New(1)
	x, y := reading(1, "a", 1), reading(2, "x", 1)
	z := reading(3, "y", 1)
	y.Diagnoses = []probe.ActiveDiagnosis{{Kind: snapshot.KindIdleChurn, Severity: snapshot.SeverityWarning}}
	z.Diagnoses = []probe.ActiveDiagnosis{{Kind: snapshot.KindIdleChurn, Severity: snapshot.SeverityCritical}}
	rows = f.Fold([]probe.HostMetrics{x, y, z})
	o := find(t, rows, Other)
	if want := []probe.ActiveDiagnosis{{Kind: snapshot.KindIdleChurn, Severity: snapshot.SeverityCritical}}; !slices.Equal(o.Diagnoses, want) {
		t.Errorf("other diagnoses %v, want %v", o.Diagnoses, want)
	}
}

func TestDefaultMax(t *testing.T) {
	if got := New(0).Max(); got != DefaultMaxHosts {
		t.Errorf("New(0).Max() = %d, want %d", got, DefaultMaxHosts)
	}
}

// dialOnly returns a host of the Unwrapped client with the given ID, n
// requests seen starting and one connection in its TLS handshake.
func dialOnly(id uint64, host string, n int64) probe.HostMetrics {
	return probe.HostMetrics{
		ID: id, Client: probe.UnwrappedClient, Scheme: "http", Host: host,
		DialOnly: true, RequestsStarted: n, Open: 1, Handshaking: 1,
	}
}

// Folding is per client: the Unwrapped client's hosts fold into an Other
// row of their own, dial only, that counts their requests started and
// keeps those of the hosts dropped; a traced client's Other row is not
// dial only.
func TestFoldDialOnly(t *testing.T) {
	f := New(1)
	rows := f.Fold([]probe.HostMetrics{dialOnly(1, "u1", 5), dialOnly(2, "u2", 7), reading(3, "a", 1), reading(4, "b", 2)})
	if got, want := hostsOf(rows), []string{"u1", Other, Other}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	u, c := otherOf(t, rows, probe.UnwrappedClient), otherOf(t, rows, "c")
	if !u.DialOnly || u.RequestsStarted != 7 || u.Requests != 0 || u.Open != 1 || u.Handshaking != 1 {
		t.Errorf("unwrapped other = %+v, want dial only, u2's 7 started and its handshaking connection", u)
	}
	if c.DialOnly || c.RequestsStarted != 0 || c.Requests != 3 {
		t.Errorf("c's other = %+v, want traced, a+b's 3 requests", c)
	}

	// u2 is dropped: its started requests stay in other, still dial only,
	// beside u3's.
	rows = f.Fold([]probe.HostMetrics{dialOnly(1, "u1", 6), dialOnly(5, "u3", 1)})
	u = otherOf(t, rows, probe.UnwrappedClient)
	if !u.DialOnly || u.RequestsStarted != 8 || u.Handshaking != 1 {
		t.Errorf("unwrapped other = %+v, want dial only, 7 + 1 started, u3's handshaking connection", u)
	}
	if r := find(t, rows, "u1"); !r.DialOnly || r.RequestsStarted != 6 {
		t.Errorf("u1 = %+v, want as read", r)
	}
}

// otherOf returns client's Other row.
func otherOf(t *testing.T, rows []probe.HostMetrics, client string) probe.HostMetrics {
	t.Helper()
	for _, r := range rows {
		if r.Host == Other && r.Client == client {
			return r
		}
	}
	t.Fatalf("no other row of client %q in %+v", client, rows)
	return probe.HostMetrics{}
}
