package flame

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// WaitKind names where a goroutine of an HTTP request spends its time, in
// a wall-clock profile (see AttributeWaits).
type WaitKind string

// The kinds of wait, in the order a request meets them.
const (
	// WaitConn is waiting for a connection from the pool: in
	// net/http.(*Transport).getConn until one is handed over (all are
	// busy and MaxConnsPerHost is reached, or a dial is on its way), or
	// for a free HTTP/2 stream slot.
	WaitConn WaitKind = "conn"
	// WaitDial is dialing and the TLS handshake of a new connection.
	WaitDial WaitKind = "dial"
	// WaitHeaders is from the request being written until the response
	// headers arrive: the server working, and the network.
	WaitHeaders WaitKind = "headers"
	// WaitBody is reading (or draining on Close) the response body.
	WaitBody WaitKind = "body"
	// WaitTransport is other work inside the client call: redirects,
	// cookies, the transport's own bookkeeping.
	WaitTransport WaitKind = "transport"
	// WaitOutside is the time the goroutines that issue HTTP requests
	// spend outside the transport: in the program's own code between
	// requests, running or blocked (retry back-off, rate limiters,
	// locks, channel waits, processing responses).
	WaitOutside WaitKind = "outside"
)

// WaitKinds lists the kinds of wait in the order Waits reports them.
var WaitKinds = []WaitKind{WaitConn, WaitDial, WaitHeaders, WaitBody, WaitTransport, WaitOutside}

// Title says what the kind of wait is, for people.
func (k WaitKind) Title() string {
	switch k {
	case WaitConn:
		return "waiting for a connection"
	case WaitDial:
		return "dialing and TLS handshake"
	case WaitHeaders:
		return "waiting for response headers"
	case WaitBody:
		return "reading the body"
	case WaitTransport:
		return "other client work"
	case WaitOutside:
		return "outside the transport"
	}
	return string(k)
}

// Waits says where the goroutines of a program's HTTP requests spend
// their wall-clock time, by AttributeWaits.
type Waits struct {
	// SampleType and Unit describe the values ("time", "nanoseconds").
	SampleType string `json:"sample_type"`
	Unit       string `json:"unit"`
	// Seconds is the time the profile covers.
	Seconds float64 `json:"seconds"`
	// Total is the value of every sample (all goroutines); Requests the
	// value of the samples kept: goroutines inside an HTTP client call,
	// or running the code that issues them.
	Total    int64 `json:"total"`
	Requests int64 `json:"requests"`
	// Buckets has one entry per WaitKind, in the order of WaitKinds.
	Buckets []WaitBucket `json:"buckets"`
}

// WaitBucket is one kind of wait.
type WaitBucket struct {
	Kind  WaitKind `json:"kind"`
	Title string   `json:"title"`
	// Value is the time of the goroutines in the bucket and Pct its share
	// of Waits.Requests.
	Value int64   `json:"value"`
	Pct   float64 `json:"pct"`
	// Goroutines is how many goroutines were in the bucket on average
	// over the profile (Value ÷ its duration), when the unit is time.
	Goroutines float64 `json:"goroutines"`
	// Funcs are the functions of the program's code the time is charged
	// to (the innermost frame of the program's code on each stack, as in
	// Attribution.Code), largest first; Pct is a share of the bucket.
	Funcs []Entry `json:"funcs"`
}

// Bucket returns the bucket of kind k, or nil.
func (w *Waits) Bucket(k WaitKind) *WaitBucket {
	if w == nil {
		return nil
	}
	for i := range w.Buckets {
		if w.Buckets[i].Kind == k {
			return &w.Buckets[i]
		}
	}
	return nil
}

// waitMark flags frames that tell where a request goroutine waits.
type waitMark uint16

const (
	markCall       waitMark = 1 << iota // inside an HTTP client call
	markBody                            // reading or closing a response body
	markDial                            // dialing, resolving, TLS handshake
	markConn                            // waiting for a pooled connection or a stream slot
	markHeaders                         // request sent, waiting for the response
	markDialer                          // the transport's dial goroutine
	markSlotWaiter                      // an HTTP/2 stream waiting for a slot on its own goroutine
)

// waitFrames are the frames Waits looks for, checked against Go 1.26's
// net/http (transport.go, h2_bundle.go) and golang.org/x/net/http2. A
// name matches a prefix ending in "(" or "." as a prefix and any other
// exactly.
var waitFrames = []struct {
	name string
	mark waitMark
}{
	{"net/http.(*Client).do", markCall},
	{"net/http.(*Client).Do", markCall},
	{"net/http.send", markCall},
	{"net/http.(*Transport).RoundTrip", markCall},
	{"net/http.(*Transport).roundTrip", markCall},
	{"net/http.(*http2Transport).RoundTrip", markCall},
	{"net/http.(*http2ClientConn).RoundTrip", markCall},
	{"net/http.(*http2ClientConn).roundTrip", markCall | markHeaders},
	{"golang.org/x/net/http2.(*Transport).RoundTrip", markCall},
	{"golang.org/x/net/http2.(*ClientConn).RoundTrip", markCall},
	{"golang.org/x/net/http2.(*ClientConn).roundTrip", markCall | markHeaders},
	{httptopModule + "/tracer.(*Transport).RoundTrip", markCall},
	{httptopModule + "/tracer.(*Tracer).RoundTrip", markCall},

	{"net/http.(*Transport).getConn", markConn},
	{"net/http.(*Transport).queueForIdleConn", markConn},
	{"net/http.(*http2clientConnPool).getClientConn", markConn},
	{"golang.org/x/net/http2.(*clientConnPool).getClientConn", markConn},

	{"net/http.(*persistConn).roundTrip", markHeaders},

	{"net/http.(*Transport).dialConn", markDial},
	{"net/http.(*Transport).dial", markDial},
	{"net/http.(*persistConn).addTLS", markDial},
	{"net.(*Dialer).Dial", markDial},
	{"net.(*Resolver).", markDial},
	{"crypto/tls.(*Conn).Handshake", markDial},
	{"crypto/tls.(*Conn).handshakeContext", markDial},
	{"crypto/tls.(*Conn).HandshakeContext", markDial},
	{"golang.org/x/net/http2.(*Transport).dialClientConn", markDial},
	{"golang.org/x/net/http2.(*Transport).dialTLS", markDial},

	// Response bodies only: a client's HTTP/1 body is a bodyEOFSignal
	// (net/http.(*body) below it is also a server's request body).
	{"net/http.(*bodyEOFSignal).Read", markBody},
	{"net/http.(*bodyEOFSignal).Close", markBody},
	{"net/http.(*gzipReader).Read", markBody},
	{"net/http.(*cancelTimerBody).Read", markBody},
	{"net/http.(*http2transportResponseBody).Read", markBody},
	{"net/http.(*http2transportResponseBody).Close", markBody},
	{"net/http.http2transportResponseBody.Read", markBody},
	{"golang.org/x/net/http2.transportResponseBody.Read", markBody},
	{"golang.org/x/net/http2.transportResponseBody.Close", markBody},
	{httptopModule + "/tracer.(*Body).Read", markBody},
	{httptopModule + "/tracer.(*Body).Close", markBody},

	{"net/http.(*Transport).dialConnFor", markDialer},
	{"net/http.(*http2ClientConn).awaitOpenSlotForStreamLocked", markSlotWaiter},
	{"golang.org/x/net/http2.(*ClientConn).awaitOpenSlotForStreamLocked", markSlotWaiter},
}

// waitMarkOf returns the marks of a function name.
func waitMarkOf(name string) waitMark {
	var m waitMark
	for _, f := range waitFrames {
		if strings.HasSuffix(f.name, "(") || strings.HasSuffix(f.name, ".") {
			if strings.HasPrefix(name, f.name) {
				m |= f.mark
			}
		} else if name == f.name {
			m |= f.mark
		}
	}
	return m
}

// AttributeWaits says where the goroutines of a program's HTTP requests
// spend their time, from a wall-clock profile (fgprof's: every goroutine,
// running or not, at each tick), measured by Sample.Value[sampleIndex] (a
// negative sampleIndex picks the default, see SampleIndex).
//
// It keeps only the goroutines inside an HTTP client call (net/http's
// Client and Transport, HTTP/2's, httptop's probe) and those running the
// program's code that issues them: any goroutine whose stack shares a
// frame of the program's code with a goroutine inside a call. Server
// connections, idle workers and the transport's own read and write loops
// are left out, and so are httptop's own goroutines (see Attribute).
// Each kept sample goes to the first WaitKind its frames
// match, innermost first: dialing (net.Dialer, crypto/tls handshakes,
// net/http's dialConn), waiting for a connection (getConn), waiting for
// response headers (persistConn.roundTrip, HTTP/2's roundTrip), reading
// the body, other client work, and outside the transport.
//
// A request whose new connection is being dialed waits in getConn like
// one waiting for a busy pool, while the dial runs on a goroutine of the
// transport's own. So the time those dial goroutines spend (up to the
// time requests spend in getConn) is moved from waiting for a connection
// to dialing, charged to the same functions. Likewise HTTP/2 streams
// waiting for a free slot on a connection (on a goroutine of their own,
// while the request waits for headers) move that time from waiting for
// headers to waiting for a connection.
func AttributeWaits(p *profile.Profile, sampleIndex int, mods Modules) (*Waits, error) {
	if p == nil {
		return nil, fmt.Errorf("flame: waits: %w", ErrNilProfile)
	}
	idx, err := resolveIndex(p, sampleIndex)
	if err != nil {
		return nil, fmt.Errorf("flame: waits: %w", err)
	}
	w := &Waits{
		SampleType: p.SampleType[idx].Type,
		Unit:       p.SampleType[idx].Unit,
		Seconds:    float64(p.DurationNanos) / 1e9,
	}
	c := newClassifier(p, mods)

	// First pass: classify the samples inside a call, and collect the
	// program's functions on their stacks.
	type kept struct {
		s     *profile.Sample
		kind  WaitKind
		owner int32
	}
	var (
		samples      []kept
		outside      []*profile.Sample // candidates for WaitOutside
		issuers      = map[int32]bool{}
		dialer, slot int64 // time of dial goroutines and HTTP/2 slot waiters
		h2Headers    int64 // time of HTTP/2 requests waiting for headers
		buf          []int32
	)
	for _, s := range p.Sample {
		if s == nil || idx >= len(s.Value) || s.Value[idx] == 0 {
			continue
		}
		v := s.Value[idx]
		w.Total += v
		buf = c.stack(s, buf)
		var marks, first waitMark
		for _, id := range buf {
			m := c.info(id).wait
			if first == 0 {
				first = m &^ markCall
			}
			marks |= m
		}
		sc := c.classifySample(s, buf)
		switch {
		case sc.httptop:
			// httptop's own requests (the httptop command's client in
			// httptop demo, or a capture of its own process).
			continue
		case marks&markDialer != 0 && marks&markCall == 0:
			dialer += v
			continue
		case marks&markSlotWaiter != 0 && marks&markCall == 0:
			slot += v
			continue
		case marks&(markCall|markBody) == 0:
			outside = append(outside, s)
			continue
		}
		k := WaitTransport
		switch {
		case first&markDial != 0:
			k = WaitDial
		case first&markConn != 0:
			k = WaitConn
		case first&markHeaders != 0:
			k = WaitHeaders
			if isH2(c, buf) {
				h2Headers += v
			}
		case first&markBody != 0:
			k = WaitBody
		}
		samples = append(samples, kept{s: s, kind: k, owner: sc.owner})
		for _, id := range buf {
			if c.info(id).kind.code() {
				issuers[id] = true
			}
		}
	}
	// Second pass: goroutines outside any call that run the code of
	// goroutines inside one.
	for _, s := range outside {
		buf = c.stack(s, buf)
		for _, id := range buf {
			if issuers[id] {
				sc := c.classifySample(s, buf)
				samples = append(samples, kept{s: s, kind: WaitOutside, owner: sc.owner})
				break
			}
		}
	}

	// Sum up by bucket and function.
	type key struct {
		kind  WaitKind
		owner int32
	}
	vals := map[key]int64{}
	bucket := map[WaitKind]int64{}
	for _, k := range samples {
		v := k.s.Value[idx]
		vals[key{k.kind, k.owner}] += v
		bucket[k.kind] += v
		w.Requests += v
	}
	// Move the time of dial goroutines from waiting for a connection
	// to dialing, and HTTP/2 slot waits from headers to connection.
	move := func(from, to WaitKind, amount int64) {
		amount = min(amount, bucket[from])
		if amount <= 0 {
			return
		}
		total := bucket[from]
		left := amount
		var keys []key
		for k := range vals {
			if k.kind == from {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b key) int { return cmp.Compare(a.owner, b.owner) })
		for i, k := range keys {
			// amount × vals[k] ÷ total in 128 bits: goroutine time in
			// nanoseconds overflows 64 bits when squared (a merged
			// profile of 30,000 goroutines holds hours of it). The
			// quotient fits when vals[k] <= total, as it is but in a
			// profile with negative values, whose share is then all
			// it has (and min below bounds it).
			v := max(vals[k], 0)
			share := v
			if hi, lo := bits.Mul64(uint64(amount), uint64(v)); hi < uint64(total) {
				q, _ := bits.Div64(hi, lo, uint64(total))
				share = int64(q)
			}
			if i == len(keys)-1 {
				share = left
			}
			share = min(share, vals[k], left)
			vals[k] -= share
			vals[key{to, k.owner}] += share
			left -= share
		}
		bucket[from] -= amount - left
		bucket[to] += amount - left
	}
	move(WaitConn, WaitDial, dialer)
	move(WaitHeaders, WaitConn, min(slot, h2Headers))

	for _, kind := range WaitKinds {
		b := WaitBucket{Kind: kind, Title: kind.Title(), Value: bucket[kind], Pct: percent(bucket[kind], w.Requests), Funcs: []Entry{}}
		if w.Unit == "nanoseconds" && p.DurationNanos > 0 {
			b.Goroutines = float64(b.Value) / float64(p.DurationNanos)
		}
		for k, v := range vals {
			if k.kind != kind || v == 0 {
				continue
			}
			e := Entry{Name: "(no frame of the program's code)", Value: v, Pct: percent(v, b.Value)}
			if k.owner >= 0 {
				e.Name, e.Module = c.st.names[k.owner], c.info(k.owner).module
			}
			b.Funcs = append(b.Funcs, e)
		}
		sortEntries(b.Funcs)
		w.Buckets = append(w.Buckets, b)
	}
	return w, nil
}

// isH2 reports whether a stack is an HTTP/2 request's.
func isH2(c *classifier, stack []int32) bool {
	for _, id := range stack {
		name := c.st.names[id]
		if strings.HasPrefix(name, "net/http.(*http2") || strings.HasPrefix(name, "golang.org/x/net/http2.") {
			return true
		}
	}
	return false
}
