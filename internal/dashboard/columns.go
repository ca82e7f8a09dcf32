package dashboard

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/httptop/httptop/snapshot"
)

// align says how a column's cells sit in their width.
type align int

const (
	alignLeft align = iota
	alignRight
)

// column describes one column of a table over rows of type R: its title,
// how a row's cell reads, and how rows sort by it.
type column[R any] struct {
	title string
	align align
	// maxWidth caps the column's width in cells (0: no cap); longer
	// text is cut with an ellipsis.
	maxWidth int
	text     func(R) string
	// cmp orders rows ascending by this column; nil makes the column
	// unsortable (the sort key skips it).
	cmp func(a, b R) int
	// descFirst makes descending the first direction the sort key picks:
	// for figures, where the largest matter most.
	descFirst bool
	// role picks how a row's cell is highlighted; nil is roleNormal.
	role func(R) role
}

// hostRow is one host of the snapshot on show, with what the dashboard
// derives for it.
type hostRow struct {
	h    *snapshot.Host
	key  hostKey
	hist *hostHistory
	// name is the HOST cell: hostText cut to the model's hostWidth.
	name string
}

// hostKey identifies a host across snapshots.
type hostKey struct {
	client, scheme, host string
}

// sparkWidth is the width of the hosts table's sparklines.
const sparkWidth = 12

// hostColumns are the hosts table's columns, in order. A dial-only host's
// request figures are unknown, not zero: they read "?" (its request rate,
// from the requests seen starting, reads "~N").
var hostColumns = []column[*hostRow]{
	{title: "CLIENT", maxWidth: 12, text: func(r *hostRow) string { return r.h.Client },
		cmp: func(a, b *hostRow) int { return strings.Compare(a.h.Client, b.h.Client) }},
	{title: "HOST", text: func(r *hostRow) string { return r.name },
		cmp: func(a, b *hostRow) int {
			return cmp.Or(strings.Compare(a.h.Host, b.h.Host), strings.Compare(a.h.Scheme, b.h.Scheme))
		},
		role: func(*hostRow) role { return roleBold }},
	{title: "OPEN/ACT/IDLE", align: alignRight, text: poolText, descFirst: true,
		role: func(r *hostRow) role {
			if saturated(r.h) {
				return roleCrit
			}
			return roleNormal
		},
		cmp: func(a, b *hostRow) int {
			return cmp.Or(cmp.Compare(a.h.Open, b.h.Open), cmp.Compare(a.h.Active, b.h.Active))
		}},
	{title: "WAIT", align: alignRight, text: func(r *hostRow) string { return seenInt(r.h, r.h.Waiting) }, descFirst: true,
		role: func(r *hostRow) role { return nonZero(r.h.Waiting, roleWarn) },
		cmp:  func(a, b *hostRow) int { return cmp.Compare(a.h.Waiting, b.h.Waiting) }},
	{title: "REQ/S", align: alignRight, text: rpsText, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(rps(a.h), rps(b.h)) }},
	{title: "P50", align: alignRight, text: func(r *hostRow) string { return seenMs(r.h, r.h.Latency.P50, r.h.Latency.Count) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.Latency.P50, b.h.Latency.P50) }},
	{title: "P95", align: alignRight, text: func(r *hostRow) string { return seenMs(r.h, r.h.Latency.P95, r.h.Latency.Count) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.Latency.P95, b.h.Latency.P95) }},
	{title: "P99", align: alignRight, text: func(r *hostRow) string { return seenMs(r.h, r.h.Latency.P99, r.h.Latency.Count) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.Latency.P99, b.h.Latency.P99) }},
	{title: "CWAIT95", align: alignRight, text: func(r *hostRow) string { return seenMs(r.h, r.h.ConnWait.P95, r.h.ConnWait.Count) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.ConnWait.P95, b.h.ConnWait.P95) }},
	{title: "DIAL", align: alignRight, text: func(r *hostRow) string { return strconv.Itoa(r.h.Dialing) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.Dialing, b.h.Dialing) }},
	{title: "HSHAKE", align: alignRight, text: func(r *hostRow) string { return strconv.Itoa(r.h.Handshaking) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.Handshaking, b.h.Handshaking) }},
	{title: "NEW/S", align: alignRight, text: func(r *hostRow) string { return seenRate(r.h, r.h.NewConnsPerSecond) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.NewConnsPerSecond, b.h.NewConnsPerSecond) }},
	{title: "REUSE", align: alignRight, text: reuseText, descFirst: false,
		cmp: func(a, b *hostRow) int { return cmp.Compare(reuse(a.h), reuse(b.h)) }},
	{title: "ERR", align: alignRight, text: func(r *hostRow) string { return seenCount(r.h, r.h.Errors) }, descFirst: true,
		role: func(r *hostRow) role { return nonZero(r.h.ErrorsPerSecond, roleCrit) },
		cmp:  func(a, b *hostRow) int { return cmp.Compare(a.h.Errors, b.h.Errors) }},
	{title: "TLSMEM", align: alignRight, text: func(r *hostRow) string { return fmtBytesOrDash(r.h.TLSMemBytes) }, descFirst: true,
		cmp: func(a, b *hostRow) int { return cmp.Compare(a.h.TLSMemBytes, b.h.TLSMemBytes) }},
	{title: "REQ/S HISTORY", text: func(r *hostRow) string { return sparkOf(&r.hist.rps) }},
	{title: "P95 HISTORY", text: func(r *hostRow) string {
		if r.h.DialOnly {
			return unknown
		}
		return sparkOf(&r.hist.p95)
	}},
}

// Widths of the hosts table's HOST column, in the compact and the wide
// layout; longer names lose their middle, keeping the scheme and the port.
const (
	hostWidthCompact = 28
	hostWidthWide    = 48
)

// hostText names a host as a URL's origin (snapshot.Host.Origin).
func hostText(h *snapshot.Host) string { return h.Origin() }

// unknown is what a figure httptop cannot see reads as.
const unknown = "?"

// seenInt, seenMs, seenRate and seenCount format a request figure of h,
// or unknown for a dial-only host, whose requests are not seen.
func seenInt(h *snapshot.Host, n int) string {
	if h.DialOnly {
		return unknown
	}
	return strconv.Itoa(n)
}

func seenMs(h *snapshot.Host, ms float64, n int64) string {
	if h.DialOnly {
		return unknown
	}
	return fmtMsN(ms, n)
}

func seenRate(h *snapshot.Host, r float64) string {
	if h.DialOnly {
		return unknown
	}
	return fmtRate(r)
}

func seenCount(h *snapshot.Host, n int64) string {
	if h.DialOnly {
		return unknown
	}
	return fmtCount(n)
}

// rps is a host's request rate: requests completed per second, or for a
// dial-only host the requests seen starting per second.
func rps(h *snapshot.Host) float64 {
	if h.DialOnly {
		return h.StartsPerSecond
	}
	return h.RPS
}

// rpsText formats rps: "~12" for a dial-only host's starts, unknown when
// not even those are seen.
func rpsText(r *hostRow) string {
	h := r.h
	switch {
	case !h.DialOnly:
		return fmtRate(h.RPS)
	case h.RequestsStarted == 0:
		return unknown
	}
	return "~" + fmtRate(h.StartsPerSecond)
}

// nonZero returns r when n is not zero, else roleNormal.
func nonZero[N int | int64 | float64](n N, r role) role {
	if n != 0 {
		return r
	}
	return roleNormal
}

// poolText shows a host's pool against its limit: "4/4/0 of 4" (open,
// active, idle of MaxConnsPerHost), "of ∞" when unlimited, "of ?" when the
// transport's limits are unknown.
func poolText(r *hostRow) string {
	h := r.h
	limit := "?"
	if h.LimitsKnown {
		limit = "∞"
		if h.MaxConnsPerHost > 0 {
			limit = strconv.Itoa(h.MaxConnsPerHost)
		}
	}
	return strconv.Itoa(h.Open) + "/" + strconv.Itoa(h.Active) + "/" + strconv.Itoa(h.Idle) + " of " + limit
}

// saturated reports whether a host's pool is full with requests queued.
func saturated(h *snapshot.Host) bool {
	return h.Waiting > 0 && h.LimitsKnown && h.MaxConnsPerHost > 0 && h.Open >= h.MaxConnsPerHost
}

// reuse is the percentage of connections handed to requests that were
// reused, or -1 when no request got one over the rate window.
func reuse(h *snapshot.Host) float64 {
	if h.ReusedFraction == 0 && h.NewConnsPerSecond == 0 {
		return -1
	}
	return h.ReusedFraction * 100
}

// reuseText formats reuse.
func reuseText(r *hostRow) string {
	if r.h.DialOnly {
		return unknown
	}
	p := reuse(r.h)
	if p < 0 {
		return "-"
	}
	return fmtPct(p)
}

// sparkOf draws the latest sparkWidth values of r.
func sparkOf(r *ring) string {
	var buf [sparkWidth]float64
	return sparkline(r.last(buf[:0], sparkWidth), sparkWidth)
}

// connColumns are the connections table's columns, in order.
var connColumns = []column[*snapshot.Conn]{
	{title: "ID", align: alignRight, text: func(c *snapshot.Conn) string { return strconv.FormatUint(c.ID, 10) },
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.ID, b.ID) }},
	{title: "HOST", maxWidth: 28, text: func(c *snapshot.Conn) string { return c.Host },
		cmp: func(a, b *snapshot.Conn) int {
			return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.Client, b.Client))
		}},
	{title: "PROTO", text: func(c *snapshot.Conn) string { return orDash(c.Proto) },
		cmp: func(a, b *snapshot.Conn) int { return strings.Compare(a.Proto, b.Proto) }},
	{title: "STATE", text: stateText,
		role: func(c *snapshot.Conn) role {
			switch c.State {
			case snapshot.ConnActive:
				return roleOK
			case snapshot.ConnHandshaking:
				return roleWarn
			case snapshot.ConnClosed:
				return roleDim
			}
			return roleNormal
		},
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.State, b.State) }},
	{title: "AGE", align: alignRight, text: func(c *snapshot.Conn) string { return fmtAge(c.AgeSeconds) }, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.AgeSeconds, b.AgeSeconds) }},
	{title: "REQS", align: alignRight, text: func(c *snapshot.Conn) string { return connCount(c, c.Requests) }, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.Requests, b.Requests) }},
	{title: "STREAMS", align: alignRight, text: streamsText, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.Streams, b.Streams) }},
	{title: "IN", align: alignRight, text: func(c *snapshot.Conn) string { return connBytes(c, c.BytesIn) }, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.BytesIn, b.BytesIn) }},
	{title: "OUT", align: alignRight, text: func(c *snapshot.Conn) string { return connBytes(c, c.BytesOut) }, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(a.BytesOut, b.BytesOut) }},
	{title: "TLS", text: tlsVersion,
		cmp: func(a, b *snapshot.Conn) int { return strings.Compare(tlsVersion(a), tlsVersion(b)) }},
	{title: "TLSMEM", align: alignRight, text: func(c *snapshot.Conn) string { return fmtBytesOrDash(tlsMem(c)) }, descFirst: true,
		cmp: func(a, b *snapshot.Conn) int { return cmp.Compare(tlsMem(a), tlsMem(b)) }},
}

// stateText is a connection's state; for a dial-only connection, whose
// state is inferred from its traffic, followed by "?".
func stateText(c *snapshot.Conn) string {
	if c.DialOnly && c.State != snapshot.ConnClosed {
		return string(c.State) + unknown
	}
	return string(c.State)
}

// connCount formats a connection's request count, unknown for a dial-only
// connection.
func connCount(c *snapshot.Conn, n int64) string {
	if c.DialOnly {
		return unknown
	}
	return fmtCount(n)
}

// connClosed reports whether a connection has closed (it is shown for a
// while after, dimmed, below the live ones).
func connClosed(c *snapshot.Conn) bool { return c.State == snapshot.ConnClosed }

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// streamsText shows an HTTP/2 connection's streams in use; "-" for
// HTTP/1.x, which has none.
func streamsText(c *snapshot.Conn) string {
	if c.Proto != "h2" {
		return "-"
	}
	return strconv.Itoa(c.Streams)
}

// connBytes formats a connection's byte count, "?" when the connection was
// inferred and its bytes are unknown.
func connBytes(c *snapshot.Conn, n int64) string {
	if c.Inferred {
		return "?"
	}
	return fmtBytes(n)
}

// tlsVersion is a connection's TLS version without the "TLS " prefix:
// "1.3"; "-" for plain connections.
func tlsVersion(c *snapshot.Conn) string {
	if c.TLS == nil {
		return "-"
	}
	return orDash(strings.TrimPrefix(c.TLS.Version, "TLS "))
}

// tlsMem is the memory a connection's TLS state holds, 0 when unknown.
func tlsMem(c *snapshot.Conn) int64 {
	if c.TLS == nil {
		return 0
	}
	return c.TLS.MemBytes
}

// hotColumns are what the hot functions table can be sorted by: its two
// figures, largest first, and the name. Their titles depend on the view
// (hotState.header); only the orders are used.
var hotColumns = []column[*hotRow]{
	{title: "FIRST", descFirst: true,
		cmp: func(a, b *hotRow) int { return cmp.Or(cmp.Compare(a.av, b.av), cmp.Compare(a.bv, b.bv)) }},
	{title: "SECOND", descFirst: true,
		cmp: func(a, b *hotRow) int { return cmp.Or(cmp.Compare(a.bv, b.bv), cmp.Compare(a.av, b.av)) }},
	{title: "NAME", cmp: func(a, b *hotRow) int { return strings.Compare(a.key, b.key) }},
}

// diagColumns are what the diagnoses can be sorted by (the pane is a
// list; only the titles and orders are used).
var diagColumns = []column[*snapshot.Diagnosis]{
	{title: "SEVERITY", descFirst: true,
		cmp: func(a, b *snapshot.Diagnosis) int { return cmp.Compare(a.Severity.Rank(), b.Severity.Rank()) }},
	{title: "HOST",
		cmp: func(a, b *snapshot.Diagnosis) int {
			return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.Client, b.Client))
		}},
	{title: "KIND",
		cmp: func(a, b *snapshot.Diagnosis) int { return cmp.Compare(a.Kind, b.Kind) }},
}
