package agent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// TestConnChangesRoundTrip streams connection changes of a table that
// evolves as a program's does (connections age, go idle and active,
// serve requests, open and close; the clock advances by irregular
// steps), encodes each frame, decodes it as a client does and makes it
// whole (snapshot.ApplyConnChanges): every snapshot the client ends with
// is the agent's, but for ages and idle times within
// connChangeTolerance. Frames where only time passed carry no rows.
func TestConnChangesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	whole := realSnapshot(300)
	for i := range whole.Conns {
		if i%3 == 0 {
			whole.Conns[i].State, whole.Conns[i].IdleSeconds = snapshot.ConnIdle, 1+float64(i)/7
		}
	}
	nextID := uint64(len(whole.Conns) + 1)
	var changes connChanges
	var client *snapshot.Snapshot
	for frame := range 40 {
		step := time.Duration(900+rng.IntN(200)) * time.Millisecond
		if frame > 0 {
			whole.Time = whole.Time.Add(step)
		}
		quiet := frame%4 == 3 // only time passes
		var conns []snapshot.Conn
		for _, c := range whole.Conns {
			if frame > 0 {
				if c.State != snapshot.ConnClosed {
					c.AgeSeconds += step.Seconds()
				}
				if c.State == snapshot.ConnIdle && c.IdleSeconds > 0 {
					c.IdleSeconds += step.Seconds()
				}
			}
			if !quiet {
				switch rng.IntN(20) {
				case 0:
					c.Requests++
					c.BytesIn += 300
					c.State, c.IdleSeconds = snapshot.ConnActive, 0
				case 1:
					c.State, c.IdleSeconds = snapshot.ConnIdle, 0.01
				case 2:
					c.State = snapshot.ConnClosed
				case 3:
					continue // gone from the table
				case 4:
					tls := *c.TLS
					tls.MemBytes += 4096
					c.TLS = &tls
				}
			}
			conns = append(conns, c)
		}
		if !quiet && frame%2 == 0 {
			c := whole.Conns[0]
			c.ID, c.AgeSeconds, c.LocalAddr = nextID, 0.05, fmt.Sprintf("127.0.0.1:%d", 40000+nextID)
			nextID++
			conns = append(conns[:len(conns)/2], append([]snapshot.Conn{c}, conns[len(conns)/2:]...)...)
		}
		whole.Conns = conns

		data, err := appendSnapshot(nil, changes.next(whole))
		if err != nil {
			t.Fatal(err)
		}
		var got snapshot.Snapshot
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if got.ConnChanges != (frame > 0) {
			t.Fatalf("frame %d: conn_changes %v", frame, got.ConnChanges)
		}
		if quiet && len(got.Conns) != 0 {
			t.Errorf("frame %d: only time passed, but %d rows were sent", frame, len(got.Conns))
		}
		if err := snapshot.ApplyConnChanges(client, &got); err != nil {
			t.Fatalf("frame %d: %v", frame, err)
		}
		client = &got
		if len(got.Conns) != len(whole.Conns) {
			t.Fatalf("frame %d: the client has %d connections, the agent %d", frame, len(got.Conns), len(whole.Conns))
		}
		tol := connChangeTolerance.Seconds()
		for i := range whole.Conns {
			a, b := got.Conns[i], whole.Conns[i]
			if math.Abs(a.AgeSeconds-b.AgeSeconds) > tol || math.Abs(a.IdleSeconds-b.IdleSeconds) > tol {
				t.Fatalf("frame %d, connection %d: age %v idle %v, want %v %v", frame, b.ID, a.AgeSeconds, a.IdleSeconds, b.AgeSeconds, b.IdleSeconds)
			}
			a.AgeSeconds, a.IdleSeconds = b.AgeSeconds, b.IdleSeconds
			if (a.TLS == nil) != (b.TLS == nil) || (a.TLS != nil && *a.TLS != *b.TLS) {
				t.Fatalf("frame %d, connection %d: TLS %+v, want %+v", frame, b.ID, a.TLS, b.TLS)
			}
			a.TLS, b.TLS = nil, nil
			if a != b {
				t.Fatalf("frame %d, connection %d:\n got %+v\nwant %+v", frame, b.ID, a, b)
			}
		}
	}
}

// TestAgentStreamConnChanges streams from an agent whose program holds
// idle connections: asked for connection changes, the first snapshot is
// whole, the next ones list every connection and send none of them (idle
// connections only grow older), and made whole they hold what the
// snapshot endpoint says. A stream not asked for them is whole.
func TestAgentStreamConnChanges(t *testing.T) {
	const n = 5
	// The server answers once all n requests are in, so that each has
	// a connection of its own (and no dial is left over).
	var arrived sync.WaitGroup
	arrived.Add(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = n
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		go func() {
			<-start
			resp, err := client.Get(srv.URL + "/?hold")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	a := startAgent(t, Options{Collector: col})
	c := newAgentClient(t, a)
	read := func(query string, frames int) []snapshot.Snapshot {
		t.Helper()
		resp := c.do(t.Context(), "GET", snapshot.APIPath+"stream?interval=100ms"+query, "Bearer "+a.Token(), nil)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		var out []snapshot.Snapshot
		for range frames {
			line, err := br.ReadBytes('\n')
			if err != nil {
				t.Fatal(err)
			}
			var s snapshot.Snapshot
			if err := json.Unmarshal(line, &s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	frames := read("&conns=changes", 3)
	open := len(frames[0].Conns)
	if frames[0].ConnChanges || open != n {
		t.Fatalf("first snapshot: conn_changes %v, %d connections; want a whole one with the idle connections", frames[0].ConnChanges, open)
	}
	for i := 1; i < len(frames); i++ {
		f := &frames[i]
		if !f.ConnChanges || len(f.ConnIDs) != open || len(f.Conns) != 0 {
			t.Errorf("snapshot %d: conn_changes %v, %d ids, %d rows; want changes listing %d connections and sending none",
				i, f.ConnChanges, len(f.ConnIDs), len(f.Conns), open)
		}
		if err := snapshot.ApplyConnChanges(&frames[i-1], f); err != nil {
			t.Fatal(err)
		}
	}
	last := frames[len(frames)-1]
	_, body := c.get(t.Context(), "snapshot")
	var now snapshot.Snapshot
	if err := json.Unmarshal(body, &now); err != nil {
		t.Fatal(err)
	}
	if len(now.Conns) != len(last.Conns) {
		t.Fatalf("the stream made whole holds %d connections, a snapshot %d", len(last.Conns), len(now.Conns))
	}
	elapsed := now.Time.Sub(last.Time).Seconds()
	for i, got := range last.Conns {
		want := now.Conns[i]
		// The snapshot was taken elapsed seconds later: an idle
		// connection is that much older and idle for that much
		// longer.
		idle := got.IdleSeconds + elapsed
		if got.ID != want.ID || got.State != snapshot.ConnIdle || want.State != snapshot.ConnIdle || got.Requests != want.Requests ||
			math.Abs(got.AgeSeconds+elapsed-want.AgeSeconds) > 0.001 || math.Abs(idle-want.IdleSeconds) > 0.001 {
			t.Errorf("connection %d: streamed %+v, then the snapshot %v s later says %+v", i, got, elapsed, want)
		}
	}
	if whole := read("", 2); whole[1].ConnChanges || len(whole[1].Conns) != open {
		t.Errorf("a stream not asked for changes: conn_changes %v, %d rows; want %d", whole[1].ConnChanges, len(whole[1].Conns), open)
	}
}

// BenchmarkConnChanges: what a stream of connection changes costs per
// snapshot of 10,000 connections where only time passed, against the
// whole snapshot's encoding.
func BenchmarkConnChanges(b *testing.B) {
	s := realSnapshot(10000)
	var changes connChanges
	var buf []byte
	advance := func() {
		s.Time = s.Time.Add(time.Second)
		for i := range s.Conns {
			s.Conns[i].AgeSeconds++
		}
	}
	b.Run("changes/conns=10000", func(b *testing.B) {
		b.ReportAllocs()
		changes.next(s)
		for b.Loop() {
			advance()
			buf, _ = appendSnapshot(buf[:0], changes.next(s))
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("whole/conns=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			advance()
			buf, _ = appendSnapshot(buf[:0], s)
		}
		b.SetBytes(int64(len(buf)))
	})
}
