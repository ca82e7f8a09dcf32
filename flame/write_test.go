package flame

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/golden"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "cpu.pb.gz")
	p := fixtureProfile()
	if err := WriteFile(name, p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	q, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("parse written profile: %v", err)
	}
	var a, b bytes.Buffer
	if err := Folded(&a, p, -1); err != nil {
		t.Fatal(err)
	}
	if err := Folded(&b, q, -1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("profile changed across WriteFile:\n%s", golden.Diff(a.String(), b.String()))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the profile (temporary file left behind?)", len(entries))
	}

	if err := WriteFile(filepath.Join(dir, "missing", "x.pb.gz"), p); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if err := WriteFile(filepath.Join(dir, "nil.pb.gz"), nil); err == nil {
		t.Error("WriteFile of a nil profile succeeded")
	}
}
