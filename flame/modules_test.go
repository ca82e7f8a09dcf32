package flame

import (
	"runtime/debug"
	"slices"
	"testing"
)

func TestPackagePath(t *testing.T) {
	tests := []struct{ name, want string }{
		{"net/http.(*Transport).roundTrip", "net/http"},
		{"runtime.mallocgc", "runtime"},
		{"github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", "github.com/aws/aws-sdk-go-v2/aws/signer/v4"},
		{"main.worker.func1", "main"},
		{"main.(*client).do", "main"},
		{"pkg.Map[go.shape.string,github.com/x/y.T]", "pkg"},
		{"github.com/x/y.(*T[go.shape.struct { a/b.c }]).M", "github.com/x/y"},
		{"vendor/golang.org/x/net/http2/hpack.(*Decoder).Write", "vendor/golang.org/x/net/http2/hpack"},
		{"encoding/json.(*decodeState).object", "encoding/json"},
		{"internal/runtime/syscall/linux.Syscall6", "internal/runtime/syscall/linux"},
		{"type:.eq.main.T", ""},
		{"go:buildid", ""},
		{"0x4a1f20", ""},
		{"", ""},
		{"nodot", ""},
	}
	for _, tt := range tests {
		if got := packagePath(tt.name); got != tt.want {
			t.Errorf("packagePath(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStdPackage(t *testing.T) {
	tests := []struct {
		pkg  string
		want bool
	}{
		{"net/http", true},
		{"runtime", true},
		{"internal/poll", true},
		{"vendor/golang.org/x/net/http2", true},
		{"main", false},
		{"", false},
		{"github.com/x/y", false},
		{"golang.org/x/net/http2", false},
	}
	for _, tt := range tests {
		if got := stdPackage(tt.pkg); got != tt.want {
			t.Errorf("stdPackage(%q) = %v, want %v", tt.pkg, got, tt.want)
		}
	}
}

func TestUnvendor(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/me/app/vendor/github.com/x/y": "github.com/x/y",
		"vendor/golang.org/x/net/http2":           "vendor/golang.org/x/net/http2",
		"net/http":                                "net/http",
	} {
		if got := unvendor(in); got != want {
			t.Errorf("unvendor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModuleLookup(t *testing.T) {
	ix := newModuleIndex(Modules{Main: "myapp", Deps: []string{"gopkg.in/yaml.v3", "github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go-v2/service/dynamodb"}})
	tests := []struct{ name, mod, pkg string }{
		{"myapp/internal/sign.Sign", "myapp", "myapp/internal/sign"},
		{"gopkg.in/yaml.v3.(*parser).parse", "gopkg.in/yaml.v3", "gopkg.in/yaml.v3"},
		{"github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", "github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go-v2/aws/signer/v4"},
		{"github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).GetItem", "github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/dynamodb"},
		{"myapplication.F", "", ""},
		{"net/http.Get", "", ""},
	}
	for _, tt := range tests {
		mod, pkg := ix.lookup(tt.name)
		if mod != tt.mod || pkg != tt.pkg {
			t.Errorf("lookup(%q) = %q, %q; want %q, %q", tt.name, mod, pkg, tt.mod, tt.pkg)
		}
	}
}

func TestModulesFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "example.com/app"},
		Deps: []*debug.Module{{Path: "github.com/a/b"}, nil, {Path: "golang.org/x/net", Replace: &debug.Module{Path: "../net"}}},
	}
	got := ModulesFromBuildInfo(bi)
	if got.Main != "example.com/app" || !slices.Equal(got.Deps, []string{"github.com/a/b", "golang.org/x/net"}) {
		t.Errorf("ModulesFromBuildInfo = %+v", got)
	}
	if got := ModulesFromBuildInfo(&debug.BuildInfo{Main: debug.Module{Path: "command-line-arguments"}}); got.Main != "" {
		t.Errorf("a program outside a module has main module %q, want none", got.Main)
	}
	if got := ModulesFromBuildInfo(nil); got.Main != "" || got.Deps != nil {
		t.Errorf("ModulesFromBuildInfo(nil) = %+v", got)
	}
	if got := ReadModules(); got.Main != httptopModule {
		t.Errorf("this test binary's main module = %q, want %q", got.Main, httptopModule)
	}
}

func TestGuessModule(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/aws/smithy-go/encoding/json": "github.com/aws/smithy-go",
		"golang.org/x/net/http2":                 "golang.org/x/net",
		"google.golang.org/protobuf/proto":       "google.golang.org/protobuf",
		"example.com/lib":                        "example.com/lib",
		"go.opentelemetry.io/otel/sdk/metric":    "go.opentelemetry.io/otel",
		"github.com/short":                       "github.com/short",
	} {
		if got := guessModule(in); got != want {
			t.Errorf("guessModule(%q) = %q, want %q", in, got, want)
		}
	}
}
