package flame

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/pprof/profile"
)

// Folded writes p's stacks in the folded format of Brendan Gregg's
// stackcollapse scripts, read by flamegraph.pl, inferno and speedscope: one
// line per distinct stack, frames from the root to the leaf separated by
// ';', then a space and the summed Sample.Value[sampleIndex]:
//
//	main.main;main.handle;runtime.mallocgc 42
//
// A negative sampleIndex picks the profile's default sample type (see
// SampleIndex). Inlined frames are expanded and frames are named by
// function only, as flamegraph.pl does for Go. Characters that would break
// the format are replaced inside names: ';' by ':' (as stackcollapse-perf
// does) and whitespace or control characters by '_'. Stacks whose values sum
// to zero are left out, and so are samples without any location (the
// format cannot hold an empty stack); the values written sum to the
// profile's total less those.
//
// Lines are sorted frame by frame (a stack comes before the stacks that
// extend it), so the same profile always gives the same bytes.
func Folded(w io.Writer, p *profile.Profile, sampleIndex int) error {
	idx, err := resolveIndex(p, sampleIndex)
	if err != nil {
		return fmt.Errorf("flame: folded: %w", err)
	}
	t := buildTree(p, idx, foldedName)

	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	offs := make([]int, 1, 64) // offs[d] is where depth d's name starts in line
	for i := 1; i < len(t.nodes); i++ {
		n := &t.nodes[i]
		d := int(n.depth)
		line = line[:offs[d-1]]
		if d > 1 {
			line = append(line, ';')
		}
		line = append(line, t.names[n.name]...)
		offs = append(offs[:d], len(line))
		if n.self == 0 {
			continue
		}
		end := len(line)
		line = append(line, ' ')
		line = strconv.AppendInt(line, n.self, 10)
		line = append(line, '\n')
		bw.Write(line)
		line = line[:end]
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flame: write folded stacks: %w", err)
	}
	return nil
}

// foldedName makes a function name safe for the folded format.
func foldedName(s string) string {
	if s == "" {
		return "?"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ';' || c <= ' ' || c >= utf8.RuneSelf {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == ';':
			return ':'
		case unicode.IsSpace(r), unicode.IsControl(r):
			return '_'
		}
		return r
	}, s)
}
