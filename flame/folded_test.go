package flame

import (
	"bufio"
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/golden"
)

// parseFolded reads folded output back into stack → value, failing on
// malformed or duplicate lines and on lines out of order.
func parseFolded(t *testing.T, data []byte) (map[string]int64, []string) {
	t.Helper()
	got := map[string]int64{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		sp := strings.LastIndexByte(line, ' ')
		if sp <= 0 {
			t.Fatalf("malformed folded line %q", line)
		}
		stack, num := line[:sp], line[sp+1:]
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("folded line %q: bad value: %v", line, err)
		}
		if strings.ContainsAny(stack, " \t\n") || strings.Contains(stack, ";;") || strings.HasPrefix(stack, ";") {
			t.Fatalf("folded line %q: stack holds whitespace or an empty frame", line)
		}
		if _, dup := got[stack]; dup {
			t.Fatalf("stack %q written twice", stack)
		}
		got[stack] = v
		order = append(order, stack)
	}
	return got, order
}

// wantFolded computes the folded stacks of p straight from its samples,
// independently of the tree.
func wantFolded(p *profile.Profile, idx int) (map[string]int64, int64) {
	want := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		var frames []string
		for i := len(s.Location) - 1; i >= 0; i-- {
			l := s.Location[i]
			for j := len(l.Line) - 1; j >= 0; j-- {
				frames = append(frames, foldedName(l.Line[j].Function.Name))
			}
		}
		if len(frames) == 0 {
			continue // folded stacks cannot hold an empty stack
		}
		total += v
		if v != 0 {
			want[strings.Join(frames, ";")] += v
		}
	}
	for k, v := range want {
		if v == 0 {
			delete(want, k)
		}
	}
	return want, total
}

func TestFoldedRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    *profile.Profile
		idx  int
	}{
		{"fixture cpu", fixtureProfile(), 1},
		{"fixture samples", fixtureProfile(), 0},
		{"fixture default", fixtureProfile(), -1},
		{"recursion", recursiveProfile(), 0},
		{"generated", genProfile(2000), 1},
		{"empty", newProfile(cpuTypes, nil), 1},
		{"cancelling values", newProfile(cpuTypes, []fstack{
			st([]string{"main", "x"}, 1, 5),
			st([]string{"main", "x"}, 1, -5),
			st([]string{"main", "y"}, 1, 7),
		}), 1},
		{"empty stack left out", newProfile(cpuTypes, []fstack{
			st(nil, 1, 9),
			st([]string{"main"}, 1, 7),
		}), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Folded(&buf, tt.p, tt.idx); err != nil {
				t.Fatalf("Folded: %v", err)
			}
			got, order := parseFolded(t, buf.Bytes())
			idx := tt.idx
			if idx < 0 {
				idx = len(tt.p.SampleType) - 1
			}
			want, total := wantFolded(tt.p, idx)

			var sum int64
			for _, v := range got {
				sum += v
			}
			if sum != total {
				t.Errorf("sum of folded values = %d, want the profile's total %d", sum, total)
			}
			for stack, w := range want {
				if got[stack] != w {
					t.Errorf("stack %q = %d, want %d", stack, got[stack], w)
				}
			}
			for stack, g := range got {
				if _, ok := want[stack]; !ok {
					t.Errorf("unexpected stack %q = %d", stack, g)
				}
			}
			// Sorted frame by frame: a stack before its extensions.
			for i := 1; i < len(order); i++ {
				a, b := strings.Split(order[i-1], ";"), strings.Split(order[i], ";")
				if slices.Compare(a, b) >= 0 {
					t.Errorf("line %d %q is not after %q", i, order[i], order[i-1])
				}
			}
		})
	}
}

func TestFoldedGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Folded(&buf, fixtureProfile(), -1); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "fixture.folded"), buf.Bytes())
}

func TestFoldedDeterministic(t *testing.T) {
	p := genProfile(500)
	var a, b bytes.Buffer
	if err := Folded(&a, p, 1); err != nil {
		t.Fatal(err)
	}
	// Shuffle the samples: output must not depend on their order.
	slices.Reverse(p.Sample)
	if err := Folded(&b, p, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("Folded output depends on sample order")
	}
}

func TestFoldedErrors(t *testing.T) {
	tests := []struct {
		name string
		p    *profile.Profile
		idx  int
		w    *failWriter
		want error
	}{
		{"index out of range", fixtureProfile(), 2, nil, ErrNoSampleType},
		{"nil profile", nil, 0, nil, nil},
		{"write error", fixtureProfile(), 1, &failWriter{}, errWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w interface{ Write([]byte) (int, error) } = &bytes.Buffer{}
			if tt.w != nil {
				w = tt.w
			}
			err := Folded(w, tt.p, tt.idx)
			if err == nil {
				t.Fatal("Folded succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Folded error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "flame: ") {
				t.Errorf("error %q lacks the flame: prefix", err)
			}
		})
	}
}

var errWrite = errors.New("disk full")

// failWriter fails every write.
type failWriter struct{}

func (*failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestFoldedName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"main.main", "main.main"},
		{"pkg.F[...]", "pkg.F[...]"},
		{"a;b", "a:b"},
		{"with space", "with_space"},
		{"tab\tnew\nline", "tab_new_line"},
		{"nul\x00", "nul_"},
		{"Ωmega", "Ωmega"},
		{"nbsp\u00a0x", "nbsp_x"},
		{"", "?"},
	}
	for _, tt := range tests {
		if got := foldedName(tt.in); got != tt.want {
			t.Errorf("foldedName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
