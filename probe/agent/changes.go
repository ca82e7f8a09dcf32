package agent

import (
	"time"

	"github.com/httptop/httptop/snapshot"
)

// connChangeTolerance is how far the age and idle time a client of a
// stream of connection changes derives may be from the true ones before
// the connection is sent again: the snapshot's time and the collector's
// clock are read within microseconds of each other.
const connChangeTolerance = time.Millisecond

// connChanges turns the snapshots of a stream into snapshots of
// connection changes (snapshot.StreamConnsChanges): it remembers what the
// stream's client was last sent of each connection, and leaves out of
// each snapshot after the first the connections the client can derive
// from that (snapshot.ConnUnchanged). It holds a copy of each row (its
// TLS record shared with the snapshot's) per stream.
type connChanges struct {
	sent map[uint64]*sentConn
	// order and last hold the connections of the snapshot before and
	// of this one in the table's order, which seldom changes: most are
	// found there, by position, rather than in sent.
	order, last []*sentConn
	frame       snapshot.Snapshot // the snapshot to send, reused
	conns       []snapshot.Conn   // its connections
	ids         []uint64          // its ConnIDs
	seen        uint64            // the number of the snapshot being sent
}

// sentConn is what a client was last sent of a connection.
type sentConn struct {
	conn snapshot.Conn
	at   time.Time // the time of the snapshot it was sent in
	seen uint64    // the last snapshot the connection was in
}

// next returns what to send of s: s itself the first time, then a
// snapshot with ConnChanges set that holds only the connections that
// are new or changed. It is valid until the next call; s is not modified.
func (c *connChanges) next(s *snapshot.Snapshot) *snapshot.Snapshot {
	c.seen++
	first := c.sent == nil
	if first {
		c.sent = make(map[uint64]*sentConn, len(s.Conns))
	}
	if c.conns == nil {
		c.conns = []snapshot.Conn{} // "conns": [] when none changed
	}
	c.conns, c.ids = c.conns[:0], c.ids[:0]
	c.last, c.order = c.order, c.last[:0]
	for i := range s.Conns {
		cur := &s.Conns[i]
		c.ids = append(c.ids, cur.ID)
		var p *sentConn
		if i < len(c.last) && c.last[i].conn.ID == cur.ID {
			p = c.last[i]
		} else {
			p = c.sent[cur.ID]
		}
		if p == nil {
			p = new(sentConn)
			c.sent[cur.ID] = p
		}
		c.order = append(c.order, p)
		if p.seen == c.seen-1 && !first && snapshot.ConnUnchanged(&p.conn, p.at, cur, s.Time, connChangeTolerance) {
			p.seen = c.seen
			continue
		}
		// p.conn shares cur's TLS record, which no snapshot modifies
		// (see probe.Collector.Snapshot).
		p.conn, p.at, p.seen = *cur, s.Time, c.seen
		if !first {
			c.conns = append(c.conns, *cur)
		}
	}
	if len(c.sent) > len(s.Conns) {
		// Connections went away (or a table held an ID twice).
		for id, p := range c.sent {
			if p.seen != c.seen {
				delete(c.sent, id)
			}
		}
	}
	if first {
		return s
	}
	c.frame = *s
	c.frame.Conns, c.frame.ConnIDs, c.frame.ConnChanges = c.conns, c.ids, true
	return &c.frame
}
