package snapshot

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ConnUnchanged reports whether the connection cur, in a snapshot taken at
// time at, is what a client sent the connection as sent, in a snapshot
// taken at sentAt, makes of it (see ApplyConnChanges), so that a stream of
// connection changes may leave it out: every field equal, but the age and
// idle time, which must be within tolerance of sent's advanced by the
// time between the two.
func ConnUnchanged(sent *Conn, sentAt time.Time, cur *Conn, at time.Time, tolerance time.Duration) bool {
	a, b := *sent, *cur
	a.AgeSeconds, a.IdleSeconds, a.TLS = 0, 0, nil
	b.AgeSeconds, b.IdleSeconds, b.TLS = 0, 0, nil
	if a != b || sent.TLS != cur.TLS && (sent.TLS == nil || cur.TLS == nil || *sent.TLS != *cur.TLS) {
		return false
	}
	// By the clocks' readings, as the client sees them, without the
	// monotonic one.
	age, idle := advanceConn(sent, at.Round(0).Sub(sentAt.Round(0)).Seconds())
	tol := tolerance.Seconds()
	return math.Abs(cur.AgeSeconds-age) <= tol && math.Abs(cur.IdleSeconds-idle) <= tol
}

// advanceConn returns the age and idle time of c after d more seconds:
// an open connection ages, a closed one does not; an idle one's idle
// time grows (when it has one: a connection that never served a request
// has none).
func advanceConn(c *Conn, d float64) (age, idle float64) {
	age, idle = c.AgeSeconds, c.IdleSeconds
	if c.State != ConnClosed {
		age += d
	}
	if c.State == ConnIdle && idle > 0 {
		idle += d
	}
	return age, idle
}

// ApplyConnChanges makes next, a snapshot of a stream of connection
// changes (next.ConnChanges set), whole again from prev, the whole
// snapshot before it in the stream: the connections next.ConnIDs lists
// that next.Conns does not hold are prev's, their age and idle time
// advanced by the time between the two snapshots. It clears ConnChanges
// and ConnIDs. prev is not modified (next's rows may share prev's TLS
// records, which snapshots never modify). A snapshot without ConnChanges
// is left as it is.
func ApplyConnChanges(prev, next *Snapshot) error {
	if !next.ConnChanges {
		return nil
	}
	if prev == nil {
		return errors.New("snapshot: connection changes without a snapshot before them")
	}
	d := next.Time.Sub(prev.Time).Seconds()
	known := make(map[uint64]*Conn, len(prev.Conns))
	for i := range prev.Conns {
		known[prev.Conns[i].ID] = &prev.Conns[i]
	}
	changed := make(map[uint64]*Conn, len(next.Conns))
	for i := range next.Conns {
		changed[next.Conns[i].ID] = &next.Conns[i]
	}
	conns := make([]Conn, 0, len(next.ConnIDs))
	sent := 0
	for _, id := range next.ConnIDs {
		if c, ok := changed[id]; ok {
			conns = append(conns, *c)
			sent++
			continue
		}
		p, ok := known[id]
		if !ok {
			return fmt.Errorf("snapshot: connection %d is neither sent nor in the snapshot before", id)
		}
		c := *p
		c.AgeSeconds, c.IdleSeconds = advanceConn(p, d)
		conns = append(conns, c)
	}
	if sent != len(next.Conns) {
		return errors.New("snapshot: the connections sent do not match conn_ids")
	}
	next.Conns, next.ConnIDs, next.ConnChanges = conns, nil, false
	return nil
}
