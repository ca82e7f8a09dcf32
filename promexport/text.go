package promexport

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/httptop/httptop/probe"
)

// NewHandler returns an http.Handler that serves the metrics of col, and
// nothing else: the Prometheus text format (classic histogram buckets),
// or protocol buffers (native histograms as well) when the scraper asks
// for them, as Prometheus does with native histograms enabled. It checks
// no credentials: wrap it in your own authentication. Create it once per
// collector and reuse it, like New.
//
// The text format is written straight from the collector's figures, which
// is several times faster than encoding through a registry (a scrape of
// 1,000 hosts in a few milliseconds); the protocol-buffer format goes
// through client_golang's registry.
func NewHandler(col *probe.Collector, opts Options) http.Handler {
	c := New(col, opts)
	// Not a pedantic registry: its per-sample checks cost more than the
	// rest of a scrape (the tests gather with one).
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return &handler{c: c, proto: promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.HTTPErrorOnError,
		MaxRequestsInFlight: 2,
	})}
}

type handler struct {
	c     *Collector
	proto http.Handler
}

var _ http.Handler = (*handler)(nil)

// The formats the handler serves, the text format first so that a client
// that takes anything (curl's */*) gets text.
var (
	textFormat  = expfmt.NewFormat(expfmt.TypeTextPlain)
	protoFormat = expfmt.NewFormat(expfmt.TypeProtoDelim)
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if expfmt.NegotiateAccept(r.Header, textFormat, protoFormat).FormatType() == expfmt.TypeProtoDelim {
		h.proto.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", string(textFormat))
	var out io.Writer = w
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		defer gz.Close()
		out = gz
	}
	// An error here is the scraper gone: nothing to tell it.
	h.c.WriteText(out)
}

// acceptsGzip reports whether an Accept-Encoding header value lists gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// WriteText writes every series of the collector to w in the Prometheus
// text format (version 0.0.4), histograms with their classic buckets.
func (c *Collector) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := textWriter{w: bw}
	c.read(func(rows []probe.HostMetrics) {
		// One emit for every series: a closure made per family and host
		// would be an allocation each.
		var (
			f *family
			h *probe.HostMetrics
		)
		emit := func(v int64, extra ...string) {
			t.sample(f.name, "", h, f.extra, extra, "", strconv.AppendInt(t.num[:0], v, 10))
		}
		for _, f = range families {
			t.header(f)
			for i := range rows {
				h = &rows[i]
				if !f.has(h) {
					continue
				}
				if f.hist != nil {
					hist, bounds := f.hist(h)
					t.histogram(f.name, h, hist, bounds)
					continue
				}
				f.each(h, emit)
			}
		}
	})
	t.header(probeErrors)
	t.line = append(t.line[:0], probeErrors.name...)
	t.line = append(t.line, ' ')
	t.line = strconv.AppendInt(t.line, c.col.ProbeErrors(), 10)
	t.line = append(t.line, '\n')
	bw.Write(t.line)
	return bw.Flush()
}

// textWriter writes text-format lines into w through a reused buffer.
type textWriter struct {
	w    *bufio.Writer
	line []byte
	num  [32]byte
}

func (t *textWriter) header(f *family) {
	t.line = append(t.line[:0], "# HELP "...)
	t.line = append(t.line, f.name...)
	t.line = append(t.line, ' ')
	t.line = appendEscaped(t.line, f.help, false)
	t.line = append(t.line, "\n# TYPE "...)
	t.line = append(t.line, f.name...)
	t.line = append(t.line, ' ')
	t.line = append(t.line, strings.ToLower(dto.MetricType_name[int32(f.typ)])...)
	t.line = append(t.line, '\n')
	t.w.Write(t.line)
}

// sample writes one line: name+suffix, the host's labels, the extra
// labels, an le label when le is not empty, and the value.
func (t *textWriter) sample(name, suffix string, h *probe.HostMetrics, names, values []string, le string, v []byte) {
	b := append(t.line[:0], name...)
	b = append(b, suffix...)
	b = appendLabel(b, '{', "client", h.Client)
	b = appendLabel(b, ',', "host", h.Host)
	b = appendLabel(b, ',', "scheme", h.Scheme)
	for k, n := range names {
		b = appendLabel(b, ',', n, values[k])
	}
	if le != "" {
		b = appendLabel(b, ',', "le", le)
	}
	b = append(b, "} "...)
	b = append(b, v...)
	b = append(b, '\n')
	t.line = b
	t.w.Write(b)
}

// histogram writes a histogram's classic buckets, sum and count.
func (t *textWriter) histogram(name string, h *probe.HostMetrics, hist *probe.Histogram, bounds classicBounds) {
	forClassicBuckets(hist, bounds, func(le float64, cum uint64) {
		t.sample(name, "_bucket", h, nil, nil, formatFloat(le), strconv.AppendUint(t.num[:0], cum, 10))
	})
	t.sample(name, "_bucket", h, nil, nil, "+Inf", strconv.AppendUint(t.num[:0], hist.Count, 10))
	t.sample(name, "_sum", h, nil, nil, "", strconv.AppendFloat(t.num[:0], hist.Sum, 'g', -1, 64))
	t.sample(name, "_count", h, nil, nil, "", strconv.AppendUint(t.num[:0], hist.Count, 10))
}

// formatFloat formats a bucket bound as the text format writes floats.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func appendLabel(b []byte, sep byte, name, value string) []byte {
	b = append(b, sep)
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped appends s escaped as the text format wants: backslash and
// newline always, double quotes in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}
