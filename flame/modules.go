package flame

import (
	"runtime/debug"
	"slices"
	"strings"
)

// Modules is a program's module list, from its build information: the
// main module's path and the paths of the modules it depends on. Attribute
// uses it to tell the program's own code and its libraries from the
// standard library by the package path in each function's name.
//
// The zero value works: without a list, a package whose path starts with
// a domain name (a dot in its first element) or is "main" counts as the
// program's code and anything else as the standard library. The list adds
// module paths without a dot (module myapp), paths such as gopkg.in/yaml.v3
// whose last element holds a dot, and the module each package belongs to.
// Test binaries record the main module but no dependencies.
type Modules struct {
	// Main is the main module's path ("" when unknown, or for a program
	// built outside a module, whose own code is package main).
	Main string `json:"main,omitempty"`
	// Deps are the paths of the modules the program depends on.
	Deps []string `json:"deps,omitempty"`
}

// ModulesFromBuildInfo returns the module list of a program's build
// information (runtime/debug.ReadBuildInfo); nil gives the zero Modules.
// Replaced modules keep their original path, which is the one function
// names carry.
func ModulesFromBuildInfo(bi *debug.BuildInfo) Modules {
	if bi == nil {
		return Modules{}
	}
	m := Modules{Main: bi.Main.Path}
	if m.Main == "command-line-arguments" {
		m.Main = ""
	}
	for _, d := range bi.Deps {
		if d != nil && d.Path != "" {
			m.Deps = append(m.Deps, d.Path)
		}
	}
	return m
}

// ReadModules returns the running program's module list
// (ModulesFromBuildInfo of runtime/debug.ReadBuildInfo).
func ReadModules() Modules {
	bi, _ := debug.ReadBuildInfo()
	return ModulesFromBuildInfo(bi)
}

// moduleIndex finds the module of a function name.
type moduleIndex struct {
	main string
	// paths holds every module path, longest first, so that the first
	// prefix found is the most specific (golang.org/x/net/http2 is not
	// a module, but a module nested in another would be).
	paths []string
}

func newModuleIndex(m Modules) *moduleIndex {
	ix := &moduleIndex{main: m.Main}
	if m.Main != "" {
		ix.paths = append(ix.paths, m.Main)
	}
	for _, d := range m.Deps {
		if d != "" {
			ix.paths = append(ix.paths, d)
		}
	}
	slices.SortFunc(ix.paths, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	ix.paths = slices.Compact(ix.paths)
	return ix
}

// lookup returns the module whose path prefixes name (followed by "/" or
// "."), and the package path within it, or "" when no module does.
func (ix *moduleIndex) lookup(name string) (module, pkg string) {
	for _, m := range ix.paths {
		if len(name) <= len(m) || !strings.HasPrefix(name, m) {
			continue
		}
		switch name[len(m)] {
		case '.':
			return m, m
		case '/':
			return m, m + "/" + packagePath(name[len(m)+1:])
		}
	}
	return "", ""
}

// packagePath returns the package path of a function name as Go prints it
// (runtime.Frame.Function, pprof's function names):
//
//	net/http.(*Transport).roundTrip       net/http
//	github.com/a/b/v4.(*Signer).Sign      github.com/a/b/v4
//	main.worker.func1                     main
//	pkg.Map[go.shape.string,x/y.T]        pkg
//	vendor/golang.org/x/net/http2.(*F).W  vendor/golang.org/x/net/http2
//
// The package path ends at the first dot after the last slash that comes
// before any '(' or '[' (type arguments may hold slashes of their own). A
// last element with a dot of its own (gopkg.in/yaml.v3) needs the module
// list; see moduleIndex. Names that are no function of a package
// (compiler-generated type: and go: symbols, unsymbolized addresses)
// return "".
func packagePath(name string) string {
	if name == "" || strings.HasPrefix(name, "type:") || strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "0x") {
		return ""
	}
	s := name
	if i := strings.IndexAny(s, "[("); i >= 0 {
		s = s[:i]
	}
	slash := strings.LastIndexByte(s, '/')
	dot := strings.IndexByte(s[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return s[:slash+1+dot]
}

// unvendor strips a GOPATH-era vendor directory from a package path
// (github.com/me/app/vendor/github.com/x/y → github.com/x/y). The standard
// library's own vendored packages (vendor/golang.org/x/net/...) keep their
// prefix: they are part of the standard library.
func unvendor(pkg string) string {
	if i := strings.LastIndex(pkg, "/vendor/"); i >= 0 {
		return pkg[i+len("/vendor/"):]
	}
	return pkg
}

// stdPackage reports whether pkg is a standard library package: its first
// path element has no dot ("net/http", "internal/poll",
// "vendor/golang.org/x/net/http2") and it is not "main".
func stdPackage(pkg string) bool {
	if pkg == "" || pkg == "main" {
		return false
	}
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}

// guessModule names the module of a package outside the standard library
// when the module list does not: the first three elements for the usual
// code hosts (github.com/owner/repo), the whole path otherwise.
func guessModule(pkg string) string {
	parts := strings.SplitN(pkg, "/", 4)
	switch parts[0] {
	case "github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "golang.org", "go.googlesource.com":
		if len(parts) >= 3 {
			return strings.Join(parts[:3], "/")
		}
	case "google.golang.org", "gopkg.in", "go.uber.org", "k8s.io", "sigs.k8s.io", "cloud.google.com", "go.opentelemetry.io":
		if len(parts) >= 2 {
			return strings.Join(parts[:2], "/")
		}
	}
	return pkg
}
