package flame

import (
	"errors"
	"math"
	"testing"

	"github.com/google/pprof/profile"
)

const (
	tracerRT   = "github.com/httptop/httptop/tracer.(*Tracer).RoundTrip"
	tracerConn = "github.com/httptop/httptop/tracer.(*Conn).Read"
	agentServe = "github.com/httptop/httptop/probe/agent.(*handler).ServeHTTP"
	sdkSign    = "github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP"
)

var testModules = Modules{Main: "example.com/app", Deps: []string{"github.com/aws/aws-sdk-go-v2"}}

// clientProfile is a CPU profile of a client that signs requests (its own
// function and an SDK's), decodes JSON, reads from the network, with GC,
// a connection's read loop, httptop's agent and httptop's probe. Values
// are in milliseconds of CPU; the total is 1000.
func clientProfile() *profile.Profile {
	const ms = 1e6
	p := newProfile(cpuTypes, []fstack{
		// 200: the program's own signing function, in crypto.
		st([]string{"runtime.goexit", "main.worker", "main.sign", "crypto/hmac.(*hmac).Write", "crypto/sha256.block"}, 20, 200*ms),
		// 150: an SDK's signer, calling back into nothing of the program.
		st([]string{"runtime.goexit", "main.worker", sdkSign, "crypto/sha256.block"}, 15, 150*ms),
		// 50: the SDK's signer allocating.
		st([]string{"runtime.goexit", "main.worker", sdkSign, "runtime.mallocgc", "runtime.memclrNoHeapPointers"}, 5, 50*ms),
		// 130: JSON decoding in the program's decode.
		st([]string{"runtime.goexit", "main.worker", "main.decode", "encoding/json.(*decodeState).object", "strconv.ParseFloat"}, 13, 130*ms),
		// 70: decode reading the body through httptop's conn wrapper:
		// the program's (httptop only passes it on).
		st([]string{"runtime.goexit", "main.worker", "main.decode", "net/http.(*body).Read", "bufio.(*Reader).Read", "net/http.(*persistConn).Read", tracerConn, "net.(*conn).Read", "internal/poll.(*FD).Read", "syscall.read", "internal/runtime/syscall/linux.Syscall6"}, 7, 70*ms),
		// 100: a round trip through httptop's probe into net/http:
		// the program's.
		st([]string{"runtime.goexit", "main.worker", "net/http.(*Client).do", tracerRT, "net/http.(*Transport).roundTrip", "net/http.(*Transport).getConn", "runtime.selectgo"}, 10, 100*ms),
		// 20: httptop's probe doing its own bookkeeping.
		st([]string{"runtime.goexit", "main.worker", "net/http.(*Client).do", tracerRT, "runtime.mallocgc"}, 2, 20*ms),
		// 120: a connection's read loop: no frame of the program.
		st([]string{"runtime.goexit", "net/http.(*persistConn).readLoop", "bufio.(*Reader).Peek", "runtime.memmove"}, 4, 40*ms),
		st([]string{"runtime.goexit", "net/http.(*persistConn).readLoop", "bufio.(*Reader).Peek", "net.(*conn).Read", "internal/runtime/syscall/linux.Syscall6"}, 8, 80*ms),
		// 90: GC.
		st([]string{"runtime.gcBgMarkWorker", "runtime.gcDrain", "runtime.scanobject"}, 9, 90*ms),
		// 30: httptop's agent.
		st([]string{"runtime.goexit", "net/http.(*conn).serve", agentServe, "encoding/json.Marshal"}, 3, 30*ms),
		// 20: a server in the same process.
		st([]string{"runtime.goexit", "net/http.(*conn).serve", "net/http.(*response).finishRequest", "bufio.(*Writer).Flush"}, 2, 20*ms),
		// 20: httptop's agent, known by its label alone.
		st([]string{"runtime.goexit", "github.com/shirou/gopsutil/v4/net.ConnectionsPid", "os.ReadFile", "syscall.read"}, 2, 20*ms),
	})
	// Label the last sample as the agent's and give the gopsutil frame
	// a name outside httptop's list, so that only the label tells.
	last := p.Sample[len(p.Sample)-1]
	last.Label = map[string][]string{LabelKey: {"agent"}}
	for _, f := range p.Function {
		if f.Name == "github.com/shirou/gopsutil/v4/net.ConnectionsPid" {
			f.Name, f.SystemName = "os.ReadDir", "os.ReadDir"
		}
	}
	return p
}

func entry(es []Entry, name string) *Entry {
	for i := range es {
		if es[i].Name == name {
			return &es[i]
		}
	}
	return nil
}

func TestAttribute(t *testing.T) {
	a, err := Attribute(clientProfile(), -1, testModules)
	if err != nil {
		t.Fatal(err)
	}
	const ms = 1e6
	if a.Total != 1000*ms || a.SampleType != "cpu" || a.Unit != "nanoseconds" {
		t.Fatalf("total %d %s %s, want 1000 ms of cpu nanoseconds", a.Total, a.SampleType, a.Unit)
	}
	// httptop: its probe's bookkeeping (20), its agent by frame (30) and
	// by label (20).
	if a.Httptop != 70*ms || math.Abs(a.HttptopPct-7) > 1e-9 {
		t.Errorf("httptop = %d (%.2f%%), want 70 ms (7%%)", a.Httptop, a.HttptopPct)
	}

	code := map[string]int64{
		"main.sign":                200 * ms,
		sdkSign:                    200 * ms,
		"main.decode":              200 * ms,
		"main.worker":              100 * ms,
		CategorySyscall.Title():    80 * ms, // the read loop's syscall
		CategoryGC.Title():         90 * ms,
		CategoryHTTPClient.Title(): 40 * ms, // the read loop's memmove under net/http
		CategoryHTTPServer.Title(): 20 * ms,
	}
	var sum int64
	for _, e := range a.Code {
		sum += e.Value
		want, ok := code[e.Name]
		if !ok {
			t.Errorf("code view has unexpected entry %q (%d)", e.Name, e.Value)
			continue
		}
		if e.Value != want {
			t.Errorf("code view: %s = %d, want %d", e.Name, e.Value, want)
		}
	}
	if len(a.Code) != len(code) {
		t.Errorf("code view has %d entries, want %d: %+v", len(a.Code), len(code), a.Code)
	}
	if sum+a.Httptop != a.Total {
		t.Errorf("code view sums to %d + httptop %d, want the total %d", sum, a.Httptop, a.Total)
	}
	if e := entry(a.Code, sdkSign); e == nil || e.Module != "github.com/aws/aws-sdk-go-v2" || e.Category != "" {
		t.Errorf("the SDK's signer entry = %+v, want module github.com/aws/aws-sdk-go-v2", e)
	}
	if e := entry(a.Code, "main.worker"); e == nil || e.Cum != 700*ms {
		t.Errorf("main.worker cum = %+v, want 700 ms (every sample of its goroutines but httptop's 20)", e)
	}
	if e := entry(a.Code, CategoryGC.Title()); e == nil || e.Category != CategoryGC {
		t.Errorf("GC entry = %+v, want a category entry", e)
	}
	if a.Code[0].Value < a.Code[len(a.Code)-1].Value {
		t.Error("code view is not sorted largest first")
	}

	// Packages: each once per sample, httptop's samples left out.
	pkgs := map[string]int64{
		"crypto/sha256": 350 * ms,
		"github.com/aws/aws-sdk-go-v2/aws/signer/v4": 200 * ms,
		"net/http":      310 * ms, // body read 70, round trip 100, read loop 120, server 20
		"runtime":       930 * ms, // every sample but httptop's
		"encoding/json": 130 * ms,
	}
	for name, want := range pkgs {
		e := entry(a.Packages, name)
		if e == nil {
			t.Errorf("packages view has no %s", name)
			continue
		}
		if e.Value != want {
			t.Errorf("packages view: %s = %d, want %d", name, e.Value, want)
		}
	}
	if e := entry(a.Packages, "github.com/aws/aws-sdk-go-v2/aws/signer/v4"); e == nil || e.Module != "github.com/aws/aws-sdk-go-v2" {
		t.Errorf("signer package entry = %+v, want its module", e)
	}
	if e := entry(a.Packages, "github.com/httptop/httptop/tracer"); e == nil || e.Value != 170*ms {
		t.Errorf("tracer package = %+v, want 170 ms (the requests it passed on, not its own 20)", e)
	}
	if e := entry(a.Packages, "github.com/httptop/httptop/probe/agent"); e != nil {
		t.Errorf("packages view lists httptop's agent: %+v", e)
	}

	// Categories: every sample once, httptop's included.
	cats := map[Category]int64{
		CategoryCrypto:     350 * ms,
		CategoryGC:         140 * ms, // the SDK's allocation and the GC worker
		CategoryEncoding:   130 * ms, // strconv under encoding/json
		CategorySyscall:    150 * ms,
		CategoryScheduler:  100 * ms, // selectgo in getConn
		CategoryHTTPClient: 40 * ms,
		CategoryHTTPServer: 20 * ms,
		CategoryHttptop:    70 * ms,
	}
	sum = 0
	for _, e := range a.Categories {
		sum += e.Value
		if want := cats[e.Category]; e.Value != want {
			t.Errorf("categories: %s = %d, want %d", e.Category, e.Value, want)
		}
	}
	if sum != a.Total {
		t.Errorf("categories sum to %d, want the total %d", sum, a.Total)
	}
	if len(a.Flat) == 0 || a.Flat[0].Name != "crypto/sha256.block" {
		t.Errorf("flat view starts with %+v, want crypto/sha256.block", a.Flat)
	}
}

// TestAttributeCodeMatchesCum checks that a function of the program that
// calls only the standard library is charged exactly its cumulative value.
func TestAttributeCodeMatchesCum(t *testing.T) {
	p := clientProfile()
	a, err := Attribute(p, -1, testModules)
	if err != nil {
		t.Fatal(err)
	}
	top := Top(p, -1, 0)
	for _, name := range []string{"main.sign", "main.decode", sdkSign} {
		e := entry(a.Code, name)
		var cum int64
		for _, f := range top {
			if f.Name == name {
				cum = f.Cum
			}
		}
		if e == nil || e.Value != cum || e.Cum != cum {
			t.Errorf("%s: code view %+v, pprof cum %d", name, e, cum)
		}
	}
}

func TestAttributeErrors(t *testing.T) {
	if _, err := Attribute(nil, -1, Modules{}); !errors.Is(err, ErrNilProfile) {
		t.Errorf("Attribute(nil) = %v, want ErrNilProfile", err)
	}
	if _, err := Attribute(clientProfile(), 5, Modules{}); !errors.Is(err, ErrNoSampleType) {
		t.Errorf("Attribute(index 5) = %v, want ErrNoSampleType", err)
	}
	a, err := Attribute(newProfile(cpuTypes, nil), -1, Modules{})
	if err != nil || a.Total != 0 || len(a.Code) != 0 || a.HttptopPct != 0 {
		t.Errorf("empty profile: %+v, %v", a, err)
	}
}

func TestAttributionTrim(t *testing.T) {
	a, err := Attribute(clientProfile(), -1, testModules)
	if err != nil {
		t.Fatal(err)
	}
	tr := a.Trim(3)
	if len(tr.Code) != 3 || len(tr.Packages) != 3 || len(tr.Categories) != 3 || len(tr.Flat) != 3 {
		t.Errorf("Trim(3) lengths %d %d %d %d", len(tr.Code), len(tr.Packages), len(tr.Categories), len(tr.Flat))
	}
	tr.Code[0].Name = "changed"
	if a.Code[0].Name == "changed" {
		t.Error("Trim shares its entries with the original")
	}
	if all := a.Trim(0); len(all.Code) != len(a.Code) {
		t.Error("Trim(0) dropped entries")
	}
}
