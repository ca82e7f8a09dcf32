package flame

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// svgFrame is one frame read back from an SVG.
type svgFrame struct {
	name     string // title up to " (value, pct)"
	title    string
	label    string // the visible text
	x, v     int64  // data-x and data-v
	px, py   float64
	pw       float64
	hasRect  bool
	hasTitle bool
}

// svgDoc is what parseSVG reads from an SVG.
type svgDoc struct {
	width, height float64
	texts         map[string]string // text elements by id
	frames        []svgFrame
	script        string
}

// parseSVG decodes every token of data as XML, failing on any error, and
// collects the frames.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{texts: map[string]string{}}
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		cur     *svgFrame
		inTitle bool
		textID  string
		inText  bool
		inScrip bool
		depth   int
	)
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q: %v", s, err)
		}
		return f
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not valid XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			switch tok.Name.Local {
			case "svg":
				if tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("svg namespace = %q", tok.Name.Space)
				}
				doc.width, doc.height = num(attr(tok, "width")), num(attr(tok, "height"))
			case "g":
				if attr(tok, "class") == "f" {
					x, _ := strconv.ParseInt(attr(tok, "data-x"), 10, 64)
					v, _ := strconv.ParseInt(attr(tok, "data-v"), 10, 64)
					doc.frames = append(doc.frames, svgFrame{x: x, v: v})
					cur = &doc.frames[len(doc.frames)-1]
				}
			case "title":
				inTitle = cur != nil
				if cur != nil {
					cur.hasTitle = true
				}
			case "rect":
				if cur != nil {
					cur.hasRect = true
					cur.px, cur.py, cur.pw = num(attr(tok, "x")), num(attr(tok, "y")), num(attr(tok, "width"))
				}
			case "text":
				inText = true
				textID = attr(tok, "id")
			case "script":
				inScrip = true
			case "a", "image", "use", "foreignObject", "iframe":
				t.Errorf("unexpected element <%s> in a self-contained SVG", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				if a.Name.Local == "href" || strings.Contains(a.Value, "http://") && a.Name.Local != "xmlns" {
					t.Errorf("external reference in <%s %s=%q>", tok.Name.Local, a.Name.Local, a.Value)
				}
			}
		case xml.EndElement:
			depth--
			switch tok.Name.Local {
			case "g":
				cur = nil
			case "title":
				inTitle = false
			case "text":
				inText, textID = false, ""
			case "script":
				inScrip = false
			}
		case xml.CharData:
			switch {
			case inTitle:
				cur.title += string(tok)
			case inText && cur != nil:
				cur.label += string(tok)
			case inText && textID != "":
				doc.texts[textID] += string(tok)
			case inScrip:
				doc.script += string(tok)
			}
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements: depth %d at EOF", depth)
	}
	for i := range doc.frames {
		f := &doc.frames[i]
		if !f.hasRect || !f.hasTitle {
			t.Fatalf("frame %d lacks a rect or title: %+v", i, f)
		}
		cut := strings.LastIndex(f.title, " (")
		if cut < 0 {
			t.Fatalf("frame title %q lacks (value, pct)", f.title)
		}
		f.name = f.title[:cut]
	}
	return doc
}

func renderSVG(t *testing.T, p *profile.Profile, opts SVGOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := SVG(&buf, p, opts); err != nil {
		t.Fatalf("SVG: %v", err)
	}
	return buf.Bytes()
}

func TestSVG(t *testing.T) {
	const fixtureTotal = 1181e6 // cpu nanoseconds in fixtureProfile
	tests := []struct {
		name      string
		opts      SVGOptions
		total     int64
		omitted   []string // functions that must not be drawn
		titleText string
	}{
		{name: "zero options keep all", total: fixtureTotal, titleText: "Flame Graph"},
		{name: "inverted", opts: SVGOptions{Inverted: true}, total: fixtureTotal, titleText: "Flame Graph"},
		{name: "samples", opts: SVGOptions{SampleType: "samples", Width: 800}, total: 119, titleText: "Flame Graph"},
		{name: "escaped title", opts: SVGOptions{Title: `cpu <of> "svc" & co`}, total: fixtureTotal, titleText: `cpu <of> "svc" & co`},
		{name: "default options omit tiny", opts: DefaultSVGOptions(), total: fixtureTotal, omitted: []string{"main.tiny"}, titleText: "Flame Graph"},
		{name: "narrow", opts: SVGOptions{Width: 50}, total: fixtureTotal, titleText: "Flame Graph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parseSVG(t, renderSVG(t, fixtureProfile(), tt.opts))
			if got := doc.texts["title"]; got != tt.titleText {
				t.Errorf("title = %q, want %q", got, tt.titleText)
			}
			typ := "cpu (nanoseconds)"
			if tt.opts.SampleType == "samples" {
				typ = "samples (count)"
			}
			if sub := doc.texts["subtitle"]; !strings.HasPrefix(sub, typ) {
				t.Errorf("subtitle %q does not start with the sample type %q", sub, typ)
			}

			drawn := map[string]bool{}
			for _, f := range doc.frames {
				drawn[f.name] = true
			}
			for _, name := range fixtureNames {
				if want := !contains(tt.omitted, name); drawn[name] != want {
					t.Errorf("function %q drawn = %v, want %v", name, drawn[name], want)
				}
			}

			// The root spans the whole width and the total.
			root := doc.frames[0]
			if root.name != "all" || root.x != 0 || root.v != tt.total {
				t.Fatalf("first frame = %q x %d v %d, want all x 0 v %d", root.name, root.x, root.v, tt.total)
			}
			if want := doc.width - 2*xPad; math.Abs(root.pw-want) > 0.01 {
				t.Errorf("root width = %v px, want %v", root.pw, want)
			}
			// Frames one level up (y one frame away from the root) sum
			// to the total, in value and in pixels.
			var sumV int64
			var sumW float64
			for _, f := range doc.frames[1:] {
				if math.Abs(math.Abs(f.py-root.py)-frameHeight) < 0.5 {
					sumV += f.v
					sumW += f.pw
				}
			}
			if sumV != tt.total {
				t.Errorf("sum of root frames' values = %d, want %d", sumV, tt.total)
			}
			if math.Abs(sumW-root.pw) > 0.05 {
				t.Errorf("sum of root frames' widths = %v px, want %v", sumW, root.pw)
			}
			if tt.opts.Inverted != (doc.frames[1].py > root.py) {
				t.Errorf("inverted = %v but child y %v vs root y %v", tt.opts.Inverted, doc.frames[1].py, root.py)
			}
			checkNesting(t, doc.frames, root.py)
		})
	}
}

// checkNesting checks that every frame lies within a frame one level closer
// to the root, in value and in pixels, and that labels fit their frames.
func checkNesting(t *testing.T, frames []svgFrame, rootY float64) {
	t.Helper()
	for _, f := range frames[1:] {
		depth := math.Round(math.Abs(f.py-rootY) / frameHeight)
		found := false
		for _, p := range frames {
			if math.Round(math.Abs(p.py-rootY)/frameHeight) == depth-1 && p.x <= f.x && f.x+f.v <= p.x+p.v {
				found = true
				if f.px < p.px-0.01 || f.px+f.pw > p.px+p.pw+0.02 {
					t.Errorf("frame %q [%v, %v] px outside its parent %q [%v, %v]", f.name, f.px, f.px+f.pw, p.name, p.px, p.px+p.pw)
				}
				break
			}
		}
		if !found {
			t.Errorf("frame %q (x %d v %d) has no parent", f.name, f.x, f.v)
		}
		if chars := float64(len([]rune(f.label))); chars*charWidth > f.pw {
			t.Errorf("label %q (%v px) overflows frame %q of %v px", f.label, chars*charWidth, f.name, f.pw)
		}
		if f.label != "" && f.label != f.name && !strings.HasSuffix(f.label, "..") {
			t.Errorf("label %q of %q is neither the name nor elided", f.label, f.name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSVGTitles(t *testing.T) {
	doc := parseSVG(t, renderSVG(t, fixtureProfile(), SVGOptions{}))
	want := map[string]string{
		"all":                   "all (1.18 s, 100.00%)",
		"main.work":             "main.work (1.00 s, 84.76%)",
		`a<b>&"q"'`:             `a<b>&"q"' (20.00 ms, 1.69%)`,
		"weird;name with space": "weird;name with space (20.00 ms, 1.69%)",
	}
	for _, f := range doc.frames {
		if w, ok := want[f.name]; ok {
			if f.title != w {
				t.Errorf("title = %q, want %q", f.title, w)
			}
			delete(want, f.name)
		}
	}
	for name := range want {
		t.Errorf("no frame for %q", name)
	}
}

func TestSVGLargeAndDeterministic(t *testing.T) {
	p := genProfile(2000)
	a := renderSVG(t, p, DefaultSVGOptions())
	doc := parseSVG(t, a)
	var total int64
	for _, s := range p.Sample {
		total += s.Value[1]
	}
	if doc.frames[0].v != total {
		t.Errorf("root value = %d, want %d", doc.frames[0].v, total)
	}
	for _, f := range doc.frames {
		if float64(f.v)*100 < DefaultMinWidthPercent*float64(total) {
			t.Errorf("frame %q of %d is under the minimum width", f.name, f.v)
		}
	}
	checkNesting(t, doc.frames, doc.frames[0].py)
	if b := renderSVG(t, p, DefaultSVGOptions()); !bytes.Equal(a, b) {
		t.Error("two renders of the same profile differ")
	}
	all := bytes.Count(renderSVG(t, p, SVGOptions{}), []byte(`<g class="f"`))
	if all <= len(doc.frames) {
		t.Errorf("keeping all frames drew %d, no more than the default's %d", all, len(doc.frames))
	}
}

func TestSVGEmpty(t *testing.T) {
	doc := parseSVG(t, renderSVG(t, newProfile(cpuTypes, nil), SVGOptions{}))
	if len(doc.frames) != 0 {
		t.Errorf("empty profile drew %d frames", len(doc.frames))
	}
	if !strings.Contains(doc.texts["subtitle"], "no samples") {
		t.Errorf("subtitle %q does not say there are no samples", doc.texts["subtitle"])
	}
}

func TestSVGErrors(t *testing.T) {
	if err := SVG(io.Discard, fixtureProfile(), SVGOptions{SampleType: "inuse_space"}); !errors.Is(err, ErrNoSampleType) {
		t.Errorf("unknown sample type: err = %v, want ErrNoSampleType", err)
	}
	if err := SVG(io.Discard, nil, SVGOptions{}); err == nil {
		t.Error("nil profile: no error")
	}
	if err := SVG(&failWriter{}, fixtureProfile(), SVGOptions{}); !errors.Is(err, errWrite) {
		t.Errorf("failing writer: err = %v, want %v", err, errWrite)
	}
}

func TestSVGScript(t *testing.T) {
	if strings.Contains(svgScript, "]]>") || strings.Contains(svgStyle, "]]>") {
		t.Fatal("script or style would end its CDATA section early")
	}
	doc := parseSVG(t, renderSVG(t, fixtureProfile(), SVGOptions{}))
	for _, want := range []string{"var cfg = {", "function zoom(", "function search(", "function unzoom("} {
		if !strings.Contains(doc.script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	for _, id := range []string{"details", "matched", "unzoom", "search"} {
		if _, ok := doc.texts[id]; !ok {
			t.Errorf("no <text id=%q>", id)
		}
	}
}

func TestAppendXML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`<a href="x">&'`, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"},
		{"bell\x07", "bell\uFFFD"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"Ωmega", "Ωmega"},
		{"\uFFFE", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := string(appendXML(nil, tt.in)); got != tt.want {
			t.Errorf("appendXML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v         int64
		typ, unit string
		want      string
	}{
		{1500000000, "cpu", "nanoseconds", "1.50 s"},
		{2500000, "cpu", "nanoseconds", "2.50 ms"},
		{1500, "cpu", "nanoseconds", "1.50 µs"},
		{15, "cpu", "nanoseconds", "15 ns"},
		{3 << 20, "inuse_space", "bytes", "3.00 MiB"},
		{512, "inuse_space", "bytes", "512 B"},
		{2048, "inuse_space", "bytes", "2.00 KiB"},
		{5 << 30, "inuse_space", "bytes", "5.00 GiB"},
		{42, "samples", "count", "42 samples"},
		{7, "x", "widgets", "7 widgets"},
	}
	for _, tt := range tests {
		if got := string(appendValue(nil, tt.v, tt.typ, tt.unit)); got != tt.want {
			t.Errorf("appendValue(%d, %q, %q) = %q, want %q", tt.v, tt.typ, tt.unit, got, tt.want)
		}
	}
}

func TestWarmColor(t *testing.T) {
	for _, name := range fixtureNames {
		c := warmColor(name)
		if c != warmColor(name) {
			t.Fatalf("warmColor(%q) is not deterministic", name)
		}
		var r, g, b int
		if _, err := fmt.Sscanf(c, "rgb(%d,%d,%d)", &r, &g, &b); err != nil {
			t.Fatalf("warmColor(%q) = %q: %v", name, c, err)
		}
		if r < 205 || r > 255 || g > 230 || b > 55 {
			t.Errorf("warmColor(%q) = %q, not in the warm palette", name, c)
		}
	}
}
