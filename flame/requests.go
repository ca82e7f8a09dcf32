package flame

import (
	"fmt"

	"github.com/google/pprof/profile"
)

// clientConnFrames are functions that run only on the goroutines an HTTP
// client's transport keeps per connection (reading responses, writing
// requests) or starts to dial one: their CPU is the cost of the program's
// requests, though no frame of the program is on their stacks.
var clientConnFrames = []string{
	"net/http.(*persistConn).readLoop",
	"net/http.(*persistConn).writeLoop",
	"net/http.(*Transport).dialConnFor",
	"net/http.(*http2ClientConn).readLoop",
	"net/http.(*http2clientConnReadLoop).run",
	"golang.org/x/net/http2.(*ClientConn).readLoop",
	"golang.org/x/net/http2.(*clientConnReadLoop).run",
}

// RequestCPU is the part of a CPU profile that the program's HTTP
// requests cost, by AttributeRequests: with the process's requests
// counted over the same time, what CPU a request costs and where it goes
// ("x ms of CPU per request, of which y% is request signing").
type RequestCPU struct {
	// SampleType and Unit describe the values ("cpu", "nanoseconds").
	SampleType string `json:"sample_type"`
	Unit       string `json:"unit"`
	// Total is the value of every sample, and Httptop that of httptop's
	// own work (see Attribute), which Requests leaves out.
	Total   int64 `json:"total"`
	Httptop int64 `json:"httptop"`
	// Requests is the value of the samples of the program's requests:
	// on goroutines inside an HTTP client call (net/http's Client and
	// Transport, HTTP/2's, reading a response body), on goroutines
	// running the program's code that issues them (any goroutine whose
	// stack shares a frame of the program's code with one inside a
	// call: building, signing, encoding requests, decoding responses),
	// and on the transport's own goroutines of client connections
	// (reading responses, writing requests, dialing). The garbage
	// collector's workers, HTTP servers, and the program's other work
	// are not in it.
	Requests int64 `json:"requests"`
	// Code charges the request samples to the program's code as
	// Attribution.Code does (categories in brackets for samples with no
	// frame of it), and Categories sorts them by kind of work; Pct is a
	// share of Requests, largest first.
	Code       []Entry `json:"code"`
	Categories []Entry `json:"categories"`
}

// AttributeRequests returns the part of CPU profile p that the program's
// HTTP requests cost (see RequestCPU), measured by
// Sample.Value[sampleIndex] (a negative sampleIndex picks the default,
// see SampleIndex). mods is the program's module list.
func AttributeRequests(p *profile.Profile, sampleIndex int, mods Modules) (*RequestCPU, error) {
	if p == nil {
		return nil, fmt.Errorf("flame: requests: %w", ErrNilProfile)
	}
	idx, err := resolveIndex(p, sampleIndex)
	if err != nil {
		return nil, fmt.Errorf("flame: requests: %w", err)
	}
	r := &RequestCPU{SampleType: p.SampleType[idx].Type, Unit: p.SampleType[idx].Unit}
	c := newClassifier(p, mods)

	type kept struct {
		v     int64
		owner int32
		cat   Category
	}
	var (
		keep    []kept
		outside []*profile.Sample // samples that may run the issuing code
		issuers = map[int32]bool{}
		buf     []int32
	)
	// First pass: samples inside a call or on a connection's goroutines,
	// and the program's functions on the stacks of those inside a call.
	for _, s := range p.Sample {
		if s == nil || idx >= len(s.Value) || s.Value[idx] == 0 {
			continue
		}
		v := s.Value[idx]
		r.Total += v
		buf = c.stack(s, buf)
		sc := c.classifySample(s, buf)
		if sc.httptop {
			r.Httptop += v
			continue
		}
		var marks waitMark
		loop, server := false, false
		for _, id := range buf {
			fi := c.info(id)
			marks |= fi.wait
			loop = loop || fi.connLoop
			server = server || fi.server
		}
		switch {
		case server:
			continue
		case marks&(markCall|markBody) != 0:
			for _, id := range buf {
				if c.info(id).kind.code() {
					issuers[id] = true
				}
			}
		case loop:
		default:
			outside = append(outside, s)
			continue
		}
		keep = append(keep, kept{v: v, owner: sc.owner, cat: sc.cat})
	}
	// Second pass: the program's code that issues the requests.
	for _, s := range outside {
		buf = c.stack(s, buf)
		for _, id := range buf {
			if issuers[id] {
				sc := c.classifySample(s, buf)
				keep = append(keep, kept{v: s.Value[idx], owner: sc.owner, cat: sc.cat})
				break
			}
		}
	}

	byOwner := map[int32]int64{}
	ownerless := map[Category]int64{}
	byCat := map[Category]int64{}
	for _, k := range keep {
		r.Requests += k.v
		byCat[k.cat] += k.v
		if k.owner >= 0 {
			byOwner[k.owner] += k.v
		} else {
			ownerless[k.cat] += k.v
		}
	}
	for id, v := range byOwner {
		r.Code = append(r.Code, Entry{Name: c.st.names[id], Module: c.info(id).module, Value: v, Pct: percent(v, r.Requests)})
	}
	for cat, v := range ownerless {
		r.Code = append(r.Code, categoryEntry(cat, v, r.Requests))
	}
	sortEntries(r.Code)
	for cat, v := range byCat {
		r.Categories = append(r.Categories, categoryEntry(cat, v, r.Requests))
	}
	sortEntries(r.Categories)
	return r, nil
}

// Share returns the share (a percentage of Requests) of the entry of
// Code named name, or of the category cat when name is empty; 0 when
// there is none.
func (r *RequestCPU) Share(name string, cat Category) float64 {
	if r == nil {
		return 0
	}
	es := r.Code
	if name == "" {
		es = r.Categories
	}
	for _, e := range es {
		if (name != "" && e.Name == name) || (name == "" && e.Category == cat) {
			return e.Pct
		}
	}
	return 0
}
