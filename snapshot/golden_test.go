package snapshot_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/golden"
	"github.com/httptop/httptop/snapshot"
)

// full is a snapshot with every field set, so that its JSON names every
// field of format v1: renaming, removing or retyping a field changes the
// golden file, and adding one fails TestFullSetsEveryField until it is
// set here too (and the golden file shows the new name).
func full() snapshot.Snapshot {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	pct := func(n int64, base float64) snapshot.Percentiles {
		return snapshot.Percentiles{Count: n, P50: base, P95: base * 2, P99: base * 3, Max: base * 4}
	}
	return snapshot.Snapshot{
		Version: snapshot.Version, Time: at, PID: 4242, Program: "checkout",
		Process: &snapshot.Process{
			CPUPercent: 151.5, RSSBytes: 64 << 20, Goroutines: 120, Threads: 14, FDs: 57, UptimeSeconds: 3600,
			GCCPUPercent: 8.5, SchedLatencyP99Ms: 1.2, MutexWaitPerSecond: 0.05, RunnableGoroutines: 3,
			GOMAXPROCS: 2, CPULimitCores: 1.5, Cores: 1.5, CPUWindowSeconds: 10, WindowCPUPercent: 148.2, WindowGCCPUPercent: 7.5, WindowSchedLatencyP99Ms: 2.1,
			MachineCPUs: 4, OthersCores: 0.6,
			RequestsPerSecond: 700, CPUPerRequestMs: 2.117, CeilingRPS: 708.5,
			TCP: snapshot.TCP{Established: 40, SynSent: 1, TimeWait: 700, CloseWait: 2, FinWait: 3, Listen: 1, Other: 4, AgeSeconds: 2.5},
		},
		Hosts: []snapshot.Host{{
			Client: "payments", Scheme: "https", Host: "api.example.com:443",
			Open: 5, Active: 4, Idle: 0, Handshaking: 1, Waiting: 28, Dialing: 1, InFlight: 32,
			DialOnly: true, DialOnlyConns: 1, RequestsStarted: 10032, StartsPerSecond: 77.6,
			Requests: 10000, Errors: 12, NewConns: 40, ReusedConns: 9960, ClosedConns: 36, Status5xx: 3,
			RPS: 77.5, ErrorsPerSecond: 0.1, NewConnsPerSecond: 0.2, ReusedFraction: 0.996, RateWindowSeconds: 10,
			Latency: pct(770, 400), ConnWait: pct(760, 350), Dial: pct(4, 1.5), WindowSeconds: 7.5,
			PeakInFlight: 32, AvgWaiting: 27.6, LeakedBodies: 2, UndrainedBodies: 5,
			MemBytes: 4 * 66900, TLSMemBytes: 4 * 46000,
			TLSFullHandshakes: 4, TLSResumedHandshakes: 36, TLSHandshake: pct(40, 9),
			MaxConnsPerHost: 4, MaxIdleConnsPerHost: 2, LimitsKnown: true,
			ErrorClasses: map[string]int64{"timeout": 10, "reset": 2},
			Series: []snapshot.Point{{Time: at.Unix() - 1, Requests: 77, Errors: 1, NewConns: 1, ReusedConns: 76,
				LatencyAvgMs: 410, LatencyMaxMs: 460, HoldAvgMs: 52, AvgWaiting: 27.5, AvgInFlight: 31.6, Started: 78}},
		}},
		Conns: []snapshot.Conn{{
			ID: 7, Client: "payments", Host: "api.example.com:443", Proto: "h2", State: snapshot.ConnActive,
			AgeSeconds: 120, IdleSeconds: 0.5, Requests: 2500, Streams: 3, MaxStreams: 8, BytesIn: 1 << 20, BytesOut: 1 << 18,
			DialMs: 1.2, LocalAddr: "127.0.0.1:50000", RemoteAddr: "127.0.0.1:443", Inferred: true, DialOnly: true,
			MemBytes: 86800, MemEstimated: true,
			TLS: &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "h2", Resumed: true,
				ServerName: "api.example.com", HandshakeMs: 9.5, PeerCerts: 2, PeerCertBytes: 1800,
				LeafNotAfter: at.AddDate(0, 3, 0), MemBytes: 46000},
		}},
		Diagnoses: []snapshot.Diagnosis{{
			Kind: snapshot.KindPoolSaturated, Client: "payments", Host: "api.example.com:443",
			Severity: snapshot.SeverityCritical, Summary: "28 requests wait for a connection", Advice: "Raise Transport.MaxConnsPerHost",
			Evidence: map[string]float64{"waiting": 28},
			Sites:    []snapshot.Site{{Function: "main.fetch", File: "/src/main.go", Line: 42, Count: 2}},
		}},
		ProbeErrors: 1, LastProbeError: "runtime error",
		// As in a stream of connection changes.
		ConnChanges: true, ConnIDs: []uint64{7, 42},
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// TestSnapshotV1Golden pins the JSON of snapshot v1: the golden file is
// the contract the agent and every reader share.
func TestSnapshotV1Golden(t *testing.T) {
	golden.Check(t, "testdata/snapshot_v1.json", encode(t, full()))
}

// TestSnapshotRoundTrip decodes the golden JSON and encodes it again:
// every field survives, with the same name and value.
func TestSnapshotRoundTrip(t *testing.T) {
	first := encode(t, full())
	var back snapshot.Snapshot
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if second := encode(t, back); !bytes.Equal(first, second) {
		t.Errorf("encode → decode → encode changed the JSON:\n%s", golden.Diff(string(first), string(second)))
	}
	if want := full(); !reflect.DeepEqual(back, want) {
		t.Errorf("decoded snapshot differs from the one encoded:\n got %+v\nwant %+v", back, want)
	}
}

// TestFullSetsEveryField fails when a field of the schema is left at its
// zero value in full(), which would leave it out of the golden file.
func TestFullSetsEveryField(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				t.Errorf("%s is nil", path)
				return
			}
			check(path, v.Elem())
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("%s is empty", path)
				return
			}
			check(path+"[0]", v.Index(0))
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				if v.Interface().(time.Time).IsZero() {
					t.Errorf("%s is zero", path)
				}
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.IsExported() {
					check(path+"."+f.Name, v.Field(i))
				}
			}
		default:
			// Idle is 0 in a saturated pool, and that is a fine value
			// for the golden file: the field is still written.
			if v.IsZero() && !strings.HasSuffix(path, ".Idle") {
				t.Errorf("%s is zero", path)
			}
		}
	}
	check("Snapshot", reflect.ValueOf(full()))
	check("AgentInfo", reflect.ValueOf(fullInfo()))
	check("AgentError", reflect.ValueOf(snapshot.AgentError{Code: snapshot.ErrCodeBusy, Message: "busy"}))
}

// fullInfo is an info reply with every field set.
func fullInfo() snapshot.AgentInfo {
	return snapshot.AgentInfo{
		Agent: snapshot.AgentName, Protocol: snapshot.ProtocolVersion, SnapshotVersion: snapshot.Version,
		Version: "v0.3.0", GoVersion: "go1.26.8", PID: 4242, Program: "checkout",
		MainModule: "example.com/checkout", Modules: []string{"github.com/httptop/httptop", "golang.org/x/net"},
		Started: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
		Limits: snapshot.AgentLimits{MinIntervalMs: 100, MaxIntervalMs: 60000, MaxProfileSeconds: 60, MaxStreams: 8,
			ProfileKinds: snapshot.ProfileKinds, OneProfileAtATime: true, ProfileEnd: true},
	}
}

// TestAgentInfoGolden pins the JSON of the info reply and of an error
// reply, the protocol's other contracts.
func TestAgentInfoGolden(t *testing.T) {
	got := encode(t, fullInfo())
	got = append(got, encode(t, snapshot.AgentError{Code: snapshot.ErrCodeBusy, Message: "this agent is already taking a cpu profile"})...)
	golden.Check(t, "testdata/protocol_v1.json", got)
}
