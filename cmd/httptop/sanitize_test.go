package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// evil is text a hostile agent or capture.json may carry: a sequence
// that clears the screen, one that sets the window title, a C1 control
// and a right-to-left override.
const evil = "x\x1b[2J\x1b]0;owned\x07\u009b31m\u202egnp.exe\r\n"

// checkPrintable fails when out holds a control character other than
// newline, or a bidirectional override.
func checkPrintable(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if (unicode.IsControl(r) && r != '\n') || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			t.Errorf("%s prints %U at byte %d:\n%q", what, r, i, out)
			return
		}
	}
}

func TestSummaryStripsControls(t *testing.T) {
	s := &snapshot.Snapshot{
		Program: evil, PID: 7, ProbeErrors: 1, LastProbeError: evil,
		Hosts: []snapshot.Host{{Client: evil, Scheme: "https" + evil, Host: evil}},
		Diagnoses: []snapshot.Diagnosis{{
			Kind: snapshot.DiagnosisKind(evil), Client: evil, Host: evil, Severity: snapshot.Severity(evil),
			Summary: evil, Advice: evil, Sites: []snapshot.Site{{Function: evil, File: evil, Line: 3, Count: 1}},
		}},
	}
	var out bytes.Buffer
	writeSummary(&out, s)
	checkPrintable(t, "snapshot", out.String())
}

func TestCaptureSummaryStripsControls(t *testing.T) {
	c := capture.NewCapture(time.Now())
	c.Program = evil
	c.AddError(evil, &snapshot.AgentError{Code: snapshot.ErrCodeBusy, Message: evil})
	var out bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &out)
	m.writeCaptureSummary(c, t.TempDir())
	checkPrintable(t, "capture", out.String())
}

func TestReportStripsControls(t *testing.T) {
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	c := capture.NewCapture(start)
	c.AddSnapshot(&snapshot.Snapshot{Version: snapshot.Version, Time: start, PID: 7, Program: evil})
	c.End = start.Add(time.Second)
	dir := t.TempDir()
	if err := capture.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := NewMain(strings.NewReader(""), &out, &errb).Run(context.Background(), []string{"report", dir}); err != nil {
		t.Fatal(err)
	}
	checkPrintable(t, "report", out.String())
}

func TestAgentTableStripsControls(t *testing.T) {
	var out bytes.Buffer
	writeAgentTable(&out, []agentRow{{info: agentclient.Info{PID: 7, Program: evil, Addr: evil, Started: time.Now()}}}, time.Now())
	checkPrintable(t, "ps", out.String())
}
