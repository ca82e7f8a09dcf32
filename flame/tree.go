package flame

import (
	"slices"

	"github.com/google/pprof/profile"
)

// tree is a profile's stacks merged by prefix: one node per distinct path of
// function names from the root. Folded and SVG both walk it.
//
// Nodes are stored in pre-order with every node's children sorted by name,
// so output is deterministic and a walk is a loop over a slice. The tree is
// built without hashing: each sample's stack is turned into a sequence of
// name ranks, the sequences are sorted, and consecutive sequences share
// exactly the prefix the tree shares, so each new sequence only appends
// nodes below its common prefix with the previous one.
type tree struct {
	names []string // sorted; a name's id is its rank
	nodes []node   // pre-order; nodes[0] is the virtual root
}

// node is one frame in the tree.
type node struct {
	total  int64 // value of the samples whose stack passes through this node
	self   int64 // value of the samples whose stack ends here
	name   int32 // index into tree.names; -1 for the root
	depth  int32 // 0 for the root, 1 for the outermost frames
	parent int32 // index into tree.nodes; -1 for the root
	end    int32 // index just past this node's subtree
}

// stackRec is one sample's frame sequence in the sequence arena.
type stackRec struct {
	off, n int32
	value  int64
}

// buildTree merges p's samples, valued by Sample.Value[idx], into a tree.
// Samples whose value is zero are left out. idx must be valid.
func buildTree(p *profile.Profile, idx int, clean func(string) string) *tree {
	st := newSymtab(p, clean)

	seq := make([]int32, 0, estimateFrames(p))
	recs := make([]stackRec, 0, len(p.Sample))
	for _, s := range p.Sample {
		if s == nil || idx >= len(s.Value) || s.Value[idx] == 0 {
			continue
		}
		off := len(seq)
		for j := len(s.Location) - 1; j >= 0; j-- {
			if l := s.Location[j]; l != nil {
				if fr := st.locFrames(l); len(fr) == 1 {
					seq = append(seq, fr[0]) // the common case, without a memmove call
				} else {
					seq = append(seq, fr...)
				}
			}
		}
		recs = append(recs, stackRec{off: int32(off), n: int32(len(seq) - off), value: s.Value[idx]})
	}

	// Renumber names by rank so that comparing ids compares names.
	order := make([]int32, len(st.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch x, y := st.names[a], st.names[b]; {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	rank := make([]int32, len(order))
	names := make([]string, len(order))
	for r, id := range order {
		rank[id] = int32(r)
		names[r] = st.names[id]
	}
	for i, id := range seq {
		seq[i] = rank[id]
	}

	slices.SortFunc(recs, func(a, b stackRec) int {
		return compareSeq(seq[a.off:a.off+a.n], seq[b.off:b.off+b.n])
	})

	// Count the nodes first: appending 1.6M of them to a growing slice
	// costs more in copies and page faults than this pass.
	nodes, prev := 1, []int32(nil)
	for _, r := range recs {
		cur := seq[r.off : r.off+r.n]
		nodes += len(cur) - commonPrefix(prev, cur)
		prev = cur
	}

	t := &tree{names: names}
	t.nodes = make([]node, 1, nodes)
	t.nodes[0] = node{name: -1, parent: -1}
	path := []int32{0} // path[d] is the open node at depth d
	prev = nil
	for _, r := range recs {
		cur := seq[r.off : r.off+r.n]
		common := commonPrefix(prev, cur)
		for d := len(path) - 1; d > common; d-- {
			t.nodes[path[d]].end = int32(len(t.nodes))
		}
		path = path[:common+1]
		for d := common; d < len(cur); d++ {
			path = append(path, int32(len(t.nodes)))
			t.nodes = append(t.nodes, node{name: cur[d], depth: int32(d + 1), parent: path[d]})
		}
		t.nodes[path[len(cur)]].self = addSat(t.nodes[path[len(cur)]].self, r.value)
		prev = cur
	}
	for _, i := range path {
		t.nodes[i].end = int32(len(t.nodes))
	}

	// Children come after their parent, so a backward pass sums totals.
	for i := range t.nodes {
		t.nodes[i].total = t.nodes[i].self
	}
	for i := len(t.nodes) - 1; i > 0; i-- {
		parent := &t.nodes[t.nodes[i].parent]
		parent.total = addSat(parent.total, t.nodes[i].total)
	}
	return t
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// compareSeq orders frame sequences lexicographically, a prefix first. It is
// slices.Compare specialised for int32, which the sort calls millions of
// times.
func compareSeq(a, b []int32) int {
	la, lb := len(a), len(b)
	n := min(la, lb)
	a, b = a[:n:n], b[:n:n]
	for i := range a {
		if x, y := a[i], b[i]; x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return la - lb // a proper prefix sorts first
}

// estimateFrames guesses how many frames p's samples expand to, a little
// over, so that the sequence arena (tens of megabytes for a large profile)
// is allocated once instead of grown by copying.
func estimateFrames(p *profile.Profile) int {
	nlocs := 0
	for _, s := range p.Sample {
		nlocs += len(s.Location)
	}
	lines := 0
	for _, l := range p.Location {
		if l != nil {
			lines += max(len(l.Line), 1)
		}
	}
	ratio := 1.0
	if len(p.Location) > 0 {
		ratio = float64(lines) / float64(len(p.Location))
	}
	return int(float64(nlocs)*ratio*1.1) + 64
}
