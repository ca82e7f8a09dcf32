package dashboard

import (
	"cmp"
	"slices"
	"strconv"
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
)

// sortState is a table's sort: a column index and a direction.
type sortState struct {
	col  int
	desc bool
}

// hotView is one way the hot functions pane sums a profile up.
type hotView int

const (
	viewCode       hotView = iota // CPU charged to the program's functions
	viewPackages                  // cumulative share per package
	viewCategories                // kinds of work
	viewFlat                      // go tool pprof's top
	viewWaits                     // wall-clock: where requests wait
)

// hotViews lists the views of each kind of profile, in the order v cycles
// through them.
var hotViews = map[snapshot.ProfileKind][]hotView{
	snapshot.ProfileCPU:  {viewCode, viewPackages, viewCategories, viewFlat},
	snapshot.ProfileWall: {viewWaits, viewFlat},
}

// hotViewNames name the views in the pane's title.
var hotViewNames = map[hotView]string{
	viewCode: "code", viewPackages: "packages", viewCategories: "kinds of work", viewFlat: "flat", viewWaits: "where requests wait",
}

// hotProfile is the latest profile of one kind, summed up.
type hotProfile struct {
	// attr is its attribution, cut to the pane's length; nil until a
	// profile of the kind arrives.
	attr *flame.Attribution
	// waits is where requests wait (wall-clock profiles only).
	waits *flame.Waits
	// err is why the latest profile failed; empty when it did not.
	err string
}

// hotState is what the hot functions pane shows. Both kinds of profile
// are taken side by side, so switching kind or view shows the latest
// results at once.
type hotState struct {
	// kind is the profile kind on show (snapshot.ProfileCPU or
	// snapshot.ProfileWall).
	kind snapshot.ProfileKind
	// views holds the view on show for each kind, an index into
	// hotViews[kind].
	views map[snapshot.ProfileKind]int
	cpu   hotProfile
	wall  hotProfile
	// rows and header are what the table shows, derived from the above
	// when any of it changes.
	rows   []hotRow
	header [3]string
}

// hotRow is one line of the hot functions table: two figures and a name.
type hotRow struct {
	a, b, name string
	role       role // of the name
}

// profile returns the latest profile of the kind on show.
func (h *hotState) profile() *hotProfile {
	if h.kind == snapshot.ProfileWall {
		return &h.wall
	}
	return &h.cpu
}

// view returns the view on show.
func (h *hotState) view() hotView {
	vs := hotViews[h.kind]
	return vs[h.views[h.kind]%len(vs)]
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
		hot:      hotState{kind: snapshot.ProfileCPU, views: map[snapshot.ProfileKind]int{}},
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
// host's) and sorts them.
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
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
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

// toggleProfileKind switches the hot functions pane between the CPU and
// the wall-clock profile, each in the view it was last left in.
func (m *model) toggleProfileKind() {
	if m.hot.kind == snapshot.ProfileCPU {
		m.hot.kind = snapshot.ProfileWall
	} else {
		m.hot.kind = snapshot.ProfileCPU
	}
	m.deriveHot()
}

// cycleHotView shows the next view of the profile on show.
func (m *model) cycleHotView() {
	m.hot.views[m.hot.kind] = (m.hot.views[m.hot.kind] + 1) % len(hotViews[m.hot.kind])
	m.deriveHot()
}

// setProfile records the outcome of a profile of kind: its attribution
// (and, wall-clock, its waits), or why it failed (keeping the previous
// results on show). A profile that ends while the view is paused is
// dropped with the rest of the view's updates.
func (m *model) setProfile(kind snapshot.ProfileKind, r profileResult) {
	if m.paused {
		return
	}
	hp := &m.hot.cpu
	if kind == snapshot.ProfileWall {
		hp = &m.hot.wall
	}
	if r.err != nil {
		hp.err = r.err.Error()
		return
	}
	hp.err = ""
	if r.attr != nil && r.attr.Total == 0 && hp.attr != nil {
		// A rolling wall-clock profile of a program with many
		// goroutines may hold no sample: it samples less often than
		// the pane refreshes (see flame.StartWall). Keep the last.
		return
	}
	hp.attr, hp.waits = r.attr, r.waits
	if kind == m.hot.kind {
		m.deriveHot()
	}
}

// deriveHot computes the hot functions table's rows for the kind and view
// on show.
func (m *model) deriveHot() {
	h := &m.hot
	h.rows = h.rows[:0]
	hp := h.profile()
	if hp.attr == nil {
		return
	}
	add := func(a, b, name string, r role) { h.rows = append(h.rows, hotRow{a, b, name, r}) }
	switch h.view() {
	case viewCode:
		h.header = [3]string{"SHARE", "CUM", "FUNCTION"}
		for _, e := range hp.attr.Code {
			if e.IsCategory() {
				add(fmtPct1(e.Pct), "", "["+e.Name+"]", roleDim)
			} else {
				add(fmtPct1(e.Pct), fmtPct1(e.CumPct), shortFuncName(e.Name), roleNormal)
			}
		}
	case viewPackages:
		h.header = [3]string{"CUM", "", "PACKAGE"}
		for _, e := range hp.attr.Packages {
			add(fmtPct1(e.Pct), "", e.Name, roleNormal)
		}
	case viewCategories:
		h.header = [3]string{"SHARE", "", "KIND OF WORK"}
		for _, e := range hp.attr.Categories {
			r := roleNormal
			if e.Category == flame.CategoryHttptop {
				r = roleDim
			}
			add(fmtPct1(e.Pct), "", e.Name, r)
		}
	case viewFlat:
		h.header = [3]string{"FLAT", "CUM", "FUNCTION"}
		for _, f := range hp.attr.Flat {
			add(fmtPct1(f.FlatPct), fmtPct1(f.CumPct), shortFuncName(f.Name), roleNormal)
		}
	case viewWaits:
		h.header = [3]string{"SHARE", "GOR", "WHERE REQUESTS WAIT"}
		if hp.waits == nil || hp.waits.Requests == 0 {
			return
		}
		for _, b := range hp.waits.Buckets {
			if b.Value == 0 {
				continue
			}
			add(fmtPct1(b.Pct), strconv.FormatFloat(b.Goroutines, 'f', 1, 64), b.Title, roleBold)
			for _, f := range b.Funcs[:min(hotWaitFuncs, len(b.Funcs))] {
				add("", "", "  "+shortFuncName(f.Name)+" "+fmtPct(f.Pct), roleDim)
			}
		}
	}
}

// setDisconnected records that the source went away with err and that the
// next attempt is in retryIn.
func (m *model) setDisconnected(err string, retryIn time.Duration) {
	m.state, m.connErr, m.retryIn = stateDisconnected, err, retryIn
}

// setConnecting records an attempt to reach the source.
func (m *model) setConnecting() {
	if m.state != stateDisconnected {
		m.state = stateConnecting
	}
	m.retryIn = 0
}
