package discovery

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/redact/redacttest"
)

// deadPID is a pid no process has: above Linux's largest pid_max.
const deadPID = 1 << 30

func record(pid int) Record {
	return Record{
		PID: pid, Program: "prog", Network: "tcp", Addr: "127.0.0.1:6060",
		Token: "00ff", Protocol: 1, Version: "devel", Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestWriteRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	want := record(os.Getpid())
	path, err := Write(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if path != Path(dir, want.PID) {
		t.Errorf("path %q, want %q", path, Path(dir, want.PID))
	}
	if runtime.GOOS != "windows" {
		for p, mode := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
			}
		}
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want.Path = path
	if got != want {
		t.Errorf("Read = %+v\nwant %+v", got, want)
	}
	// Writing again replaces the file, leaving nothing else behind.
	want.Addr = "127.0.0.1:7070"
	if _, err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
	if got, _ := Read(path); got.Addr != want.Addr {
		t.Errorf("after rewrite, addr %q, want %q", got.Addr, want.Addr)
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := Remove(path); err != nil {
		t.Errorf("removing a removed file: %v", err)
	}
}

func TestWriteRefusesSharedDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, record(os.Getpid())); err == nil {
		t.Error("Write into a directory others can write succeeded")
	}
	if _, err := List(dir); err == nil {
		t.Error("List of a directory others can write succeeded")
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	live, err := Write(dir, record(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	dead, err := Write(dir, record(deadPID))
	if err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "."+strconv.Itoa(deadPID)+"-123.tmp")
	other := filepath.Join(dir, "notes.txt")
	corrupt := filepath.Join(dir, "1.json")
	mismatch := filepath.Join(dir, "2.json")
	for p, content := range map[string]string{leftover: "", other: "hello", corrupt: "{not json"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(record(os.Getpid()))
	os.WriteFile(mismatch, data, 0o600)

	recs, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].PID != os.Getpid() || recs[0].Path != live {
		t.Errorf("List = %+v, want only this process's record", recs)
	}
	for p, wantGone := range map[string]bool{dead: true, leftover: true, other: false, corrupt: false, live: false} {
		_, err := os.Stat(p)
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: removed = %v, want %v", filepath.Base(p), gone, wantGone)
		}
	}

	if recs, err := List(filepath.Join(dir, "missing")); err != nil || len(recs) != 0 {
		t.Errorf("List of a missing directory = %v, %v; want nothing", recs, err)
	}
}

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("Alive(self) = false")
	}
	for _, pid := range []int{0, -1, deadPID} {
		if Alive(pid) {
			t.Errorf("Alive(%d) = true", pid)
		}
	}
	// A process that has exited is not alive, reaped or not.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	cmd.Wait()
	if Alive(pid) {
		t.Errorf("Alive(exited %d) = true", pid)
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvDir, "relative/dir")
	d, err := Dir()
	if err != nil || !filepath.IsAbs(d) || filepath.Base(d) != "dir" {
		t.Errorf("Dir() with %s=relative/dir = %q, %v; want it made absolute", EnvDir, d, err)
	}
	t.Setenv(EnvDir, "")
	d, err = Dir()
	if err != nil || d == "" {
		t.Errorf("Dir() = %q, %v", d, err)
	}
}

// FuzzParse checks the discovery file decoder: no panic, and what it
// accepts has a pid, a known network, an address and a token.
func FuzzParse(f *testing.F) {
	good, _ := json.Marshal(record(42))
	f.Add(good)
	f.Add([]byte(`{"pid":1,"network":"unix","addr":"/s","token":"t"} {}`))
	f.Add([]byte(`{"pid":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		if r.PID <= 0 || (r.Network != "tcp" && r.Network != "unix") || r.Addr == "" || r.Token == "" {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// Printing or logging a record never shows its token; its JSON (the file)
// keeps it.
func TestRecordTokenRedacted(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	r := Record{PID: 42, Program: "p", Network: "tcp", Addr: "127.0.0.1:1", Token: token}
	redacttest.Check(t, "Record", r, token)
	redacttest.Check(t, "*Record", &r, token)
	data, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(data), token) {
		t.Errorf("json %s (%v): the discovery file must keep the token", data, err)
	}
}

// TestListKeepsUserFiles lists a directory that holds files other than
// discovery records under names List would take for its own (HTTPTOP_DIR
// pointing at an ordinary directory): only the stale records and
// leftovers it wrote itself go.
func TestListKeepsUserFiles(t *testing.T) {
	dir := t.TempDir()
	stale, err := Write(dir, record(deadPID))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(record(deadPID))
	leftover := filepath.Join(dir, "."+strconv.Itoa(deadPID)+"-123.tmp")  // a Write that died before its rename
	emptyLeft := filepath.Join(dir, "."+strconv.Itoa(deadPID)+"-456.tmp") // one that died before writing
	// Every name carries a pid no process has, as the user's files
	// would (a number that happens not to be a running pid).
	n := func(k int) string { return strconv.Itoa(deadPID + k) }
	keep := map[string]string{
		n(2) + ".json":              `{"name": "my notes"}`,
		n(3) + ".json":              "",
		"." + n(4) + "-draft.tmp":   "half a novel",
		"." + n(5) + "-1.tmp":       `{"pid": ` + n(5) + `, "other": "json"}`,
		n(6) + ".json":              "[1, 2, 3]",
		n(7) + ".json.bak":          "x",
		"." + n(8) + "-x.tmp.saved": "x",
	}
	for name, content := range keep {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string][]byte{leftover: data, emptyLeft: nil} {
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A record of a dead pid that is a link to a record elsewhere: not a
	// file List wrote.
	target := filepath.Join(t.TempDir(), "target.json")
	os.WriteFile(target, data, 0o600)
	link := filepath.Join(dir, strconv.Itoa(deadPID+1)+".json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := List(dir); err != nil {
		t.Fatal(err)
	}
	for name := range keep {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("List removed %s, which is not a discovery record: %v", name, err)
		}
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("List removed a link named like a record: %v", err)
	}
	for _, p := range []string{stale, leftover, emptyLeft} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("List kept %s, a stale discovery file", filepath.Base(p))
		}
	}
}

// TestListKeepsOtherUsersRecords: a stale record that another user owns
// is not removed (root can; it must not).
func TestListKeepsOtherUsersRecords(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := t.TempDir()
	path, err := Write(dir, record(deadPID))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := List(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("List removed another user's record: %v", err)
	}
}

// TestRootRefusesOthersDir: a discovery directory another user owns is
// refused, by root too (running with no HOME, root's directory is
// httptop-0 under the temporary directory, which anyone could create
// first and fill with records pointing at his own server).
func TestRootRefusesOthersDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "httptop-0")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, record(os.Getpid())); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("Write into another user's directory = %v, want it refused", err)
	}
	if _, err := List(dir); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("List of another user's directory = %v, want it refused", err)
	}
}
