package snapshot

import (
	"strings"
	"testing"
	"time"
)

// TestApplyConnChanges makes a snapshot of connection changes whole from
// the one before: rows sent replace theirs, rows left out are the previous
// snapshot's with their age (and idle time, when idle) advanced, rows
// absent from conn_ids are gone, in conn_ids' order.
func TestApplyConnChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	tls := &TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256"}
	prev := &Snapshot{Time: t0, Conns: []Conn{
		{ID: 1, State: ConnActive, AgeSeconds: 10, Requests: 3, TLS: tls},
		{ID: 2, State: ConnIdle, AgeSeconds: 20, IdleSeconds: 4},
		{ID: 3, State: ConnIdle, AgeSeconds: 30}, // no request yet: no idle time
		{ID: 4, State: ConnClosed, AgeSeconds: 40},
		{ID: 5, State: ConnActive, AgeSeconds: 50}, // gone in next
	}}
	next := &Snapshot{Time: t0.Add(1500 * time.Millisecond), ConnChanges: true,
		ConnIDs: []uint64{6, 4, 3, 2, 1},
		Conns: []Conn{
			{ID: 1, State: ConnIdle, AgeSeconds: 11.5, IdleSeconds: 0.2, Requests: 4, TLS: tls},
			{ID: 6, State: ConnActive, AgeSeconds: 0.1},
		}}
	if err := ApplyConnChanges(prev, next); err != nil {
		t.Fatal(err)
	}
	want := []Conn{
		{ID: 6, State: ConnActive, AgeSeconds: 0.1},
		{ID: 4, State: ConnClosed, AgeSeconds: 40},
		{ID: 3, State: ConnIdle, AgeSeconds: 31.5},
		{ID: 2, State: ConnIdle, AgeSeconds: 21.5, IdleSeconds: 5.5},
		{ID: 1, State: ConnIdle, AgeSeconds: 11.5, IdleSeconds: 0.2, Requests: 4, TLS: tls},
	}
	if len(next.Conns) != len(want) {
		t.Fatalf("%d connections, want %d: %+v", len(next.Conns), len(want), next.Conns)
	}
	for i := range want {
		if next.Conns[i] != want[i] {
			t.Errorf("connection %d:\n got %+v\nwant %+v", i, next.Conns[i], want[i])
		}
	}
	if next.ConnChanges || next.ConnIDs != nil {
		t.Errorf("conn_changes %v, conn_ids %v left set", next.ConnChanges, next.ConnIDs)
	}
	if prev.Conns[1].AgeSeconds != 20 {
		t.Error("the snapshot before was modified")
	}

	// A whole snapshot is left as it is, with or without one before.
	whole := &Snapshot{Conns: []Conn{{ID: 9}}}
	if err := ApplyConnChanges(nil, whole); err != nil || len(whole.Conns) != 1 {
		t.Errorf("whole snapshot: %v, %+v", err, whole.Conns)
	}

	for _, bad := range []struct {
		name       string
		prev, next *Snapshot
		err        string
	}{
		{"no snapshot before", nil, &Snapshot{ConnChanges: true}, "without a snapshot before"},
		{"unknown connection", prev, &Snapshot{ConnChanges: true, ConnIDs: []uint64{77}}, "connection 77"},
		{"sent, not listed", prev, &Snapshot{ConnChanges: true, ConnIDs: []uint64{1}, Conns: []Conn{{ID: 1}, {ID: 8}}}, "do not match"},
	} {
		if err := ApplyConnChanges(bad.prev, bad.next); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%s: error %v, want one saying %q", bad.name, err, bad.err)
		}
	}
}

// TestConnUnchanged: a connection may be left out of a snapshot of
// changes only when the client derives it within the tolerance.
func TestConnUnchanged(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	tol := time.Millisecond
	sent := Conn{ID: 1, State: ConnIdle, AgeSeconds: 5, IdleSeconds: 2, Requests: 7, TLS: &TLS{Version: "TLS 1.3"}}
	for _, c := range []struct {
		name string
		edit func(*Conn)
		want bool
	}{
		{"aged by the second", func(c *Conn) {}, true},
		{"within the tolerance", func(c *Conn) { c.AgeSeconds += 0.0009 }, true},
		{"age off", func(c *Conn) { c.AgeSeconds += 0.002 }, false},
		{"idle time reset", func(c *Conn) { c.IdleSeconds = 0.1 }, false},
		{"a request more", func(c *Conn) { c.Requests++ }, false},
		{"active", func(c *Conn) { c.State, c.IdleSeconds = ConnActive, 0 }, false},
		{"TLS record copied", func(c *Conn) { tls := *c.TLS; c.TLS = &tls }, true},
		{"TLS changed", func(c *Conn) { c.TLS = &TLS{Version: "TLS 1.2"} }, false},
		{"TLS gone", func(c *Conn) { c.TLS = nil }, false},
	} {
		cur := sent
		cur.AgeSeconds, cur.IdleSeconds = 6, 3
		c.edit(&cur)
		if got := ConnUnchanged(&sent, t0, &cur, t1, tol); got != c.want {
			t.Errorf("%s: ConnUnchanged = %v, want %v", c.name, got, c.want)
		}
	}
	closed := Conn{ID: 2, State: ConnClosed, AgeSeconds: 5}
	if !ConnUnchanged(&closed, t0, &closed, t1, tol) {
		t.Error("a closed connection does not age, but was taken as changed")
	}
}
