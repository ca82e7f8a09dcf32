package capture

import "slices"

// RequestsDuring returns how many requests the capture's hosts completed
// while the profile ran: over its segments that succeeded, or the whole
// capture when it records none. The count at any instant is the sum of
// the hosts' request counters (Host.Requests) interpolated linearly
// between snapshots, a host's last count kept while no snapshot lists it.
func (c *Capture) RequestsDuring(info *ProfileInfo) float64 {
	n := len(c.Snapshots)
	if n == 0 {
		return 0
	}
	ts, rs := make([]float64, n), make([]float64, n)
	last := map[string]int64{}
	var sum int64
	for i := range c.Snapshots {
		s := &c.Snapshots[i]
		for _, h := range s.Hosts {
			k := HostKey(h.Client, h.Scheme, h.Host)
			sum += h.Requests - last[k]
			last[k] = h.Requests
		}
		ts[i], rs[i] = s.Time.Sub(c.Start).Seconds(), float64(sum)
	}
	at := func(t float64) float64 {
		i, _ := slices.BinarySearch(ts, t)
		switch {
		case i == 0:
			return rs[0]
		case i == n:
			return rs[n-1]
		case ts[i] == ts[i-1]:
			return rs[i]
		}
		f := (t - ts[i-1]) / (ts[i] - ts[i-1])
		return rs[i-1] + f*(rs[i]-rs[i-1])
	}
	var total float64
	windows := 0
	if info != nil {
		for _, sg := range info.Segments {
			if !sg.OK {
				continue
			}
			total += at(sg.Offset+min(sg.Requested, sg.Seconds)) - at(sg.Offset)
			windows++
		}
	}
	if windows == 0 {
		total = rs[n-1] - rs[0]
	}
	return max(total, 0)
}
