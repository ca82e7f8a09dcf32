package agent

import (
	"bufio"
	"bytes"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// cgroupCPULimit returns the CPU bandwidth limit of the process's cgroup,
// in cores (quota ÷ period), the smallest along its cgroup and the
// cgroup's ancestors, as the Go runtime reads it to set GOMAXPROCS's
// default; ok is false when there is none or it cannot be read. fsys is
// the root file system ("/" in production): the process's cgroup comes
// from proc/self/cgroup, the mount points of the cgroup file systems
// from proc/self/mountinfo, and the limits from cpu.max (cgroup v2) or
// cpu.cfs_quota_us and cpu.cfs_period_us (v1, the cpu controller).
//
// It costs a few small file reads; the sampler reads it at most every
// cgroupEvery.
func cgroupCPULimit(fsys fs.FS) (cores float64, ok bool) {
	cg, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	mi, err := fs.ReadFile(fsys, "proc/self/mountinfo")
	if err != nil {
		return 0, false
	}
	v1Path, v2Path, hasV1, hasV2 := parseProcCgroup(cg)
	best := math.Inf(1)
	for _, m := range parseCgroupMounts(mi) {
		var rel string
		switch {
		case m.v2 && hasV2:
			rel = v2Path
		case !m.v2 && hasV1:
			rel = v1Path
		default:
			continue
		}
		// The cgroup's path is relative to the hierarchy's root; the
		// mount shows the part of the hierarchy below m.root.
		sub, within := strings.CutPrefix(rel, m.root)
		if !within || (sub != "" && !strings.HasPrefix(sub, "/") && m.root != "/") {
			continue
		}
		dir := path.Join(m.point, sub)
		for {
			if c, ok := readCPULimit(fsys, dir, m.v2); ok {
				best = min(best, c)
			}
			if dir == m.point || dir == "/" || dir == "." {
				break
			}
			dir = path.Dir(dir)
		}
	}
	if math.IsInf(best, 1) {
		return 0, false
	}
	return best, true
}

// readCPULimit reads the limit of the cgroup directory dir (an absolute
// path).
func readCPULimit(fsys fs.FS, dir string, v2 bool) (float64, bool) {
	name := func(file string) string { return strings.TrimPrefix(path.Join(dir, file), "/") }
	if v2 {
		data, err := fs.ReadFile(fsys, name("cpu.max"))
		if err != nil {
			return 0, false
		}
		f := strings.Fields(string(data))
		if len(f) != 2 || f[0] == "max" {
			return 0, false
		}
		quota, err1 := strconv.ParseFloat(f[0], 64)
		period, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
			return 0, false
		}
		return quota / period, true
	}
	q, err := fs.ReadFile(fsys, name("cpu.cfs_quota_us"))
	if err != nil {
		return 0, false
	}
	p, err := fs.ReadFile(fsys, name("cpu.cfs_period_us"))
	if err != nil {
		return 0, false
	}
	quota, err1 := strconv.ParseFloat(strings.TrimSpace(string(q)), 64)
	period, err2 := strconv.ParseFloat(strings.TrimSpace(string(p)), 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0, false // -1: no limit
	}
	return quota / period, true
}

// parseProcCgroup reads /proc/self/cgroup: the path of the process's
// cgroup in the v1 hierarchy of the cpu controller, and in the unified
// (v2) hierarchy.
func parseProcCgroup(data []byte) (v1, v2 string, hasV1, hasV2 bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		id, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		ctrls, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if id == "0" && ctrls == "" {
			v2, hasV2 = p, true
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "cpu" {
				v1, hasV1 = p, true
			}
		}
	}
	return v1, v2, hasV1, hasV2
}

// cgroupMount is a mounted cgroup file system: v2, or v1 with the cpu
// controller.
type cgroupMount struct {
	root, point string
	v2          bool
}

// parseCgroupMounts reads /proc/self/mountinfo for the cgroup file
// systems that carry CPU limits.
func parseCgroupMounts(data []byte) []cgroupMount {
	var out []cgroupMount
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// ID parent major:minor root mount-point options [optional...] - fstype source super-options
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 {
			continue
		}
		m := cgroupMount{root: unescapeMount(f[3]), point: unescapeMount(f[4])}
		switch g[0] {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			if len(g) < 3 || !hasOption(g[2], "cpu") {
				continue
			}
		default:
			continue
		}
		out = append(out, m)
	}
	return out
}

// hasOption reports whether a comma-separated option list holds opt.
func hasOption(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
