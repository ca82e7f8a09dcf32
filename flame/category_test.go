package flame

import (
	"testing"
)

// TestCategoryRules checks the table on the frames real profiles show
// (Go 1.26 names), and that frames of generic packages take none.
func TestCategoryRules(t *testing.T) {
	tests := []struct {
		name string
		want Category
	}{
		{"runtime.mallocgc", CategoryGC},
		{"runtime.mallocgcSmallScanNoHeader", CategoryGC},
		{"runtime.gcBgMarkWorker", CategoryGC},
		{"runtime.gcDrain", CategoryGC},
		{"runtime.scanobject", CategoryGC},
		{"runtime.(*mspan).heapBitsSmallForAddr", CategoryGC},
		{"runtime.(*mheap).alloc", CategoryGC},
		{"runtime.bgsweep", CategoryGC},
		{"runtime.growslice", CategoryGC},
		{"runtime.madvise", CategoryGC},
		{"runtime.schedule", CategoryScheduler},
		{"runtime.findRunnable", CategoryScheduler},
		{"runtime.futex", CategoryScheduler},
		{"runtime.lock2", CategoryScheduler},
		{"runtime.selectgo", CategoryScheduler},
		{"runtime.chanrecv1", CategoryScheduler},
		{"sync.(*Mutex).Lock", CategoryScheduler},
		{"internal/sync.(*Mutex).lockSlow", CategoryScheduler},
		{"runtime.morestack", CategoryScheduler},
		{"time.Sleep", CategoryScheduler},
		{"syscall.Syscall6", CategorySyscall},
		{"internal/runtime/syscall/linux.Syscall6", CategorySyscall},
		{"internal/poll.(*FD).Read", CategorySyscall},
		{"net.(*conn).Read", CategorySyscall},
		{"runtime.netpoll", CategorySyscall},
		{"golang.org/x/sys/unix.Syscall", CategorySyscall},
		{"os.(*File).Write", CategorySyscall},
		{"crypto/sha256.block", CategoryCrypto},
		{"crypto/tls.(*Conn).Read", CategoryCrypto},
		{"crypto/internal/fips140/aes/gcm.gcmAesDec", CategoryCrypto},
		{"vendor/golang.org/x/crypto/chacha20poly1305.(*chacha20poly1305).open", CategoryCrypto},
		{"encoding/json.(*decodeState).object", CategoryEncoding},
		{"compress/flate.(*decompressor).huffmanBlock", CategoryEncoding},
		{"google.golang.org/protobuf/internal/impl.(*MessageInfo).unmarshalPointer", CategoryEncoding},
		{"github.com/aws/smithy-go/encoding/json.(*Encoder).Bytes", CategoryEncoding},
		{"net/http.(*persistConn).readLoop", CategoryHTTPClient},
		{"net/http.(*http2ClientConn).roundTrip", CategoryHTTPClient},
		{"net/textproto.(*Reader).ReadMIMEHeader", CategoryHTTPClient},
		{"golang.org/x/net/http2.(*ClientConn).roundTrip", CategoryHTTPClient},
		{"vendor/golang.org/x/net/http2/hpack.(*Decoder).Write", CategoryHTTPClient},
		// Generic work: the caller's category.
		{"runtime.memmove", ""},
		{"runtime.mapaccess2_faststr", ""},
		{"reflect.Value.Field", ""},
		{"strconv.ParseFloat", ""},
		{"bufio.(*Reader).Read", ""},
		{"bytes.(*Buffer).Write", ""},
		{"fmt.Sprintf", ""},
		{"runtime.goexit", ""},
		{"main.sign", ""},
		{"github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", ""},
	}
	for _, tt := range tests {
		if got := ruleCategory(tt.name); got != tt.want {
			t.Errorf("ruleCategory(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCategoriesHaveTitles checks every category is named for people and
// that the table uses only known categories.
func TestCategoriesHaveTitles(t *testing.T) {
	known := map[Category]bool{}
	for _, c := range Categories {
		if c.Title() == string(c) {
			t.Errorf("category %q has no title", c)
		}
		known[c] = true
	}
	for _, r := range categoryRules {
		if !known[r.cat] {
			t.Errorf("rule %q has unknown category %q", r.prefix, r.cat)
		}
	}
}

func TestClassify(t *testing.T) {
	c := &classifier{mods: newModuleIndex(Modules{Main: "example.com/app", Deps: []string{"github.com/aws/aws-sdk-go-v2"}})}
	tests := []struct {
		name     string
		kind     frameKind
		module   string
		cat      Category
		delegate bool
	}{
		{"example.com/app/sign.HMAC", kindOwn, "example.com/app", CategoryCode, false},
		{"main.worker.func1", kindOwn, "example.com/app", CategoryCode, false},
		{"github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", kindLib, "github.com/aws/aws-sdk-go-v2", CategoryCode, false},
		{"github.com/unknown/lib.F", kindLib, "github.com/unknown/lib", CategoryCode, false},
		{"golang.org/x/net/http2.(*ClientConn).roundTrip", kindLib, "golang.org/x/net", CategoryHTTPClient, true},
		{"net/http.(*Transport).roundTrip", kindStd, "", CategoryHTTPClient, true},
		{"runtime.memmove", kindStd, "", "", false},
		{"0x1234", kindUnknown, "", "", false},
		{"github.com/httptop/httptop/probe/agent.(*handler).ServeHTTP", kindAgent, "", "", false},
		{"github.com/httptop/httptop/flame.Top", kindAgent, "", "", false},
		{"github.com/httptop/httptop/internal/dashboard.(*ui).run", kindAgent, "", "", false},
		{"github.com/felixge/fgprof.Start.func1", kindAgent, "", "", false},
		{"github.com/httptop/httptop/tracer.(*Conn).Read", kindProbe, "", "", false},
		{"github.com/httptop/httptop/probe.(*Collector).Snapshot", kindProbe, "", "", false},
		{"github.com/httptop/httptop/fixtures.SignRequest", kindLib, httptopModule, CategoryCode, false},
	}
	for _, tt := range tests {
		got := c.classify(tt.name)
		if got.kind != tt.kind || got.module != tt.module || got.cat != tt.cat || got.delegate != tt.delegate {
			t.Errorf("classify(%q) = kind %d module %q cat %q delegate %v; want %d %q %q %v",
				tt.name, got.kind, got.module, got.cat, got.delegate, tt.kind, tt.module, tt.cat, tt.delegate)
		}
	}
	// In httptop's own module (its tests, httptop demo), the fixtures
	// and the demo stand for the program's own code.
	self := &classifier{mods: newModuleIndex(Modules{Main: httptopModule})}
	if got := self.classify("github.com/httptop/httptop/fixtures.DecodeJSON"); got.kind != kindOwn {
		t.Errorf("fixtures in httptop's own module: kind %d, want own code", got.kind)
	}
	if got := self.classify("github.com/httptop/httptop/internal/demo.(*Demo).run.func1"); got.kind != kindOwn {
		t.Errorf("the demo in httptop's own module: kind %d, want own code", got.kind)
	}
}
