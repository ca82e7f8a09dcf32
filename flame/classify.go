package flame

import (
	"github.com/google/pprof/profile"
)

// frameKind says whose code a frame is.
type frameKind uint8

const (
	kindUnknown frameKind = iota // no package: an address, a compiler-generated symbol
	kindStd                      // the standard library and the runtime
	kindOwn                      // the program's main module, or package main
	kindLib                      // a third-party module
	kindProbe                    // httptop on the program's request path (probe, tracer, ...)
	kindAgent                    // httptop's agent, profiler, exporters, dashboard
)

// code reports whether frames of kind k are the program's code: its own
// module or a third-party one.
func (k frameKind) code() bool { return k == kindOwn || k == kindLib }

// frameInfo is what attribution knows about one function name.
type frameInfo struct {
	pkg    string // package path; "" when the name has none
	module string // module path of code outside the standard library
	kind   frameKind
	// cat is the frame's category from categoryRules, CategoryCode for
	// the program's code matching no rule, "" for generic frames that
	// take their caller's.
	cat      Category
	delegate bool // a standard package the probe passes requests to
	server   bool // runs only on an HTTP server's goroutines
	connLoop bool // runs only on a client connection's own goroutines
	wait     waitMark
}

// classifier classifies the frames of one profile, caching by name id.
type classifier struct {
	st    *symtab
	mods  *moduleIndex
	infos []frameInfo
	known []bool
}

func newClassifier(p *profile.Profile, mods Modules) *classifier {
	return &classifier{st: newSymtab(p, nil), mods: newModuleIndex(mods)}
}

// info returns the classification of the frame with name id.
func (c *classifier) info(id int32) *frameInfo {
	if n := len(c.st.names); len(c.infos) < n {
		c.infos = append(c.infos, make([]frameInfo, n-len(c.infos))...)
		c.known = append(c.known, make([]bool, n-len(c.known))...)
	}
	if !c.known[id] {
		c.infos[id] = c.classify(c.st.names[id])
		c.known[id] = true
	}
	return &c.infos[id]
}

// classify classifies one function name.
func (c *classifier) classify(name string) frameInfo {
	var fi frameInfo
	mod, pkg := c.mods.lookup(name)
	if mod == "" {
		pkg = unvendor(packagePath(name))
	}
	fi.pkg = pkg
	switch {
	case pkg == "":
		fi.kind = kindUnknown
	case inPackages(pkg, selfExcluded):
		fi.kind, fi.module = kindOwn, httptopModule
		if c.mods.main != httptopModule {
			fi.kind = kindLib
		}
	case inPackages(pkg, agentPackages):
		fi.kind = kindAgent
	case inPackages(pkg, probePackages):
		fi.kind = kindProbe
	case mod != "":
		fi.kind, fi.module = kindLib, mod
		if mod == c.mods.main {
			fi.kind = kindOwn
		}
	case pkg == "main":
		fi.kind, fi.module = kindOwn, c.mods.main
	case stdPackage(pkg):
		fi.kind = kindStd
	default:
		fi.kind, fi.module = kindLib, guessModule(pkg)
	}
	fi.cat = ruleCategory(name)
	if fi.cat == "" && fi.kind.code() {
		fi.cat = CategoryCode
	}
	if fi.kind == kindProbe || fi.kind == kindAgent {
		fi.cat = "" // httptop's frames are decided per sample
	}
	fi.delegate = fi.kind != kindOwn && hasPrefix(name, delegatePrefixes)
	fi.server = hasPrefix(name, serverFrames)
	fi.connLoop = hasPrefix(name, clientConnFrames)
	fi.wait = waitMarkOf(name)
	return fi
}

// stack expands a sample's locations into name ids, innermost (leaf)
// first, into buf.
func (c *classifier) stack(s *profile.Sample, buf []int32) []int32 {
	buf = buf[:0]
	for _, l := range s.Location {
		if l == nil {
			continue
		}
		fr := c.st.locFrames(l) // outermost first
		for i := len(fr) - 1; i >= 0; i-- {
			buf = append(buf, fr[i])
		}
	}
	return buf
}

// sampleClass is what attribution decides about one sample.
type sampleClass struct {
	httptop bool
	// owner is the innermost frame of the program's code (own module or
	// third-party) on the stack, once httptop's probe frames that only
	// pass the request through are skipped; -1 when there is none.
	owner int32
	cat   Category
}

// classifySample decides whose a sample is and what it is doing. stack is
// innermost first.
func (c *classifier) classifySample(s *profile.Sample, stack []int32) sampleClass {
	sc := sampleClass{owner: -1}
	if len(s.Label[LabelKey]) > 0 {
		sc.httptop = true
	}
	delegated, decided, server := false, false, false
	for _, id := range stack {
		fi := c.info(id)
		server = server || fi.server
		if sc.cat == "" {
			sc.cat = fi.cat
		}
		switch fi.kind {
		case kindAgent:
			sc.httptop = true
		case kindProbe:
			if !decided && !delegated {
				sc.httptop = true
				decided = true
			}
		case kindOwn, kindLib:
			if !decided {
				sc.owner = id
				decided = true
			}
		default:
			if fi.delegate {
				delegated = true
			}
		}
	}
	switch {
	case sc.httptop:
		sc.cat = CategoryHttptop
	case sc.cat == "":
		sc.cat = CategoryOther
	case sc.cat == CategoryHTTPClient && server:
		sc.cat = CategoryHTTPServer
	}
	return sc
}
