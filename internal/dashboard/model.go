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
	// stateExited: the program exited; the dashboard no longer tries to
	// reach it.
	stateExited
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
	// samples and span are the resolution of a wall-clock profile: how
	// many times the goroutines were sampled, over what time.
	samples int
	span    time.Duration
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
	// total and matched count the table's entries (a wait bucket with
	// its functions is one) before and after the filter.
	total, matched int
}

// hotRow is one line of the hot functions table: two figures and a name.
type hotRow struct {
	a, b, name string
	role       role // of the name
	// av and bv are the figures as numbers, key the name in full: what
	// the table is sorted and filtered by.
	av, bv float64
	key    string
	// child marks a function listed under the wait bucket above it.
	child bool
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

	hosts []hostRow // the snapshot's hosts, in its order
	// hostWidth is the width the HOST cells are cut to (see
	// setHostWidth).
	hostWidth int
	hostView  []int32 // indexes into hosts: filtered, then sorted
	hostSort  sortState
	filter    string // lower-case substring hosts must contain
	history   map[hostKey]*hostHistory
	totalRPS  float64
	totalEPS  float64

	connView []int32 // indexes into snap.Conns: drilled-in, then sorted
	connSort sortState
	// drill is the host whose connections the connections table shows;
	// nil shows every connection.
	drill *hostKey

	diags    []*snapshot.Diagnosis // all of the snapshot's, most severe first
	diagView []*snapshot.Diagnosis // filtered, then sorted by diagSort
	diagSort sortState             // a column of diagColumns

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
	hotSort sortState // a column of the hot functions table (0, 1 or 2)
	capture captureState
	// message is a one-line notice shown in the footer until the next key.
	message   string
	helpOpen  bool
	filtering bool // the filter input has focus
	// detailOpen shows the diagnoses in full, over the panes.
	detailOpen bool
}

// newModel returns an empty model: hosts sorted by request rate, largest
// first, connections by id.
func newModel() *model {
	return &model{
		hostSort:  sortState{col: colIndex(hostColumns, "REQ/S"), desc: true},
		connSort:  sortState{col: 0},
		history:   make(map[hostKey]*hostHistory),
		hostWidth: hostWidthCompact,
		lower:     paneConns,
		hot:       hotState{kind: snapshot.ProfileCPU, views: map[snapshot.ProfileKind]int{}},
		hotSort:   sortState{col: 0, desc: true},
		diagSort:  sortState{col: colIndex(diagColumns, "SEVERITY"), desc: true},
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
			hist.rps.add(rps(h))
			hist.p95.add(h.Latency.P95)
			hist.seen = m.gen
		}
		m.hosts = append(m.hosts, hostRow{h: h, key: k, hist: hist, name: truncateMiddle(hostText(h), m.hostWidth)})
		m.totalRPS += rps(h)
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
	m.deriveDiags()
}

// setHostWidth sets the width the HOST cells are cut to, for the layout
// on screen.
func (m *model) setHostWidth(w int) {
	if w == m.hostWidth {
		return
	}
	m.hostWidth = w
	for i := range m.hosts {
		m.hosts[i].name = truncateMiddle(hostText(m.hosts[i].h), w)
	}
	m.gen++
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
		switch {
		case m.drill != nil:
			// Drilled in, the host's connections, whatever the filter.
			if c.Client != m.drill.client || c.Host != m.drill.host {
				continue
			}
		case m.filter != "" && !containsFold(c.Host, m.filter) && !containsFold(c.Client, m.filter):
			continue
		}
		m.connView = append(m.connView, int32(i))
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

// deriveDiags filters the diagnoses (by client, host, kind or summary)
// and sorts them by diagSort; ties keep the most severe first.
func (m *model) deriveDiags() {
	m.diagView = m.diagView[:0]
	for _, d := range m.diags {
		if m.filter == "" || containsFold(d.Host, m.filter) || containsFold(d.Client, m.filter) ||
			containsFold(string(d.Kind), m.filter) || containsFold(d.Summary, m.filter) {
			m.diagView = append(m.diagView, d)
		}
	}
	col := diagColumns[m.diagSort.col]
	desc := m.diagSort.desc
	slices.SortStableFunc(m.diagView, func(a, b *snapshot.Diagnosis) int {
		c := col.cmp(a, b)
		if desc {
			c = -c
		}
		return c
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

// setFilter shows only what contains f (ignoring case): hosts by client,
// scheme or host, connections by client or host (unless drilled into a
// host), hot functions by name, diagnoses by client, host, kind or
// summary; "" shows everything.
func (m *model) setFilter(f string) {
	m.filter = strings.ToLower(strings.TrimSpace(f))
	m.gen++
	m.deriveHosts()
	m.deriveConns()
	m.deriveHot()
	m.deriveDiags()
}

// cycleSort moves the focused pane's sort to its next sortable column, in
// that column's natural direction.
func (m *model) cycleSort() {
	switch m.focus {
	case paneConns:
		m.connSort = nextSort(connColumns, m.connSort)
		m.deriveConns()
	case paneHot:
		m.hotSort = nextSort(hotColumns, m.hotSort)
		m.deriveHot()
	case paneDiag:
		m.diagSort = nextSort(diagColumns, m.diagSort)
		m.deriveDiags()
	default:
		m.hostSort = nextSort(hostColumns, m.hostSort)
		m.deriveHosts()
	}
	m.gen++
}

// reverseSort flips the focused pane's sort direction.
func (m *model) reverseSort() {
	switch m.focus {
	case paneConns:
		m.connSort.desc = !m.connSort.desc
		m.deriveConns()
	case paneHot:
		m.hotSort.desc = !m.hotSort.desc
		m.deriveHot()
	case paneDiag:
		m.diagSort.desc = !m.diagSort.desc
		m.deriveDiags()
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
		// No sample yet (see wallWindow): keep what is on show.
		return
	}
	hp.attr, hp.waits, hp.samples, hp.span = r.attr, r.waits, r.samples, r.span
	if kind == m.hot.kind {
		m.deriveHot()
	}
}

// deriveHot computes the hot functions table's rows for the kind and view
// on show, then filters and sorts them (filterSortHot).
func (m *model) deriveHot() {
	h := &m.hot
	h.rows = h.rows[:0]
	hp := h.profile()
	if hp.attr == nil {
		return
	}
	// add appends a row: its two figures as shown and as numbers (for
	// sorting), its name as shown and in full (for the filter).
	add := func(a, b string, av, bv float64, name, key string, r role) *hotRow {
		h.rows = append(h.rows, hotRow{a: a, b: b, av: av, bv: bv, name: name, key: key, role: r})
		return &h.rows[len(h.rows)-1]
	}
	switch h.view() {
	case viewCode:
		h.header = [3]string{"SHARE", "CUM", "FUNCTION"}
		for _, e := range hp.attr.Code {
			if e.IsCategory() {
				add(fmtPct1(e.Pct), "", e.Pct, 0, "["+e.Name+"]", e.Name, roleDim)
			} else {
				add(fmtPct1(e.Pct), fmtPct1(e.CumPct), e.Pct, e.CumPct, shortFuncName(e.Name), e.Name, roleNormal)
			}
		}
	case viewPackages:
		h.header = [3]string{"CUM", "", "PACKAGE"}
		for _, e := range hp.attr.Packages {
			add(fmtPct1(e.Pct), "", e.Pct, 0, e.Name, e.Name, roleNormal)
		}
	case viewCategories:
		h.header = [3]string{"SHARE", "", "KIND OF WORK"}
		for _, e := range hp.attr.Categories {
			r := roleNormal
			if e.Category == flame.CategoryHttptop {
				r = roleDim
			}
			add(fmtPct1(e.Pct), "", e.Pct, 0, e.Name, e.Name, r)
		}
	case viewFlat:
		h.header = [3]string{"FLAT", "CUM", "FUNCTION"}
		for _, f := range hp.attr.Flat {
			add(fmtPct1(f.FlatPct), fmtPct1(f.CumPct), f.FlatPct, f.CumPct, shortFuncName(f.Name), f.Name, roleNormal)
		}
	case viewWaits:
		h.header = [3]string{"SHARE", "GOR", "STAGE"}
		if hp.waits == nil || hp.waits.Requests == 0 {
			break
		}
		for _, b := range hp.waits.Buckets {
			if b.Value == 0 {
				continue
			}
			add(fmtPct1(b.Pct), strconv.FormatFloat(b.Goroutines, 'f', 1, 64), b.Pct, b.Goroutines, b.Title, b.Title, roleBold)
			for _, f := range b.Funcs[:min(hotWaitFuncs, len(b.Funcs))] {
				add("", "", f.Pct, 0, "  "+shortFuncName(f.Name)+" "+fmtPct(f.Pct), f.Name, roleDim).child = true
			}
		}
	}
	m.filterSortHot()
}

// wallResolution says how many samples the wall-clock profile on show
// holds and over what time, for the hot functions pane's bottom border
// (markedFlex): a program of many goroutines is sampled seldom (see
// wallWindow). "" for a CPU profile.
func wallResolution(h *hotState) string {
	hp := h.profile()
	if h.kind != snapshot.ProfileWall || hp.samples == 0 {
		return ""
	}
	s := strconv.Itoa(hp.samples) + " sample"
	if hp.samples != 1 {
		s += "s"
	}
	return s + " over " + fmtSeconds(int64((hp.span+time.Second/2)/time.Second))
}

// filterSortHot keeps the hot functions rows whose name contains the
// filter and sorts them by hotSort. The functions under a wait bucket
// (child rows) go with it: a bucket whose title matches keeps them all,
// one that does not keeps those that match and stays if any does; the
// buckets are sorted, their functions keep their order.
func (m *model) filterSortHot() {
	h := &m.hot
	type group struct {
		head hotRow
		kids []hotRow
	}
	var groups []group
	for _, r := range h.rows {
		if r.child && len(groups) > 0 {
			g := &groups[len(groups)-1]
			g.kids = append(g.kids, r)
			continue
		}
		groups = append(groups, group{head: r})
	}
	h.total = len(groups)
	if m.filter != "" {
		kept := groups[:0]
		for _, g := range groups {
			if !containsFold(g.head.key, m.filter) {
				var kids []hotRow
				for _, k := range g.kids {
					if containsFold(k.key, m.filter) {
						kids = append(kids, k)
					}
				}
				if len(kids) == 0 {
					continue
				}
				g.kids = kids
			}
			kept = append(kept, g)
		}
		groups = kept
	}
	h.matched = len(groups)
	col, desc := hotColumns[m.hotSort.col], m.hotSort.desc
	slices.SortStableFunc(groups, func(a, b group) int {
		c := col.cmp(&a.head, &b.head)
		if desc {
			c = -c
		}
		return c
	})
	h.rows = h.rows[:0]
	for _, g := range groups {
		h.rows = append(h.rows, g.head)
		h.rows = append(h.rows, g.kids...)
	}
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
