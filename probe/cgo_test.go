//go:build cgo

package probe

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/cgocallback"
	"github.com/httptop/httptop/snapshot"
)

// A request sent from a cgo callback (Go called from C called from Go)
// leaks a body: the probe still names the call site, which lies beyond
// the C frames its frame-pointer walk does not cross (it falls back to
// runtime.Callers), and nothing faults.
func TestLeakFromCgoCallback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "x")
	}))
	t.Cleanup(srv.Close)
	col := NewCollector(CollectorOptions{})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	const leakAfter = 30 * time.Second
	client := &http.Client{Transport: Wrap(tr, WithCollector(col), WithName("cgo"), WithLeakAfter(leakAfter))}
	var resp *http.Response
	var err error
	cgocallback.Call(func() {
		resp, err = client.Get(srv.URL) // the call in the callback
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, file, line := callerLine(t, "the call in the callback")
	later := col.snapshotAt(poolstatsNow() + int64(leakAfter) + 1)
	d := diagnosis(later, snapshot.KindBodyLeak)
	if d == nil || len(d.Sites) != 1 {
		t.Fatalf("body_leak diagnosis %+v, want one site", d)
	}
	if s := d.Sites[0]; s.File != file || s.Line != line {
		t.Errorf("site %s:%d (%s), want %s:%d", s.File, s.Line, s.Function, file, line)
	}
}
