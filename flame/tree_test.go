package flame

import (
	"slices"
	"testing"

	"github.com/google/pprof/profile"
)

func TestCompareSeq(t *testing.T) {
	tests := []struct {
		a, b []int32
		want int // sign
	}{
		{nil, nil, 0},
		{[]int32{1}, []int32{1}, 0},
		{[]int32{1}, []int32{1, 2}, -1},
		{[]int32{1, 2}, []int32{1}, 1},
		{[]int32{1, 3}, []int32{1, 2, 9}, 1},
		{[]int32{0, 5}, []int32{1}, -1},
	}
	for _, tt := range tests {
		got := compareSeq(tt.a, tt.b)
		if sign(got) != tt.want || sign(got) != sign(slices.Compare(tt.a, tt.b)) {
			t.Errorf("compareSeq(%v, %v) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// TestTreeMergesPrefixes checks the tree's invariants on stacks that are
// prefixes of one another, in every order: one node per distinct path,
// children sorted by name, pre-order subtrees, totals that add up.
func TestTreeMergesPrefixes(t *testing.T) {
	stacks := []fstack{
		st([]string{"a", "b"}, 1),
		st([]string{"a"}, 2),
		st([]string{"a", "b", "c"}, 4),
		st([]string{"a", "b"}, 8),
		st([]string{"b"}, 16),
		st([]string{"a", "c"}, 32),
		st(nil, 64),
	}
	perm := []int{0, 1, 2, 3, 4, 5, 6}
	for range 50 {
		ordered := make([]fstack, len(stacks))
		for i, j := range perm {
			ordered[i] = stacks[j]
		}
		tr := buildTree(newProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}}, ordered), 0, nil)
		checkTree(t, tr)
		if got := len(tr.nodes); got != 6 { // root, a, a;b, a;b;c, a;c, b
			t.Fatalf("order %v: %d nodes, want 6", perm, got)
		}
		if tr.nodes[0].total != 127 || tr.nodes[0].self != 64 {
			t.Fatalf("order %v: root total %d self %d, want 127 and 64", perm, tr.nodes[0].total, tr.nodes[0].self)
		}
		nextPerm(perm)
	}
}

// checkTree verifies tree invariants.
func checkTree(t *testing.T, tr *tree) {
	t.Helper()
	seen := map[[2]int32]bool{}
	for i := 1; i < len(tr.nodes); i++ {
		n := tr.nodes[i]
		par := tr.nodes[n.parent]
		if int(n.parent) >= i || n.depth != par.depth+1 || int(n.end) > int(par.end) || int(n.end) <= i {
			t.Fatalf("node %d %+v breaks pre-order under %+v", i, n, par)
		}
		if seen[[2]int32{n.parent, n.name}] {
			t.Fatalf("node %d: name %q appears twice under node %d", i, tr.names[n.name], n.parent)
		}
		seen[[2]int32{n.parent, n.name}] = true
		// Next sibling (if any) starts at n.end and has a larger name.
		if j := int(n.end); j < len(tr.nodes) && tr.nodes[j].parent == n.parent && tr.names[tr.nodes[j].name] <= tr.names[n.name] {
			t.Fatalf("children of %d not sorted: %q before %q", n.parent, tr.names[n.name], tr.names[tr.nodes[j].name])
		}
	}
	for i := range tr.nodes {
		sum := tr.nodes[i].self
		for j := i + 1; j < int(tr.nodes[i].end); j = int(tr.nodes[j].end) {
			sum += tr.nodes[j].total
		}
		if sum != tr.nodes[i].total {
			t.Fatalf("node %d: total %d, want self + children = %d", i, tr.nodes[i].total, sum)
		}
	}
}

// nextPerm advances p to the next permutation in lexicographic order,
// wrapping around after the last.
func nextPerm(p []int) {
	i := len(p) - 2
	for i >= 0 && p[i] >= p[i+1] {
		i--
	}
	if i >= 0 {
		j := len(p) - 1
		for p[j] <= p[i] {
			j--
		}
		p[i], p[j] = p[j], p[i]
	}
	slices.Reverse(p[i+1:])
}

func TestTreeGenerated(t *testing.T) {
	checkTree(t, buildTree(genProfile(1000), 1, nil))
}
