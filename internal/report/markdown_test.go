package report

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// TestMarkdownHostileText renders a capture whose every string field
// tries to break out of report.md: headings and HTML in the middle of
// text, links (javascript: and outside the capture), and pipes and
// backticks that would end a table cell or a code span. report.md must
// show them as text, and link only files of the capture directory.
func TestMarkdownHostileText(t *testing.T) {
	const inject = "a\n\n# injected\n<script>alert(1)</script> [x](javascript:alert(1)) **b** | c ` ~~d~~ &lt;"
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	c := capture.NewCapture(start)
	c.Program = inject
	c.Profiles = []capture.ProfileInfo{
		{Kind: snapshot.ProfileCPU, File: "javascript:alert(1)", FlameGraph: "../../../etc/shadow", Folded: "/etc/passwd", Seconds: 1},
		{Kind: snapshot.ProfileWall, File: "wall.pb.gz", FlameGraph: "https://evil.example/x.svg", Seconds: 1, Error: inject},
	}
	for k := range 3 {
		now := start.Add(time.Duration(k) * time.Second)
		c.AddSnapshot(&snapshot.Snapshot{
			Version: snapshot.Version, Time: now, Program: inject,
			Hosts: []snapshot.Host{{Client: inject, Scheme: "https", Host: inject, RPS: 1, Open: 1,
				Latency: snapshot.Percentiles{Count: 1, P50: 1}}},
			Diagnoses: []snapshot.Diagnosis{{
				Kind: snapshot.DiagnosisKind(inject), Severity: snapshot.Severity(inject), Client: inject, Host: inject,
				Summary: inject, Advice: inject, Evidence: map[string]float64{inject: 1},
				Sites: []snapshot.Site{{Function: inject, File: inject, Line: 1, Count: 1}},
			}},
		})
	}
	c.End = start.Add(2 * time.Second)
	c.AddError(inject, errString(inject))
	var md strings.Builder
	if err := Build(c, capture.Profiles{}).WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if testing.Verbose() {
		t.Log(out)
	}
	// Escaped (a backslash before) or in a code span, these are text.
	text := withoutCodeSpans(out)
	for _, bad := range []string{"\n# injected", "<script>", "](javascript:", "](../", "](/etc", "](https:"} {
		if regexp.MustCompile(`(^|[^\\])` + regexp.QuoteMeta(bad)).MatchString(text) {
			t.Errorf("report.md holds %q", bad)
		}
	}
	for _, target := range mdLinks(text) {
		if !capture.IsFileName(target) {
			t.Errorf("report.md links %q", target)
		}
	}
	// Every row of a table has as many cells as its header.
	lines := strings.Split(out, "\n")
	cells := regexp.MustCompile(`(^|[^\\])\|`)
	for i := 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "|") && strings.HasPrefix(lines[i-1], "|") && strings.HasPrefix(lines[i], "|:") {
			want := len(cells.FindAllString(lines[i-1], -1))
			for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
				if got := len(cells.FindAllString(lines[j], -1)); got != want {
					t.Errorf("table row has %d cells, header %d: %q", got, want, lines[j])
				}
			}
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// mdLinks returns the targets of the Markdown links in md: ](target) not
// escaped by a backslash.
func mdLinks(md string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?:^|[^\\])\]\(([^)]*)\)`).FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

// withoutCodeSpans returns md without its code spans (a run of backticks,
// what follows, and the next run of as many), whose content is shown
// as is.
func withoutCodeSpans(md string) string {
	var b strings.Builder
	for i := 0; i < len(md); {
		if md[i] != '`' || (i > 0 && md[i-1] == '\\') {
			b.WriteByte(md[i])
			i++
			continue
		}
		n := 0
		for i+n < len(md) && md[i+n] == '`' {
			n++
		}
		fence := md[i : i+n]
		end := -1
		for j := i + n; j < len(md); {
			k := strings.Index(md[j:], fence)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(md) && md[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 {
			b.WriteString(fence)
			i += n
			continue
		}
		i = end + n
	}
	return b.String()
}

// TestMDText: text is escaped where Markdown would read it as markup, and
// left as written where it would not (a lone '&' or '<').
func TestMDText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GC & allocation", "GC & allocation"},
		{"&amp; &#38;", `\&amp; \&#38;`},
		{"a < b", "a < b"},
		{"<script>", `\<script>`},
		{"~546 req/s, ~486 req/s", `\~546 req/s, \~486 req/s`},
		{"*x* _y_ [z](u) `c` |", `\*x\* \_y\_ \[z\](u) \` + "`c\\`" + ` \|`},
	} {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
