package diff

import (
	"fmt"
	"strings"

	"github.com/httptop/httptop/internal/report"
)

// HostMatch is a --match old=new rule: the host called Old in the before
// capture is the host called New in the after one (its address changed).
// Each names a host as host:port, as scheme://host:port, or as a host
// without a port, which matches any port.
type HostMatch struct {
	Old, New string
}

// ParseMatch parses a --match rule, "old=new".
func ParseMatch(s string) (HostMatch, error) {
	before, after, ok := strings.Cut(s, "=")
	before, after = strings.TrimSpace(before), strings.TrimSpace(after)
	if !ok || before == "" || after == "" {
		return HostMatch{}, fmt.Errorf("diff: --match %q: want old=new, two hosts such as api.internal:443=10.0.0.7:8443", s)
	}
	return HostMatch{Old: before, New: after}, nil
}

// String returns the rule as old=new.
func (m HostMatch) String() string { return m.Old + "=" + m.New }

// matches reports whether the rule's pattern names host h.
func matches(pattern string, h *report.HostReport) bool {
	if scheme, rest, ok := strings.Cut(pattern, "://"); ok {
		if scheme != h.Scheme {
			return false
		}
		pattern = rest
	}
	if pattern == h.Host {
		return true
	}
	name, _, _ := strings.Cut(h.Host, ":")
	if strings.HasPrefix(h.Host, "[") { // [::1]:443
		if i := strings.LastIndex(h.Host, "]"); i > 0 {
			name = h.Host[:i+1]
		}
	}
	return pattern == name
}

// pair is a before and an after host, either of which may be missing,
// and how they were paired.
type pair struct {
	before, after *report.HostReport
	match         string
}

// matchHosts pairs the hosts of the two reports: first by the rules, then
// by the same client, scheme and host, then, for a client left with one
// host on each side, those two. The pairs come in the after report's
// order, then the before hosts left over. Rules that matched nothing are
// returned as warnings.
func matchHosts(before, after []report.HostReport, rules []HostMatch) ([]pair, []string) {
	m := &hostMatcher{
		before:  before,
		after:   after,
		partner: make(map[*report.HostReport]pair),
		usedB:   make(map[*report.HostReport]bool),
		usedA:   make(map[*report.HostReport]bool),
	}
	var warnings []string
	for _, r := range rules {
		if w := m.applyRule(r); w != "" {
			warnings = append(warnings, w)
		}
	}
	m.matchSame()
	m.matchAuto()
	return m.pairs(), warnings
}

// hostMatcher pairs before and after hosts, each at most once.
type hostMatcher struct {
	before, after []report.HostReport
	partner       map[*report.HostReport]pair // by after host
	usedB, usedA  map[*report.HostReport]bool
}

// link pairs before host b with after host a, as how says.
func (m *hostMatcher) link(b, a *report.HostReport, how string) {
	m.usedB[b], m.usedA[a] = true, true
	m.partner[a] = pair{before: b, after: a, match: how}
}

// applyRule pairs the hosts rule r names that are not paired yet: each
// before host with the first after host of its client, or, when that
// pairs none and the rule names one host on each side, those two. It
// returns why the rule paired nothing, or "".
func (m *hostMatcher) applyRule(r HostMatch) string {
	var bs, as []*report.HostReport
	for i := range m.before {
		if h := &m.before[i]; !m.usedB[h] && matches(r.Old, h) {
			bs = append(bs, h)
		}
	}
	for i := range m.after {
		if h := &m.after[i]; !m.usedA[h] && matches(r.New, h) {
			as = append(as, h)
		}
	}
	paired := 0
	for _, b := range bs {
		for _, a := range as {
			if !m.usedA[a] && a.Client == b.Client {
				m.link(b, a, MatchRule)
				paired++
				break
			}
		}
	}
	if paired == 0 && len(bs) == 1 && len(as) == 1 {
		m.link(bs[0], as[0], MatchRule) // one host each, whatever its client
		paired++
	}
	switch {
	case len(bs) == 0:
		return fmt.Sprintf("--match %s: the before capture has no host %s", r, r.Old)
	case len(as) == 0:
		return fmt.Sprintf("--match %s: the after capture has no host %s", r, r.New)
	case paired == 0:
		return fmt.Sprintf("--match %s: the hosts it names belong to different clients", r)
	}
	return ""
}

// matchSame pairs the hosts left that have the same client, scheme and
// host on both sides.
func (m *hostMatcher) matchSame() {
	byKey := make(map[string]*report.HostReport, len(m.before))
	for i := range m.before {
		if h := &m.before[i]; !m.usedB[h] {
			byKey[h.Client+"\x00"+h.Scheme+"\x00"+h.Host] = h
		}
	}
	for i := range m.after {
		a := &m.after[i]
		if m.usedA[a] {
			continue
		}
		if b := byKey[a.Client+"\x00"+a.Scheme+"\x00"+a.Host]; b != nil && !m.usedB[b] {
			m.link(b, a, MatchSame)
		}
	}
}

// matchAuto pairs, for each client left with one host on each side,
// those two.
func (m *hostMatcher) matchAuto() {
	lb, la := unpaired(m.before, m.usedB), unpaired(m.after, m.usedA)
	for client, as := range la {
		if bs := lb[client]; len(as) == 1 && len(bs) == 1 {
			m.link(bs[0], as[0], MatchAuto)
		}
	}
}

// unpaired returns the hosts of hs not in used, by client.
func unpaired(hs []report.HostReport, used map[*report.HostReport]bool) map[string][]*report.HostReport {
	out := map[string][]*report.HostReport{}
	for i := range hs {
		if h := &hs[i]; !used[h] {
			out[h.Client] = append(out[h.Client], h)
		}
	}
	return out
}

// pairs returns every after host with its partner, or alone, in the
// after report's order, then the before hosts left alone.
func (m *hostMatcher) pairs() []pair {
	pairs := make([]pair, 0, len(m.after)+len(m.before))
	for i := range m.after {
		a := &m.after[i]
		if p, ok := m.partner[a]; ok {
			pairs = append(pairs, p)
		} else {
			pairs = append(pairs, pair{after: a, match: MatchAfterOnly})
		}
	}
	for i := range m.before {
		if b := &m.before[i]; !m.usedB[b] {
			pairs = append(pairs, pair{before: b, match: MatchBeforeOnly})
		}
	}
	return pairs
}
