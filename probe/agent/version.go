package agent

import (
	"os"
	"path/filepath"
	"runtime/debug"
)

// modulePath is the httptop module's import path.
const modulePath = "github.com/httptop/httptop"

// moduleVersion is the version of the httptop module linked into the
// program, or "devel".
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return "devel"
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return "devel"
}

// programName is the name snapshots and discovery files give the program.
func programName() string { return filepath.Base(os.Args[0]) }
