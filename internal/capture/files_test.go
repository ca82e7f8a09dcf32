package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// untrustedDir writes a capture directory whose capture.json names file
// as its CPU profile, then lets prepare add what it wants.
func untrustedDir(t *testing.T, file string, prepare func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "capture")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c := NewCapture(time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC))
	c.Profiles = []ProfileInfo{{Kind: snapshot.ProfileCPU, File: file, Seconds: 1}}
	if err := Write(dir, c); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(dir)
	}
	return dir
}

// loadWithin runs Load(dir), failing the test when it does not return
// within a generous deadline (a FIFO would block it forever).
func loadWithin(t *testing.T, dir string) (*Capture, Profiles, error) {
	t.Helper()
	type result struct {
		c   *Capture
		p   Profiles
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, p, err := Load(dir)
		done <- result{c, p, err}
	}()
	select {
	case r := <-done:
		return r.c, r.p, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Load(%s) did not return within 20 s", dir)
		return nil, Profiles{}, nil
	}
}

// TestLoadUntrustedDir reads capture directories that try to make the
// reader block, read outside the directory or run out of memory: each
// must be refused promptly, the profile left out with a note, or the
// capture refused with a one-line error.
func TestLoadUntrustedDir(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside.pb.gz")
	if err := os.WriteFile(outside, encode(cannedProfile(snapshot.ProfileCPU, time.Second)), 0o600); err != nil {
		t.Fatal(err)
	}
	mkfifo := func(name string) func(dir string) {
		return func(dir string) {
			path := filepath.Join(dir, name)
			os.Remove(path)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
		}
	}
	symlink := func(target, name string) func(dir string) {
		return func(dir string) {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name    string
		file    string // the CPU profile's name in capture.json
		prepare func(dir string)
		// capErr is the error Load must return; "" when it succeeds and
		// notes profErr instead.
		capErr, profErr string
	}{
		{name: "capture.json is a FIFO", prepare: mkfifo(CaptureFile), capErr: "not a regular file"},
		{name: "profile is a FIFO", file: CPUProfile, prepare: mkfifo(CPUProfile), profErr: "not a regular file"},
		{name: "profile is a symlink out of the directory", file: CPUProfile, prepare: symlink(outside, CPUProfile), profErr: "escapes"},
		{name: "profile is a symlink to /dev/zero", file: CPUProfile, prepare: symlink("/dev/zero", CPUProfile), profErr: "escapes"},
		{name: "profile named with ..", file: "../outside.pb.gz", profErr: "not the name of a file of the capture directory"},
		{name: "profile named by absolute path", file: outside, profErr: "not the name of a file of the capture directory"},
		{name: "profile named /dev/zero", file: "/dev/zero", profErr: "not the name of a file of the capture directory"},
		{name: "capture.json is a directory", prepare: func(dir string) {
			os.Remove(filepath.Join(dir, CaptureFile))
			os.Mkdir(filepath.Join(dir, CaptureFile), 0o700)
		}, capErr: "not a regular file"},
		{name: "capture.json is too large", prepare: func(dir string) {
			if err := os.Truncate(filepath.Join(dir, CaptureFile), MaxCaptureBytes+1); err != nil {
				t.Fatal(err)
			}
		}, capErr: "larger than 256 MiB"},
		{name: "profile is too large", file: CPUProfile, prepare: func(dir string) {
			f, err := os.Create(filepath.Join(dir, CPUProfile))
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(MaxProfileBytes + 1)
			f.Close()
		}, profErr: "larger than 64 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := untrustedDir(t, tt.file, tt.prepare)
			c, p, err := loadWithin(t, dir)
			if tt.capErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.capErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Load = %v, want a one-line error containing %q", err, tt.capErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if p.CPU != nil {
				t.Errorf("the CPU profile %q was read", tt.file)
			}
			var msgs []string
			for _, e := range c.Errors {
				msgs = append(msgs, e.Message)
			}
			if !strings.Contains(strings.Join(msgs, "; "), tt.profErr) {
				t.Errorf("capture errors %q, want one containing %q", msgs, tt.profErr)
			}
		})
	}
}

// gzipBomb lowers the bound on decompressed profiles to 1 MiB for the
// test and returns 4 MiB of zeros gzipped (4 KiB).
func gzipBomb(t *testing.T) []byte {
	old := maxProfileData
	t.Cleanup(func() { maxProfileData = old })
	maxProfileData = 1 << 20
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	w.Write(make([]byte, 4<<20))
	w.Close()
	return gz.Bytes()
}

// TestLoadProfileBomb reads a profile that is small gzipped and huge
// decompressed: it is refused once past the bound, not decompressed into
// memory.
func TestLoadProfileBomb(t *testing.T) {
	bomb := gzipBomb(t)
	dir := untrustedDir(t, CPUProfile, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, CPUProfile), bomb, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	c, p, err := Load(dir)
	if err != nil || p.CPU != nil || len(c.Errors) != 1 || !strings.Contains(c.Errors[0].Message, "larger than 1 MiB decompressed") {
		t.Errorf("Load = %v, cpu profile read %v, errors %+v; want the profile refused as too large", err, p.CPU != nil, c.Errors)
	}
}

// TestLoadCanceled: reading stops when the context is done.
func TestLoadCanceled(t *testing.T) {
	dir := untrustedDir(t, "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := LoadContext(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadContext(canceled) = %v, want context.Canceled", err)
	}
}

// TestReadRefusesImpossibleFigures: negative durations and a window that
// ends before it starts are not a capture.
func TestReadRefusesImpossibleFigures(t *testing.T) {
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		change func(c *Capture)
		want   string
	}{
		{"negative interval", func(c *Capture) { c.IntervalSeconds = -1 }, "interval_s -1 is negative"},
		{"negative requested", func(c *Capture) { c.RequestedSeconds = -30 }, "requested_s -30 is negative"},
		{"end before start", func(c *Capture) { c.End = start.Add(-time.Second) }, "is before start"},
		{"negative profile seconds", func(c *Capture) {
			c.Profiles = []ProfileInfo{{Kind: snapshot.ProfileCPU, Seconds: -2}}
		}, "seconds -2 is negative"},
		{"negative segment", func(c *Capture) {
			c.Profiles = []ProfileInfo{{Kind: snapshot.ProfileWall, Segments: []Segment{{Offset: 1, Requested: -5}}}}
		}, "negative time"},
		{"negative latency", func(c *Capture) {
			c.Snapshots = []snapshot.Snapshot{{Time: start, Hosts: []snapshot.Host{{Host: "a:80", Latency: snapshot.Percentiles{P50: -3}}}}}
		}, `host "a:80" has a negative duration`},
		{"negative series latency", func(c *Capture) {
			c.Series = []HostSeries{{Host: "a:80", Points: []snapshot.Point{{Time: 5, LatencyAvgMs: -1}}}}
		}, "negative duration"},
		{"negative dial", func(c *Capture) { c.Conns = []ConnRecord{{Conn: snapshot.Conn{ID: 3, DialMs: -1}}} }, "connection 3 has a negative duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture(start)
			c.End = start.Add(time.Second)
			tt.change(c)
			dir := t.TempDir()
			if err := Write(dir, c); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestIsFileName(t *testing.T) {
	for name, want := range map[string]bool{
		CPUProfile: true, WallFlame: true, "cpu-2.pb.gz": true, "a_b.svg": true,
		"": false, ".": false, "..": false, ".hidden": false, "../x": false, "a/b": false, "/etc/shadow": false,
		`a\b`: false, "javascript:alert(1)": false, "x y": false, "a\x00b": false, "é.svg": false,
	} {
		if got := IsFileName(name); got != want {
			t.Errorf("IsFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// bombSource is an agent whose CPU profiles are small gzipped and huge
// decompressed.
type bombSource struct {
	*fakeSource
	bomb []byte
}

func (b bombSource) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	if kind == snapshot.ProfileCPU {
		return b.bomb, nil
	}
	return b.fakeSource.Profile(ctx, kind, d)
}

// TestRunRefusesProfileBomb: a hostile agent's profile that decompresses
// past the bound is refused segment by segment, not held; the wall-clock
// profile is still taken.
func TestRunRefusesProfileBomb(t *testing.T) {
	bomb := gzipBomb(t)
	dir := t.TempDir()
	c, profs, err := Run(context.Background(), bombSource{&fakeSource{}, bomb}, Options{
		Duration: 400 * time.Millisecond, Interval: 100 * time.Millisecond, Segment: 100 * time.Millisecond, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if profs.CPU != nil || profs.Wall == nil {
		t.Errorf("profiles cpu %v wall %v, want only the wall-clock one", profs.CPU != nil, profs.Wall != nil)
	}
	if info := c.Profile(snapshot.ProfileCPU); info == nil || !strings.Contains(info.Error, "larger than 1 MiB decompressed") {
		t.Errorf("cpu profile info %+v, want the segments refused as too large", info)
	}
}
