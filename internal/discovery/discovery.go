// Package discovery keeps the files by which httptop agents make
// themselves known to the httptop command: one small JSON file per
// process, named after its pid, in a directory private to the user.
//
// A file holds what the command needs to reach the agent and prove it may
// (the address and the token), so it is written with mode 0600 into a
// directory the user alone can write (created 0700), and written
// atomically: a reader sees the whole file or none. The agent removes its
// file when it stops; a program that exits without stopping its agent
// leaves the file behind, and List removes such stale files as it meets
// them (their pid is no longer running).
//
// The directory is $HTTPTOP_DIR when set, so that a program and the
// command can agree on another place (a container's shared volume, a
// test's temporary directory); otherwise httptop under the user's
// configuration directory (os.UserConfigDir: ~/.config/httptop on Linux).
package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/httptop/httptop/internal/redact"
)

// EnvDir names the environment variable that overrides the directory.
const EnvDir = "HTTPTOP_DIR"

// maxFileSize bounds what Read accepts: a record is a few hundred bytes.
const maxFileSize = 16 << 10

// Record is the content of one discovery file.
type Record struct {
	PID     int    `json:"pid"`
	Program string `json:"program"`
	// Network is "tcp" or "unix".
	Network string `json:"network"`
	// Addr is host:port for tcp, the socket's path for unix.
	Addr string `json:"addr"`
	// Token is the secret every request to the agent must carry.
	Token string `json:"token"`
	// Protocol is the version of the agent protocol the agent speaks.
	Protocol int `json:"protocol"`
	// Version is the httptop module version the agent was built from.
	Version string    `json:"version"`
	Started time.Time `json:"started"`

	// Path is the file the record was read from or written to; it is not
	// part of the file.
	Path string `json:"-"`
}

// String describes the record with its token redacted.
func (r Record) String() string { return r.GoString() }

// GoString is the %#v form of the record, its token redacted.
func (r Record) GoString() string {
	return fmt.Sprintf("discovery.Record{PID: %d, Program: %q, Network: %q, Addr: %q, Token: %q, Protocol: %d, Version: %q, Started: %s, Path: %q}",
		r.PID, r.Program, r.Network, r.Addr, redact.Mark, r.Protocol, r.Version, r.Started.Format(time.RFC3339), r.Path)
}

// Format prints the record with String whatever the verb, so that no verb
// prints the token. (Its JSON encoding, the discovery file, keeps it.)
func (r Record) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue logs the record with its token redacted.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("pid", r.PID), slog.String("program", r.Program), slog.String("network", r.Network),
		slog.String("addr", r.Addr), slog.String("token", redact.Mark), slog.String("path", r.Path))
}

var (
	_ fmt.Formatter  = Record{}
	_ slog.LogValuer = Record{}
)

// Dir returns the discovery directory: $HTTPTOP_DIR when set, else
// httptop under the user's configuration directory, else (no home
// directory) httptop-UID under the system's temporary directory. It does
// not create it.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return filepath.Abs(d)
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "httptop"), nil
	}
	return filepath.Join(os.TempDir(), "httptop-"+strconv.Itoa(os.Geteuid())), nil
}

// Path returns the path of pid's discovery file in dir.
func Path(dir string, pid int) string {
	return filepath.Join(dir, strconv.Itoa(pid)+".json")
}

// Write writes r into dir as r.PID's discovery file, atomically and with
// mode 0600, creating dir with mode 0700 when it does not exist. It
// refuses a directory other users could write to. It returns the file's
// path.
func Write(dir string, r Record) (string, error) {
	if r.PID <= 0 {
		return "", fmt.Errorf("discovery: write: invalid pid %d", r.PID)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("discovery: create directory: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("discovery: encode: %w", err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(dir, "."+strconv.Itoa(r.PID)+"-*.tmp") // mode 0600
	if err != nil {
		return "", fmt.Errorf("discovery: write: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("discovery: write: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return "", fmt.Errorf("discovery: write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("discovery: write: %w", err)
	}
	path := Path(dir, r.PID)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("discovery: write: %w", err)
	}
	return path, nil
}

// Read reads one discovery file. A file that is too large, is not one
// JSON record, or lacks a pid, an address or a token is an error.
func Read(path string) (Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return Record{}, fmt.Errorf("discovery: read: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Record{}, fmt.Errorf("discovery: read %s: %w", path, err)
	}
	r, err := Parse(data)
	if err != nil {
		return Record{}, fmt.Errorf("discovery: read %s: %w", path, err)
	}
	r.Path = path
	return r, nil
}

// Parse decodes the content of a discovery file, strictly: at most 16 KiB,
// exactly one JSON object, with a positive pid, a known network, an
// address and a token.
func Parse(data []byte) (Record, error) {
	if len(data) > maxFileSize {
		return Record{}, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, errors.New("decode: data after the record")
	}
	switch {
	case r.PID <= 0:
		return Record{}, fmt.Errorf("invalid pid %d", r.PID)
	case r.Network != "tcp" && r.Network != "unix":
		return Record{}, fmt.Errorf("unknown network %q", r.Network)
	case r.Addr == "":
		return Record{}, errors.New("no address")
	case r.Token == "":
		return Record{}, errors.New("no token")
	}
	return r, nil
}

// Remove removes a discovery file; a file already gone is not an error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discovery: remove: %w", err)
	}
	return nil
}

// List returns the records in dir of processes that are running, sorted by
// pid. It removes the files of processes that are gone (and the leftovers
// of writes they did not finish), and skips files it cannot read or parse.
// A directory that does not exist holds no records.
//
// It removes only what it can tell is a discovery file: a regular file of
// this user, named after a pid that no process has, holding a record of
// that pid (or, for a leftover of Write, nothing at all). $HTTPTOP_DIR may
// name any directory, and files of the user's that happen to be named
// like ours stay.
func List(dir string) ([]Record, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: list: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	var recs []Record
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if !e.Type().IsRegular() {
			continue
		}
		if pid, ok := tempPID(name); ok {
			if !Alive(pid) {
				removeStale(path, pid, true)
			}
			continue
		}
		pid, ok := filePID(name)
		if !ok {
			continue
		}
		if !Alive(pid) {
			removeStale(path, pid, false)
			continue
		}
		r, err := Read(path)
		if err != nil || r.PID != pid {
			continue
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].PID < recs[j].PID })
	return recs, nil
}

// removeStale removes path, named after pid, which no process has, if it
// is a discovery file: a regular file of this user holding pid's record,
// or, when it is a leftover of Write (temp), empty.
func removeStale(path string, pid int, temp bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) || fi.Size() > maxFileSize {
		return
	}
	if !(temp && fi.Size() == 0) {
		r, err := Read(path)
		if err != nil || r.PID != pid {
			return
		}
	}
	os.Remove(path)
}

// filePID returns the pid a discovery file's name carries.
func filePID(name string) (int, bool) {
	s, ok := strings.CutSuffix(name, ".json")
	if !ok {
		return 0, false
	}
	return parsePID(s)
}

// tempPID returns the pid in the name of a temporary file Write creates.
func tempPID(name string) (int, bool) {
	if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".tmp") {
		return 0, false
	}
	s, _, ok := strings.Cut(name[1:], "-")
	if !ok {
		return 0, false
	}
	return parsePID(s)
}

func parsePID(s string) (int, bool) {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != s {
		return 0, false
	}
	return pid, true
}
