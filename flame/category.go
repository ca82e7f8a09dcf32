package flame

import "strings"

// Category is a kind of work a profile sample is doing, in the terms of an
// HTTP client's owner rather than of the runtime: GC and allocation,
// syscalls, TLS, JSON, the HTTP client, httptop itself, their own code.
type Category string

// The categories, in the order views list them when their shares tie.
const (
	// CategoryCode is the program's own code and the third-party
	// modules it uses that fit no category below (an SDK's request
	// signing, the program's retry logic).
	CategoryCode Category = "code"
	// CategoryGC is garbage collection and memory allocation:
	// runtime.mallocgc and its callees, the background mark workers,
	// sweeping, scavenging, write barriers.
	CategoryGC Category = "gc"
	// CategoryScheduler is the Go scheduler and synchronisation:
	// finding work for idle threads, parking and waking goroutines,
	// channels, select, mutexes, timers, stack growth, the runtime's
	// own locks and futexes.
	CategoryScheduler Category = "scheduler"
	// CategorySyscall is system calls and network I/O: package syscall
	// and x/sys/unix, internal/poll, the network poller, package net,
	// file I/O through package os.
	CategorySyscall Category = "syscall"
	// CategoryCrypto is TLS and cryptography: crypto/... (crypto/tls
	// included) and x/crypto.
	CategoryCrypto Category = "crypto"
	// CategoryEncoding is encoding and compression: encoding/... (JSON,
	// base64, ...), compress/..., protobuf, and the well-known
	// third-party JSON, YAML, msgpack and compression libraries.
	CategoryEncoding Category = "encoding"
	// CategoryHTTPClient is the HTTP client: net/http (bundled HTTP/2
	// included), x/net/http2, net/textproto, net/url.
	CategoryHTTPClient Category = "http_client"
	// CategoryHTTPServer is net/http's server side, when the sample runs
	// under a server connection's goroutine (the program, or a test,
	// serving HTTP in the same process).
	CategoryHTTPServer Category = "http_server"
	// CategoryHttptop is httptop's own work in the program: its agent
	// (snapshots, process and TCP sampling, serving profiles), the
	// dashboard of httptop demo, and the probe's per-request bookkeeping.
	CategoryHttptop Category = "httptop"
	// CategoryOther is the rest: standard library or runtime work with
	// nothing above it that fits a category.
	CategoryOther Category = "other"
)

// Categories lists every category.
var Categories = []Category{
	CategoryCode, CategoryGC, CategoryScheduler, CategorySyscall, CategoryCrypto,
	CategoryEncoding, CategoryHTTPClient, CategoryHTTPServer, CategoryHttptop, CategoryOther,
}

// Title is the category's name for people.
func (c Category) Title() string {
	switch c {
	case CategoryCode:
		return "your code"
	case CategoryGC:
		return "GC & allocation"
	case CategoryScheduler:
		return "scheduler & sync"
	case CategorySyscall:
		return "syscalls & network I/O"
	case CategoryCrypto:
		return "TLS & crypto"
	case CategoryEncoding:
		return "encoding (JSON, protobuf, compression)"
	case CategoryHTTPClient:
		return "HTTP client (net/http, x/net/http2)"
	case CategoryHTTPServer:
		return "HTTP server (net/http)"
	case CategoryHttptop:
		return "httptop itself"
	case CategoryOther:
		return "other (runtime, standard library)"
	}
	return string(c)
}

// categoryRule gives the functions whose name starts with prefix a
// category.
type categoryRule struct {
	prefix string
	cat    Category
}

// categoryRules is the table that gives frames their category, matched
// against the function's full name (package path included); the longest
// matching prefix wins. A sample's category is that of its innermost frame
// with one (see Attribute): frames matching no rule, such as
// runtime.memmove, reflect, strconv, bufio, bytes, strings, sort or fmt,
// do generic work for their caller and take their caller's category. The
// program's code and third-party modules that match no rule are
// CategoryCode; httptop's own frames are handled before this table.
var categoryRules = []categoryRule{
	// GC and allocation.
	{"runtime.gc", CategoryGC},
	{"runtime.(*gc", CategoryGC},
	{"runtime.markroot", CategoryGC},
	{"runtime.markBits", CategoryGC},
	{"runtime.scanobject", CategoryGC},
	{"runtime.scanblock", CategoryGC},
	{"runtime.scanstack", CategoryGC},
	{"runtime.scanframeworker", CategoryGC},
	{"runtime.scanSpan", CategoryGC},
	{"runtime.scanConservative", CategoryGC},
	{"runtime.greyobject", CategoryGC},
	{"runtime.shade", CategoryGC},
	{"runtime.findObject", CategoryGC},
	{"runtime.spanOf", CategoryGC},
	{"runtime.tryDeferToSpanScan", CategoryGC},
	{"runtime.typePointers", CategoryGC},
	{"runtime.(*typePointers)", CategoryGC},
	{"runtime.heapSetType", CategoryGC},
	{"runtime.heapBits", CategoryGC},
	{"runtime.(*mspan)", CategoryGC},
	{"runtime.(*mheap)", CategoryGC},
	{"runtime.(*mcache)", CategoryGC},
	{"runtime.(*mcentral)", CategoryGC},
	{"runtime.(*pageAlloc)", CategoryGC},
	{"runtime.(*pageCache)", CategoryGC},
	{"runtime.(*scavenger", CategoryGC},
	{"runtime.(*sweep", CategoryGC},
	{"runtime.(*spanSet)", CategoryGC},
	{"runtime.(*spanQueue)", CategoryGC},
	{"runtime.(*spanSPMC)", CategoryGC},
	{"runtime.(*fixalloc)", CategoryGC},
	{"runtime.(*mSpanList)", CategoryGC},
	{"runtime.(*wbBuf)", CategoryGC},
	{"runtime.wbBuf", CategoryGC},
	{"runtime.bulkBarrier", CategoryGC},
	{"runtime.sweepone", CategoryGC},
	{"runtime.bgsweep", CategoryGC},
	{"runtime.bgscavenge", CategoryGC},
	{"runtime.mallocgc", CategoryGC},
	{"runtime.malloc", CategoryGC},
	{"runtime.nextFreeFast", CategoryGC},
	{"runtime.newobject", CategoryGC},
	{"runtime.newarray", CategoryGC},
	{"runtime.makeslice", CategoryGC},
	{"runtime.growslice", CategoryGC},
	{"runtime.makemap", CategoryGC},
	{"runtime.persistentalloc", CategoryGC},
	{"runtime.sysAlloc", CategoryGC},
	{"runtime.sysUnused", CategoryGC},
	{"runtime.sysUsed", CategoryGC},
	{"runtime.sysHugePage", CategoryGC},
	{"runtime.madvise", CategoryGC},
	{"runtime.runfinq", CategoryGC},
	{"runtime.clearpools", CategoryGC},

	// The scheduler, goroutines and synchronisation.
	{"runtime.schedule", CategoryScheduler},
	{"runtime.findRunnable", CategoryScheduler},
	{"runtime.findrunnable", CategoryScheduler},
	{"runtime.stealWork", CategoryScheduler},
	{"runtime.runq", CategoryScheduler},
	{"runtime.globrunq", CategoryScheduler},
	{"runtime.(*gQueue)", CategoryScheduler},
	{"runtime.(*randomEnum)", CategoryScheduler},
	{"runtime.park_m", CategoryScheduler},
	{"runtime.mcall", CategoryScheduler},
	{"runtime.gopark", CategoryScheduler},
	{"runtime.goready", CategoryScheduler},
	{"runtime.ready", CategoryScheduler},
	{"runtime.execute", CategoryScheduler},
	{"runtime.gogo", CategoryScheduler},
	{"runtime.goexit0", CategoryScheduler},
	{"runtime.gdestroy", CategoryScheduler},
	{"runtime.newproc", CategoryScheduler},
	{"runtime.casgstatus", CategoryScheduler},
	{"runtime.resetspinning", CategoryScheduler},
	{"runtime.checkTimers", CategoryScheduler},
	{"runtime.(*timers)", CategoryScheduler},
	{"runtime.(*timer)", CategoryScheduler},
	{"runtime.futex", CategoryScheduler},
	{"runtime.notesleep", CategoryScheduler},
	{"runtime.notetsleep", CategoryScheduler},
	{"runtime.notewakeup", CategoryScheduler},
	{"runtime.stopm", CategoryScheduler},
	{"runtime.startm", CategoryScheduler},
	{"runtime.wakep", CategoryScheduler},
	{"runtime.mPark", CategoryScheduler},
	{"runtime.handoffp", CategoryScheduler},
	{"runtime.acquirep", CategoryScheduler},
	{"runtime.releasep", CategoryScheduler},
	{"runtime.lock2", CategoryScheduler},
	{"runtime.unlock2", CategoryScheduler},
	{"runtime.lockWithRank", CategoryScheduler},
	{"runtime.unlockWithRank", CategoryScheduler},
	{"runtime.(*spinbitMutex)", CategoryScheduler},
	{"runtime.usleep", CategoryScheduler},
	{"runtime.osyield", CategoryScheduler},
	{"runtime.procyield", CategoryScheduler},
	{"runtime.sysmon", CategoryScheduler},
	{"runtime.retake", CategoryScheduler},
	{"runtime.preempt", CategoryScheduler},
	{"runtime.asyncPreempt", CategoryScheduler},
	{"runtime.morestack", CategoryScheduler},
	{"runtime.newstack", CategoryScheduler},
	{"runtime.copystack", CategoryScheduler},
	{"runtime.chansend", CategoryScheduler},
	{"runtime.chanrecv", CategoryScheduler},
	{"runtime.closechan", CategoryScheduler},
	{"runtime.selectgo", CategoryScheduler},
	{"runtime.semacquire", CategoryScheduler},
	{"runtime.semrelease", CategoryScheduler},
	{"runtime.(*semaRoot)", CategoryScheduler},
	{"runtime.wakeNetPoller", CategoryScheduler},
	{"runtime.netpollBreak", CategoryScheduler},
	{"sync.(*Mutex)", CategoryScheduler},
	{"sync.(*RWMutex)", CategoryScheduler},
	{"sync.(*WaitGroup)", CategoryScheduler},
	{"sync.(*Cond)", CategoryScheduler},
	{"sync.runtime_", CategoryScheduler},
	{"internal/sync.(*Mutex)", CategoryScheduler},
	{"internal/sync.runtime_", CategoryScheduler},
	{"time.Sleep", CategoryScheduler},

	// System calls and network I/O.
	{"syscall.", CategorySyscall},
	{"internal/runtime/syscall", CategorySyscall},
	{"internal/syscall/", CategorySyscall},
	{"golang.org/x/sys/unix.", CategorySyscall},
	{"internal/poll.", CategorySyscall},
	{"net.", CategorySyscall},
	{"os.", CategorySyscall},
	{"runtime.netpoll", CategorySyscall},
	{"runtime.epoll", CategorySyscall},
	{"runtime.(*pollDesc)", CategorySyscall},
	{"runtime.poll_runtime", CategorySyscall},
	{"runtime.entersyscall", CategorySyscall},
	{"runtime.exitsyscall", CategorySyscall},
	{"runtime.reentersyscall", CategorySyscall},
	{"runtime.write1", CategorySyscall},
	{"runtime.read", CategorySyscall},

	// TLS and cryptography.
	{"crypto/", CategoryCrypto},
	{"vendor/golang.org/x/crypto/", CategoryCrypto},
	{"golang.org/x/crypto/", CategoryCrypto},

	// Encoding and compression.
	{"encoding/", CategoryEncoding},
	{"compress/", CategoryEncoding},
	{"hash/crc32.", CategoryEncoding},
	{"google.golang.org/protobuf/", CategoryEncoding},
	{"github.com/golang/protobuf/", CategoryEncoding},
	{"github.com/gogo/protobuf/", CategoryEncoding},
	{"github.com/klauspost/compress/", CategoryEncoding},
	{"github.com/andybalholm/brotli", CategoryEncoding},
	{"github.com/golang/snappy", CategoryEncoding},
	{"github.com/pierrec/lz4/", CategoryEncoding},
	{"github.com/json-iterator/go", CategoryEncoding},
	{"github.com/goccy/go-json", CategoryEncoding},
	{"github.com/bytedance/sonic", CategoryEncoding},
	{"github.com/mailru/easyjson", CategoryEncoding},
	{"github.com/valyala/fastjson", CategoryEncoding},
	{"github.com/tidwall/gjson", CategoryEncoding},
	{"github.com/buger/jsonparser", CategoryEncoding},
	{"github.com/segmentio/encoding/", CategoryEncoding},
	{"github.com/vmihailenco/msgpack", CategoryEncoding},
	{"github.com/ugorji/go/codec", CategoryEncoding},
	{"github.com/aws/smithy-go/encoding/", CategoryEncoding},
	{"gopkg.in/yaml", CategoryEncoding},
	{"sigs.k8s.io/yaml", CategoryEncoding},

	// The HTTP client.
	{"net/http.", CategoryHTTPClient},
	{"net/http/httptrace.", CategoryHTTPClient},
	{"net/http/internal/", CategoryHTTPClient},
	{"net/textproto.", CategoryHTTPClient},
	{"net/url.", CategoryHTTPClient},
	{"mime.", CategoryHTTPClient},
	{"golang.org/x/net/http2.", CategoryHTTPClient},
	{"golang.org/x/net/http2/", CategoryHTTPClient},
	{"golang.org/x/net/http/", CategoryHTTPClient},
	{"vendor/golang.org/x/net/http2", CategoryHTTPClient},
	{"vendor/golang.org/x/net/http/", CategoryHTTPClient},
	{"vendor/golang.org/x/net/idna", CategoryHTTPClient},
}

// ruleCategory returns the category categoryRules give a function name,
// or "" when no rule matches.
func ruleCategory(name string) Category {
	best, cat := -1, Category("")
	for _, r := range categoryRules {
		if len(r.prefix) > best && strings.HasPrefix(name, r.prefix) {
			best, cat = len(r.prefix), r.cat
		}
	}
	return cat
}

// serverFrames are functions that run only on an HTTP server's
// goroutines: a sample with one of them on its stack is server work, and
// its net/http frames count as CategoryHTTPServer.
var serverFrames = []string{
	"net/http.(*conn).serve",
	"net/http.(*http2serverConn).",
	"net/http.(*Server).Serve",
	"golang.org/x/net/http2.(*serverConn).",
	"golang.org/x/net/http2.(*Server).ServeConn",
}

// delegatePrefixes are the standard packages httptop's probe hands a
// request's work to: a probe frame (tracer.(*Conn).Read, the probe's
// RoundTrip) with one of these below it is only passing the program's
// request through, and the sample belongs to the program.
var delegatePrefixes = []string{
	"net/http.", "net/http/", "net.", "crypto/tls.", "internal/poll.", "syscall.",
	"internal/syscall/", "internal/runtime/syscall", "vendor/golang.org/x/net/", "golang.org/x/net/",
}

// Packages of httptop itself. agentPackages run on httptop's own
// goroutines (or the program's, asked by httptop): a sample with one of
// them on its stack is httptop's. probePackages run on the program's
// request path: their frames are httptop's own work only where they do not
// pass the request through (see delegatePrefixes). selfExcluded are
// packages of the httptop module that stand for a user's program (the
// fixtures' workloads, the demo, examples).
var (
	agentPackages = []string{
		httptopModule + "/probe/agent",
		httptopModule + "/probe/attach",
		httptopModule + "/flame",
		httptopModule + "/promexport",
		httptopModule + "/otelexport",
		httptopModule + "/internal/",
		httptopModule + "/cmd/",
		"github.com/felixge/fgprof",
		"github.com/shirou/gopsutil/",
	}
	probePackages = []string{
		httptopModule + "/probe",
		httptopModule + "/tracer",
		httptopModule + "/poolstats",
		httptopModule + "/tlsstats",
		httptopModule + "/snapshot",
	}
	selfExcluded = []string{
		httptopModule + "/fixtures",
		httptopModule + "/internal/demo",
		httptopModule + "/probe/attach/example",
		httptopModule + "/cmd/httptop/testdata",
	}
)

// httptopModule is httptop's module path.
const httptopModule = "github.com/httptop/httptop"

// LabelKey is the pprof label httptop's agent (and the dashboard of
// httptop demo) runs under: CPU samples carrying it are httptop's own
// work, whatever their stack. Its values are "agent" and "dashboard".
const LabelKey = "httptop"

// inPackages reports whether pkg is one of the packages or under one of
// the prefixes (a prefix ending in "/" matches packages below it).
func inPackages(pkg string, list []string) bool {
	for _, p := range list {
		if strings.HasSuffix(p, "/") {
			if strings.HasPrefix(pkg, p) {
				return true
			}
			continue
		}
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

// hasPrefix reports whether s starts with one of the prefixes.
func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
