package agent

import (
	"testing"
	"testing/fstest"
)

// TestCgroupCPULimit reads the CPU limit from the files a Linux host
// shows, for cgroup v2 and v1, nested and in a container's namespace.
func TestCgroupCPULimit(t *testing.T) {
	const (
		v2Mount = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
		v1Mount = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
			"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	)
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  float64
		ok    bool
	}{
		{"v2, a quota of 1.5 cores", fstest.MapFS{
			"proc/self/cgroup":                            file("0::/app.slice/app.service\n"),
			"proc/self/mountinfo":                         file(v2Mount),
			"sys/fs/cgroup/app.slice/app.service/cpu.max": file("150000 100000\n"),
		}, 1.5, true},
		{"v2, the parent's limit is smaller", fstest.MapFS{
			"proc/self/cgroup":                            file("0::/app.slice/app.service\n"),
			"proc/self/mountinfo":                         file(v2Mount),
			"sys/fs/cgroup/app.slice/app.service/cpu.max": file("max 100000\n"),
			"sys/fs/cgroup/app.slice/cpu.max":             file("50000 100000\n"),
		}, 0.5, true},
		{"v2, no limit", fstest.MapFS{
			"proc/self/cgroup":                 file("0::/user.slice\n"),
			"proc/self/mountinfo":              file(v2Mount),
			"sys/fs/cgroup/user.slice/cpu.max": file("max 100000\n"),
		}, 0, false},
		{"v2, a container's namespace", fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file("500 400 0:26 / /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/cpu.max": file("200000 100000\n"),
		}, 2, true},
		{"v1, a quota of 3 cores", fstest.MapFS{
			"proc/self/cgroup":    file("11:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n"),
			"proc/self/mountinfo": file(v1Mount),
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  file("300000\n"),
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": file("100000\n"),
		}, 3, true},
		{"v1, no quota (this machine)", fstest.MapFS{
			"proc/self/cgroup":                            file("4:cpu,cpuacct:/\n"),
			"proc/self/mountinfo":                         file(v1Mount),
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  file("-1\n"),
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": file("100000\n"),
		}, 0, false},
		{"no cgroup files", fstest.MapFS{}, 0, false},
	}
	for _, tt := range tests {
		got, ok := cgroupCPULimit(tt.files)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUsableCores(t *testing.T) {
	for _, tt := range []struct {
		procs, cpus int
		limit, want float64
	}{
		{2, 2, 0, 2}, {2, 8, 0, 2}, {8, 2, 0, 2}, {2, 8, 1.5, 1.5}, {2, 8, 0.5, 0.5}, {4, 8, 6, 4},
	} {
		if got := usableCores(tt.procs, tt.cpus, tt.limit); got != tt.want {
			t.Errorf("usableCores(%d, %d, %v) = %v, want %v", tt.procs, tt.cpus, tt.limit, got, tt.want)
		}
	}
}
