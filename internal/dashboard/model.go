package dashboard

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// pane names the dashboard's panes, in the order tab visits them.
type pane int

const (
	paneHosts pane = iota
	paneConns
	paneHot
	paneDiag
	numPanes
)

// connState is the state of the dashboard's link to its source.
type connState int

const (
	stateConnecting connState = iota
	stateLive
	stateDisconnected
	// stateExited: the program exited; the dashboard no longer tries to
	// reach it.
	stateExited
)

// sortState is a table's sort: a column index and a direction.
type sortState struct {
	col  int
	desc bool
}

// hotState is what the hot functions pane shows.
type hotState struct {
	// kind is the profile kind the pane asks for (snapshot.ProfileCPU or
	// snapshot.ProfileWall).
	kind snapshot.ProfileKind
	// funcs are the top functions of the latest profile of kind; nil
	// until one arrives (and again after the kind changes).
	funcs []flame.Func
	// err is why the latest profile failed; empty when it did not.
	err string
}

// captureState is the progress of a capture started with the c key.
type captureState struct {
	running     bool
	done, total time.Duration
}

// model is the dashboard's state: the snapshot on show, rows derived from
// it (sorted and filtered once per change, never per frame), each host's
// history, and the UI's own state. It is plain data with no tview in it,
// touched only on the UI goroutine.
type model struct {
	// snap is the snapshot on show; nil before the first.
	snap *snapshot.Snapshot
	// gen counts changes to what the tables show.
	gen uint64
	// received counts snapshots received, including those held back
	// while paused.
	received int
	paused   bool
	// pending is the latest snapshot received while paused, shown on
	// resume.
	pending *snapshot.Snapshot

	hosts    []hostRow // the snapshot's hosts, in its order
	hostView []int32   // indexes into hosts: filtered, then sorted
	hostSort sortState
	filter   string // lower-case substring hosts must contain
	history  map[hostKey]*hostHistory
	totalRPS float64
	totalEPS float64

	connView []int32 // indexes into snap.Conns: drilled-in, then sorted
	connSort sortState
	// drill is the host whose connections the connections table shows;
	// nil shows every connection.
	drill *hostKey

	diags []*snapshot.Diagnosis // most severe first

	state   connState
	connErr string        // why the source went away
	retryIn time.Duration // time until the next reconnection attempt

	focus pane
	// lower is the pane below the hosts table in the compact layout
	// (connections, hot functions or diagnoses).
	lower pane
	// selHost is the host the hosts table's cursor is on, kept across
	// re-sorts; the zero key when there is none.
	selHost hostKey
	// selConn is the id of the connection under the connections table's
	// cursor; 0 when there is none.
	selConn uint64

	hot     hotState
	capture captureState
	// message is a one-line notice shown in the footer until the next key.
	message   string
	helpOpen  bool
	filtering bool // the filter input has focus
}

// newModel returns an empty model: hosts sorted by request rate, largest
// first, connections by id.
func newModel() *model {
	return &model{
		hostSort: sortState{col: colIndex(hostColumns, "REQ/S"), desc: true},
		connSort: sortState{col: 0},
		history:  make(map[hostKey]*hostHistory),
		lower:    paneConns,
		hot:      hotState{kind: snapshot.ProfileCPU},
	}
}

// colIndex returns the index of the column titled title.
func colIndex[R any](cols []column[R], title string) int {
	for i, c := range cols {
		if c.title == title {
			return i
		}
	}
	panic("dashboard: no column " + title)
}

// ingest takes a snapshot from the source: it is shown at once, or held
// back while the view is paused.
func (m *model) ingest(s *snapshot.Snapshot) {
	m.received++
	m.state, m.connErr, m.retryIn = stateLive, "", 0
	if m.paused {
		m.pending = s
		return
	}
	m.apply(s)
}

// setPaused freezes or unfreezes the view. Unfreezing shows the latest
// snapshot received meanwhile.
func (m *model) setPaused(p bool) {
	m.paused = p
	if !p && m.pending != nil {
		s := m.pending
		m.pending = nil
		m.apply(s)
	}
}

// apply makes s the snapshot on show: it derives the rows, records history
// and sorts, once.
func (m *model) apply(s *snapshot.Snapshot) {
	m.snap = s
	m.gen++

	m.hosts = m.hosts[:0]
	m.totalRPS, m.totalEPS = 0, 0
	for i := range s.Hosts {
		h := &s.Hosts[i]
		k := hostKey{client: h.Client, scheme: h.Scheme, host: h.Host}
		hist := m.history[k]
		if hist == nil {
			hist = &hostHistory{}
			hist.seed(h.Series)
			m.history[k] = hist
		}
		if hist.seen != m.gen { // a host listed twice is recorded once
			hist.rps.add(h.RPS)
			hist.p95.add(h.Latency.P95)
			hist.seen = m.gen
		}
		m.hosts = append(m.hosts, hostRow{h: h, key: k, hist: hist})
		m.totalRPS += h.RPS
		m.totalEPS += h.ErrorsPerSecond
	}
	if len(m.history) > len(m.hosts) {
		for k, hist := range m.history {
			if hist.seen != m.gen {
				delete(m.history, k)
			}
		}
	}

	m.diags = m.diags[:0]
	for i := range s.Diagnoses {
		m.diags = append(m.diags, &s.Diagnoses[i])
	}
	slices.SortStableFunc(m.diags, func(a, b *snapshot.Diagnosis) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.Client, b.Client), strings.Compare(a.Host, b.Host), cmp.Compare(a.Kind, b.Kind))
	})

	m.deriveHosts()
	m.deriveConns()
}

// deriveHosts filters and sorts the hosts table's rows.
func (m *model) deriveHosts() {
	m.hostView = m.hostView[:0]
	for i := range m.hosts {
		if m.filter == "" || hostMatches(&m.hosts[i], m.filter) {
			m.hostView = append(m.hostView, int32(i))
		}
	}
	col := hostColumns[m.hostSort.col]
	desc := m.hostSort.desc
	slices.SortFunc(m.hostView, func(i, j int32) int {
		a, b := &m.hosts[i], &m.hosts[j]
		c := col.cmp(a, b)
		if desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.key.client, b.key.client),
			strings.Compare(a.key.host, b.key.host), strings.Compare(a.key.scheme, b.key.scheme))
	})
}

// hostMatches reports whether a host's client, scheme or host contains
// the lower-case substring f.
func hostMatches(r *hostRow, f string) bool {
	return containsFold(r.h.Host, f) || containsFold(r.h.Client, f) || containsFold(r.h.Scheme, f)
}

// containsFold reports whether s contains the lower-case substring f,
// ignoring ASCII case, without allocating.
func containsFold(s, f string) bool {
	if len(f) > len(s) {
		return false
	}
outer:
	for i := 0; i+len(f) <= len(s); i++ {
		for j := 0; j < len(f); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != f[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

// deriveConns selects the connections table's rows (all, or the drilled-in
// host's) and sorts them: the live connections first, then the recently
// closed ones, each in the table's sort. A server that recycles
// connections leaves many closed ones, which would otherwise push the
// live ones below the fold.
func (m *model) deriveConns() {
	m.connView = m.connView[:0]
	if m.snap == nil {
		return
	}
	conns := m.snap.Conns
	for i := range conns {
		c := &conns[i]
		if m.drill == nil || (c.Client == m.drill.client && c.Host == m.drill.host) {
			m.connView = append(m.connView, int32(i))
		}
	}
	col := connColumns[m.connSort.col]
	desc := m.connSort.desc
	slices.SortFunc(m.connView, func(i, j int32) int {
		a, b := &conns[i], &conns[j]
		c := col.cmp(a, b)
		if desc {
			c = -c
		}
		return cmp.Or(compareBool(connClosed(a), connClosed(b)), c, cmp.Compare(a.ID, b.ID))
	})
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// host returns the i-th row of the hosts table (0 is the first host).
func (m *model) host(i int) *hostRow { return &m.hosts[m.hostView[i]] }

// conn returns the i-th row of the connections table.
func (m *model) conn(i int) *snapshot.Conn { return &m.snap.Conns[m.connView[i]] }

// hostIndex returns the row of the hosts table showing k, or -1.
func (m *model) hostIndex(k hostKey) int {
	for i, hi := range m.hostView {
		if m.hosts[hi].key == k {
			return i
		}
	}
	return -1
}

// connIndex returns the row of the connections table showing the
// connection with the given id, or -1.
func (m *model) connIndex(id uint64) int {
	if m.snap == nil || id == 0 {
		return -1
	}
	for i, ci := range m.connView {
		if m.snap.Conns[ci].ID == id {
			return i
		}
	}
	return -1
}

// setFilter shows only hosts whose client, scheme or host contains f
// (ignoring case); "" shows every host.
func (m *model) setFilter(f string) {
	m.filter = strings.ToLower(strings.TrimSpace(f))
	m.gen++
	m.deriveHosts()
}

// cycleSort moves the focused table's sort to its next sortable column,
// in that column's natural direction.
func (m *model) cycleSort() {
	switch m.focus {
	case paneConns:
		m.connSort = nextSort(connColumns, m.connSort)
		m.deriveConns()
	default:
		m.hostSort = nextSort(hostColumns, m.hostSort)
		m.deriveHosts()
	}
	m.gen++
}

// reverseSort flips the focused table's sort direction.
func (m *model) reverseSort() {
	switch m.focus {
	case paneConns:
		m.connSort.desc = !m.connSort.desc
		m.deriveConns()
	default:
		m.hostSort.desc = !m.hostSort.desc
		m.deriveHosts()
	}
	m.gen++
}

// nextSort returns the sort on the sortable column after s's.
func nextSort[R any](cols []column[R], s sortState) sortState {
	for i := 1; i <= len(cols); i++ {
		c := (s.col + i) % len(cols)
		if cols[c].cmp != nil {
			return sortState{col: c, desc: cols[c].descFirst}
		}
	}
	return s
}

// drillInto shows only the connections of the host in row i of the hosts
// table, and moves the focus to them.
func (m *model) drillInto(i int) {
	if i < 0 || i >= len(m.hostView) {
		return
	}
	k := m.host(i).key
	m.drill = &k
	m.selHost = k
	m.gen++
	m.deriveConns()
	m.setFocus(paneConns)
}

// drillOut shows every connection again and returns the focus to the hosts.
func (m *model) drillOut() {
	m.drill = nil
	m.gen++
	m.deriveConns()
	m.setFocus(paneHosts)
}

// setFocus moves the focus to p; in the compact layout a lower pane also
// becomes the one on show.
func (m *model) setFocus(p pane) {
	m.focus = p
	if p != paneHosts {
		m.lower = p
	}
}

// cycleFocus moves the focus to the next pane (or the previous one when
// back is set).
func (m *model) cycleFocus(back bool) {
	step := pane(1)
	if back {
		step = numPanes - 1
	}
	m.setFocus((m.focus + step) % numPanes)
}

// toggleProfileKind switches the hot functions pane between CPU and
// wall-clock profiles; the pane is empty until the first profile of the
// new kind arrives.
func (m *model) toggleProfileKind() {
	if m.hot.kind == snapshot.ProfileCPU {
		m.hot.kind = snapshot.ProfileWall
	} else {
		m.hot.kind = snapshot.ProfileCPU
	}
	m.hot.err = ""
	m.hot.funcs = nil // the other kind's functions would mislead
}

// setProfile records the outcome of a profile of kind: its top functions,
// or why it failed (keeping the previous functions on show). A profile
// that ends while the view is paused is dropped with the rest of the
// view's updates.
func (m *model) setProfile(kind snapshot.ProfileKind, funcs []flame.Func, err error) {
	if kind != m.hot.kind || m.paused {
		return // the user switched kinds, or paused, while it ran
	}
	if err != nil {
		m.hot.err = err.Error()
		return
	}
	m.hot.err = ""
	m.hot.funcs = funcs
}

// setDisconnected records that the source went away with err and that the
// next attempt is in retryIn.
func (m *model) setDisconnected(err string, retryIn time.Duration) {
	m.state, m.connErr, m.retryIn = stateDisconnected, err, retryIn
}

// setExited records that the program exited (err says how it is known):
// there is nothing left to reconnect to.
func (m *model) setExited(err string) {
	m.state, m.connErr, m.retryIn = stateExited, err, 0
}

// setConnecting records an attempt to reach the source.
func (m *model) setConnecting() {
	if m.state != stateDisconnected {
		m.state = stateConnecting
	}
	m.retryIn = 0
}
