package poolstats

import "github.com/httptop/httptop/snapshot"

func fillAt(s *Stats, now int64) *snapshot.Snapshot {
	var snap snapshot.Snapshot
	s.Fill(&snap, now)
	return &snap
}
