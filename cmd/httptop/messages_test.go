package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
)

// TestExitCodeOneLine: an error joining several (report.Write's, one per
// file) is reported on one line.
func TestExitCodeOneLine(t *testing.T) {
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errb)
	err := errors.Join(errors.New("report: write report.json: disk full"), errors.New("report: write report.md: disk full"),
		errors.New("report: write report.html: disk \x1b[2Jfull"))
	if code := m.ExitCode(err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if got := errb.String(); strings.Count(got, "\n") != 1 || strings.ContainsRune(got, '\x1b') || !strings.Contains(got, "report.md: disk full; report: write report.html") {
		t.Errorf("stderr = %q, want the three errors on one line", got)
	}
}

// TestReportWriteErrorOneLine renders a report into a directory where
// none of the three files can be written (a directory stands at each
// name): one line of error.
func TestReportWriteErrorOneLine(t *testing.T) {
	dir := writeCaptureDir(t)
	for _, name := range []string{capture.JSONFile, capture.MarkdownFile, capture.HTMLFile} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name, "x"), nil, 0o600) // not empty: rename cannot replace it
	}
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errb)
	err := m.Run(context.Background(), []string{"report", dir})
	if err == nil {
		t.Fatal("httptop report succeeded")
	}
	m.ExitCode(err)
	if got := errb.String(); strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line", got)
	}
}

// TestAgentTableNoStart: a record without a start time shows no uptime,
// not 106751d23h.
func TestAgentTableNoStart(t *testing.T) {
	var buf bytes.Buffer
	writeAgentTable(&buf, []agentRow{{info: agentclient.Info{PID: 42, Program: "p", Addr: "127.0.0.1:1"}, err: errors.New("gone")}}, time.Now())
	if got := buf.String(); strings.Contains(got, "106751d") || !strings.Contains(got, "127.0.0.1:1  -") {
		t.Errorf("table:\n%s\nwant - as the uptime", got)
	}
}

// TestDoubleDash: after --, an argument that looks like a flag is a
// TARGET: `httptop snapshot -- -5` is told -5 is no pid, not that -5 is
// an unknown flag.
func TestDoubleDash(t *testing.T) {
	t.Setenv("HTTPTOP_DIR", t.TempDir())
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errb)
	err := m.Run(context.Background(), []string{"snapshot", "--", "-5"})
	if err == nil || !strings.Contains(err.Error(), `"-5" is not a valid pid`) {
		t.Errorf("httptop snapshot -- -5 = %v, want -5 taken as a TARGET", err)
	}
	if code := m.ExitCode(err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}
