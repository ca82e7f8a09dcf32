package flame

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"
)

// WriteFile writes p to the named file in pprof format (gzipped protobuf, the
// .pb.gz that go tool pprof reads). It writes to a temporary file in the same
// directory and renames it into place, so a reader never sees half a
// profile and a failed write leaves no file behind. The file is created with
// mode 0600, since function names can reveal more about a program than its
// owner wants to share.
func WriteFile(name string, p *profile.Profile) (err error) {
	if p == nil {
		return fmt.Errorf("flame: write %s: nil profile", name)
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("flame: write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := p.Write(bw); err != nil {
		return fmt.Errorf("flame: write %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flame: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("flame: write %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("flame: write %s: %w", name, err)
	}
	return nil
}
