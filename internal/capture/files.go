package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/snapshot"
)

// Limits on what reading a capture directory accepts. A capture directory
// may come from anywhere (a colleague, an issue), so Load treats it as
// untrusted: it opens only regular files inside the directory, and none
// larger than these.
const (
	// MaxCaptureBytes bounds capture.json: a 10-minute capture of 100
	// hosts at one snapshot a second is about 50 MB.
	MaxCaptureBytes = 256 << 20
	// MaxProfileBytes bounds a profile file as stored (gzipped pprof); a
	// 60-second CPU profile of a large program is a few MB.
	MaxProfileBytes = 64 << 20
)

// maxProfileData bounds a profile once decompressed (a real one is a few
// MB), so that a small gzip bomb, in a capture directory or from a
// hostile agent, cannot take the memory a large file would; a variable
// for tests.
var maxProfileData int64 = 64 << 20

// Profiles are the parsed profiles of a capture the report reads: CPU,
// wall-clock, and the mutex and block profiles of its window, and the heap
// profile taken at its end; any may be nil.
type Profiles struct {
	CPU, Wall    *profile.Profile
	Mutex, Block *profile.Profile
	Heap         *profile.Profile
}

// IsFileName reports whether name may name a file of a capture directory
// in capture.json: a plain file name (letters, digits, '.', '-', '_'), not
// hidden, with no directory part. Load opens nothing else, and the report
// links nothing else.
func IsFileName(name string) bool {
	if name == "" || name[0] == '.' || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// Load reads a capture directory: capture.json and the CPU, wall-clock,
// mutex, block and heap profiles it names. A profile that cannot be read
// is left out of the
// returned Profiles and noted in the capture's Errors, since the report
// is still worth writing without it; only a missing or invalid
// capture.json is an error.
func Load(dir string) (*Capture, Profiles, error) {
	return LoadContext(context.Background(), dir)
}

// LoadContext is Load that stops reading when ctx is done (Ctrl-C),
// returning ctx's error.
//
// It trusts nothing in dir: it opens only regular files inside it (no
// "..", no absolute paths, no symbolic link that leads out of it, no FIFO
// or device, which it opens without blocking and refuses), reads at most
// MaxCaptureBytes of capture.json and MaxProfileBytes of a profile (and
// 64 MiB of a profile once decompressed), and follows only the file names
// IsFileName accepts.
func LoadContext(ctx context.Context, dir string) (*Capture, Profiles, error) {
	root, err := openRoot(dir)
	if err != nil {
		return nil, Profiles{}, err
	}
	defer root.Close()
	c, err := readCapture(ctx, root, dir)
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
		data, err := readFile(ctx, root, info.File, MaxProfileBytes)
		if err == nil {
			*k.dst, err = ParseProfile(data)
		}
		if ctx.Err() != nil {
			return nil, Profiles{}, ctx.Err()
		}
		if err != nil {
			c.AddError("read "+info.File, err)
		}
	}
	return c, p, nil
}

// ParseProfile parses a pprof profile, gzipped or not, refusing one larger
// than 64 MiB once decompressed rather than decompressing it all into
// memory (profile.ParseData would).
func ParseProfile(data []byte) (*profile.Profile, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decompress profile: %w", err)
		}
		raw, err := io.ReadAll(io.LimitReader(gz, maxProfileData+1))
		if err != nil {
			return nil, fmt.Errorf("decompress profile: %w", err)
		}
		if int64(len(raw)) > maxProfileData {
			return nil, fmt.Errorf("profile larger than %d MiB decompressed", maxProfileData>>20)
		}
		data = raw
	} else if int64(len(data)) > maxProfileData {
		return nil, fmt.Errorf("profile larger than %d MiB", maxProfileData>>20)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	return p, nil
}

// openRoot opens dir as the root of what a reader of the capture may
// open.
func openRoot(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("capture: %s does not exist: give the directory httptop capture wrote", dir)
	case err != nil:
		return nil, fmt.Errorf("capture: open %s: %w", dir, err)
	}
	return root, nil
}

// readFile reads the regular file name inside root, of at most limit
// bytes, stopping when ctx is done. The file is opened without blocking,
// so that a FIFO (which would wait for a writer) or a device is refused
// rather than waited on or read forever; os.Root refuses names and
// symbolic links that lead out of root.
func readFile(ctx context.Context, root *os.Root, name string, limit int64) ([]byte, error) {
	if !IsFileName(name) {
		return nil, fmt.Errorf("%q is not the name of a file of the capture directory", name)
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file but %s", name, fileKind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, limit>>20)
	}
	data := make([]byte, 0, fi.Size()+1)
	buf := bytes.NewBuffer(data)
	_, err = buf.ReadFrom(io.LimitReader(ctxReader{ctx, f}, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, limit>>20)
	}
	return buf.Bytes(), nil
}

// fileKind names the kind of file a mode that is not a regular file's
// describes.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}

// ctxReader reads from r until ctx is done, then fails with ctx's error.
// Reads of a regular file return promptly, so checking between them is
// enough.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p[:min(len(p), 1<<20)])
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
		var le *os.LinkError // its message names the temporary file too
		if errors.As(err, &le) {
			err = le.Err
		}
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
