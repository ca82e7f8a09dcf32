package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httptop/httptop/internal/capture"
)

// TestDiffCommand diffs two small captures without profiles: the pool
// part works, the code part is left out with a warning, and the files are
// written and listed.
func TestDiffCommand(t *testing.T) {
	before, after := writeCaptureDir(t), writeCaptureDir(t)
	c, err := capture.Read(after)
	if err != nil {
		t.Fatal(err)
	}
	c.Program = "prog-v2"
	if err := capture.Write(after, c); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "d")
	stdout, stderr, code := e2eRun(t, "diff", before, after, "-o", out, "--match", "api.test=api.test:443")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"prog → prog-v2: " + before + " → " + after + "; 0 changes beyond noise",
		"warning: the captures are of different programs (before: prog, after: prog-v2); compared anyway",
		"warning: neither capture has a cpu profile: no cpu comparison",
		"default → https://api.test [matched by --match]",
		"wrote " + filepath.Join(out, capture.DiffHTMLFile),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "pprof") {
		t.Errorf("output suggests pprof for captures without profiles:\n%s", stdout)
	}
}

func TestDiffCommandErrors(t *testing.T) {
	good := writeCaptureDir(t)
	empty := t.TempDir()
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, capture.CaptureFile), []byte(`{"version": 1, "snapshots": [}`), 0o600); err != nil {
		t.Fatal(err)
	}
	future := t.TempDir()
	if err := os.WriteFile(filepath.Join(future, capture.CaptureFile), []byte(`{"version": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(good, capture.CaptureFile)
	for _, tt := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no dirs", []string{"diff"}, "diff takes two capture directories, BEFORE and AFTER, got 0", 2},
		{"one dir", []string{"diff", good}, "got 1 arguments", 2},
		{"bad match", []string{"diff", good, good, "--match", "nohost"}, `--match "nohost": want old=new`, 2},
		{"missing", []string{"diff", filepath.Join(empty, "nope"), good}, "diff: before: " + filepath.Join(empty, "nope") + " does not exist", 1},
		{"a file", []string{"diff", good, file}, "diff: after: " + file + " is not a directory", 1},
		{"not a capture", []string{"diff", empty, good}, "diff: before: capture: " + empty + " has no capture.json: is it a directory written by httptop capture?", 1},
		{"invalid", []string{"diff", good, bad}, "diff: after: capture: " + filepath.Join(bad, capture.CaptureFile) + " is not a valid capture", 1},
		{"future version", []string{"diff", future, good}, "is capture version 2; this httptop reads version 1", 1},
		{"baseline not a capture", []string{"capture", "--baseline", empty, "1"}, "diff: baseline: capture: " + empty + " has no capture.json", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := e2eRun(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stdout %q)", code, tt.code, stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
			if tt.code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line", stderr)
			}
		})
	}
}
