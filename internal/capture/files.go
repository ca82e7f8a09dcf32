package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/snapshot"
)

// Profiles are the parsed profiles of a capture the report reads: CPU,
// wall-clock, and the mutex and block profiles of its window, and the heap
// profile taken at its end; any may be nil.
type Profiles struct {
	CPU, Wall    *profile.Profile
	Mutex, Block *profile.Profile
	Heap         *profile.Profile
}

// Load reads a capture directory: capture.json and the CPU, wall-clock,
// mutex, block and heap profiles it names. A profile that cannot be read is left out of the
// returned Profiles and noted in the capture's Errors, since the report
// is still worth writing without it; only a missing or invalid
// capture.json is an error.
func Load(dir string) (*Capture, Profiles, error) {
	c, err := Read(dir)
	if err != nil {
		return nil, Profiles{}, err
	}
	var p Profiles
	for _, k := range []struct {
		kind snapshot.ProfileKind
		dst  **profile.Profile
	}{{snapshot.ProfileCPU, &p.CPU}, {snapshot.ProfileWall, &p.Wall}, {snapshot.ProfileMutex, &p.Mutex}, {snapshot.ProfileBlock, &p.Block}, {snapshot.ProfileHeap, &p.Heap}} {
		info := c.Profile(k.kind)
		if info == nil || info.File == "" {
			continue
		}
		prof, err := readProfile(filepath.Join(dir, info.File))
		if err != nil {
			c.AddError("read "+info.File, err)
			continue
		}
		*k.dst = prof
	}
	return c, p, nil
}

// readProfile parses a pprof file.
func readProfile(name string) (*profile.Profile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Base(name), err)
	}
	return p, nil
}

// writeFile writes data to name through a temporary file in the same
// directory renamed into place, so a reader never sees half a file. Files
// are created with mode 0600: a capture names hosts and functions of the
// program, which its owner may not want to share with every local user.
func writeFile(name string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("capture: write %s: %w", filepath.Base(name), err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("capture: write %s: %w", filepath.Base(name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("capture: write %s: %w", filepath.Base(name), err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("capture: write %s: %w", filepath.Base(name), err)
	}
	return nil
}

// WriteFile writes data to dir/name atomically with mode 0600, as the
// report's own files are written.
func WriteFile(dir, name string, data []byte) error {
	return writeFile(filepath.Join(dir, name), data)
}

// Rendering is one file rendered from what a capture holds (report.md,
// diff.html): its name in the directory and what writes it.
type Rendering struct {
	Name  string
	Write func(io.Writer) error
}

// WriteRenderings renders each file into dir, each replaced atomically
// with mode 0600 (see WriteFile). An error names the file that failed,
// and the others are still written.
func WriteRenderings(dir string, rs ...Rendering) error {
	var errs []error
	for _, r := range rs {
		var buf bytes.Buffer
		if err := r.Write(&buf); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := WriteFile(dir, r.Name, buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
