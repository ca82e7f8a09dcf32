package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/httptop/httptop/internal/capture"
)

// WriteJSON writes the report as JSON (report.json): objects indented, one
// field a line, and arrays of numbers on one line, so that the series of a
// long capture stay compact.
func (r *Report) WriteJSON(w io.Writer) error {
	var compact bytes.Buffer
	// Growing a buffer of megabytes by doubling costs more than the
	// encoding; the columns take about this much.
	size := 16 << 10
	for i := range r.Hosts {
		size += 4<<10 + 160*r.Hosts[i].Samples.Len() + 110*r.Hosts[i].PerSecond.Len()
	}
	compact.Grow(size)
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	out := make([]byte, 0, compact.Len()+compact.Len()/4)
	out = appendIndented(out, bytes.TrimSpace(compact.Bytes()))
	if _, err := w.Write(append(out, '\n')); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// appendIndented appends the compact JSON src to dst indented by two
// spaces a level, except that arrays of scalars stay on one line.
func appendIndented(dst, src []byte) []byte {
	var inline []bool // per open container: an array kept on one line
	newline := func(depth int) {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1])
				i++
				continue
			}
			flat := c == '[' && i+1 < len(src) && src[i+1] != '{' && src[i+1] != '['
			inline = append(inline, flat)
			dst = append(dst, c)
			if !flat {
				newline(len(inline))
			}
		case '}', ']':
			flat := inline[len(inline)-1]
			inline = inline[:len(inline)-1]
			if !flat {
				newline(len(inline))
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, ',')
			if inline[len(inline)-1] {
				dst = append(dst, ' ')
			} else {
				newline(len(inline))
			}
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Write renders r into dir as report.json, report.md and report.html. Each
// file is replaced atomically; an error names the file that failed, and
// the others are still written.
func Write(dir string, r *Report) error {
	return capture.WriteRenderings(dir,
		capture.Rendering{Name: capture.JSONFile, Write: r.WriteJSON},
		capture.Rendering{Name: capture.MarkdownFile, Write: r.WriteMarkdown},
		capture.Rendering{Name: capture.HTMLFile, Write: r.WriteHTML},
	)
}

// Regenerate renders the report of the capture in dir again, from its
// capture.json and profiles (read as capture.LoadContext reads them:
// trusting nothing in dir), and writes report.json, report.md and
// report.html there. It stops with ctx's error when ctx is done (Ctrl-C).
func Regenerate(ctx context.Context, dir string) (*Report, error) {
	c, p, err := capture.LoadContext(ctx, dir)
	if err != nil {
		return nil, err
	}
	r, err := BuildContext(ctx, c, p)
	if err != nil {
		return nil, err
	}
	if err := Write(dir, r); err != nil {
		return r, err
	}
	return r, nil
}
