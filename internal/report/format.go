package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
)

// hostLabel names a host for people as the dashboard does: "client →
// scheme://host" (snapshot.Origin: the default port left out), or without
// the client when it has none.
func hostLabel(client, scheme, host string) string {
	u := snapshot.Origin(scheme, host)
	if client == "" {
		return u
	}
	return client + " → " + u
}

// Label returns the host's name as the report shows it.
func (h *HostReport) Label() string { return hostLabel(h.Client, h.Scheme, h.Host) }

// fmtMs formats a duration in milliseconds as everything httptop shows
// does (units.Ms): 420µs, 4.21ms, 420ms, 4.20s.
func fmtMs(ms float64) string { return units.Ms(ms) }

// fmtNum formats a count or a rate: one decimal below 1000, none above.
func fmtNum(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fmtRate formats a per-second rate: two decimals below 10, one below
// 1000, none above.
func fmtRate(v float64) string {
	if math.Abs(v) < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return fmtNum(v)
}

// fmtPct formats a fraction as a percentage.
func fmtPct(f float64) string {
	p := f * 100
	if p != 0 && math.Abs(p) < 10 && math.Abs(p-math.Round(p)) >= 0.05 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// fmtSeconds formats a span of seconds: 20 s, 1.5 s, 30 min.
func fmtSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d > 0 && d < time.Second:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + " s"
}

// fmtPool formats a pool as "open/limit": 4/4, 12/∞ (no limit), 12/?
// (limit unknown).
func fmtPool(p Pool) string {
	switch {
	case !p.LimitsKnown:
		return strconv.Itoa(p.PeakOpen) + "/?"
	case p.Limit <= 0:
		return strconv.Itoa(p.PeakOpen) + "/∞"
	}
	return strconv.Itoa(p.PeakOpen) + "/" + strconv.Itoa(p.Limit)
}

// fmtValue formats a profile value of the given unit: nanoseconds as a
// duration, bytes as bytes, anything else as a number.
func fmtValue(v int64, unit string) string {
	switch unit {
	case "nanoseconds":
		return fmtMs(float64(v) / 1e6)
	case "bytes":
		return fmtBytes(v)
	}
	return strconv.FormatInt(v, 10)
}

// fmtBytes formats a size in bytes with a binary unit.
func fmtBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + " B"
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(b)/float64(div), 'f', 1, 64) + " " + "KMGTPE"[exp:exp+1] + "iB"
}

// fmtEvidence formats a diagnosis' evidence value: integers without
// decimals.
func fmtEvidence(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// verdict says in a few sentences what Little's law and the queueing model
// make of a host's pool, and which limit binds first: the pool or the
// CPU (cpu, nil when unknown). hr.Little must be filled in except
// Verdict.
func verdict(hr *HostReport, cpu *CPU) string {
	lt := &hr.Little
	if hr.DialOnly {
		return dialOnlyVerdict(hr)
	}
	var b strings.Builder
	leaking := hr.Pool.PeakLeaked > 0
	if leaking {
		fmt.Fprintf(&b, "Up to %s left open and unread (see body_leak), each holding a connection no request needed: closing them is the fix, "+
			"and the figures below count only requests awaiting their response. ",
			plural(hr.Pool.PeakLeaked, "response body was", "response bodies were"))
	}
	if lt.Lambda <= 0 || lt.Service <= 0 {
		return b.String() + "No requests completed during the capture, so there is nothing to size."
	}
	if lt.NotApplicable == NotApplicableHTTP2 {
		fmt.Fprintf(&b, "HTTP/2: one connection carries many requests at once, so the pool is not sized by Little's law here; "+
			"λ·W = %s req/s × %s = %s requests in flight on average, over at most %s.",
			fmtNum(lt.Lambda), fmtMs(lt.Service), fmtRate(lt.Load), plural(hr.Pool.PeakOpen, "connection", "connections"))
		return b.String() + cpuLimitText(hr, cpu)
	}
	writeLoadText(&b, hr)
	writeWaitText(&b, hr)
	raise := writeSizeText(&b, hr, leaking)
	if change, ok := poolChange(hr, cpu); raise && ok {
		// What the new size should bring, and what would stop it.
		b.WriteString(" " + change.Outcome())
		if !strings.HasSuffix(b.String(), ".") {
			b.WriteString(".")
		}
		return b.String()
	}
	return b.String() + cpuLimitText(hr, cpu)
}

// dialOnlyVerdict is the verdict of a dial-only host: what little was
// seen of it, and why there is nothing to size.
func dialOnlyVerdict(hr *HostReport) string {
	s := "httptop saw this client's connections, not its requests (dial only: its transport was cloned from an instrumented one, " +
		"or shares one, without probe.Wrap)"
	if hr.RequestsStarted > 0 {
		s += fmt.Sprintf(": about %s requests started per second, over at most %s", fmtNum(hr.StartsPerSecond),
			plural(hr.Pool.PeakOpen, "connection", "connections"))
	}
	return s + ". Their latency, their waits and the pool's limit are unknown, so there is nothing to size: wrap the transport with probe.Wrap to see them."
}

// writeLoadText writes the sentence of a verdict that gives the load λ·W
// and how it compares with the pool's limit.
func writeLoadText(b *strings.Builder, hr *HostReport) {
	lt := &hr.Little
	fmt.Fprintf(b, "λ·W = %s req/s × %s = %s connections busy on average",
		fmtNum(lt.Lambda), fmtMs(lt.Service), fmtRate(lt.Load))
	switch lt.Relation {
	case "unlimited":
		if hr.Pool.LimitsKnown {
			b.WriteString("; the pool has no limit (MaxConnsPerHost is 0)")
		} else {
			b.WriteString("; the pool's limit is unknown (the client's RoundTripper is not an *http.Transport)")
		}
		fmt.Fprintf(b, " and at most %s open at once.", plural(hr.Pool.PeakOpen, "connection was", "connections were"))
	default:
		fmt.Fprintf(b, ", against a pool of N = %d (λ ÷ N × W = %s)", lt.N, fmtPct(lt.Utilisation))
		switch lt.Relation {
		case "below":
			b.WriteString(": λ·W is below N.")
		case "at":
			b.WriteString(": λ·W equals N, the pool runs at its limit.")
		case "above":
			b.WriteString(": λ·W exceeds N, so part of what counts as service time is spent waiting elsewhere (dialing, HTTP/2 streams).")
		}
	}
}

// writeWaitText writes the sentences of a verdict on how long requests
// wait for a connection, and whether the pool is the bottleneck.
func writeWaitText(b *strings.Builder, hr *HostReport) {
	lt := &hr.Little
	if hr.Pool.MeanWaiting >= 0.05 {
		share := ""
		if lt.MeanLatency > 0 {
			share = ", " + fmtPct(lt.MeanConnWait/lt.MeanLatency) + " of latency"
		}
		fmt.Fprintf(b, " Requests wait %s for a connection on average (%s waiting at any time%s)",
			fmtMs(lt.MeanConnWait), fmtNum(hr.Pool.MeanWaiting), share)
		if hr.Churn.NewFraction >= 0.1 {
			fmt.Fprintf(b, "; the %s of requests that get a new connection wait for its dial and handshake", fmtPct(hr.Churn.NewFraction))
		}
		b.WriteString(".")
	} else {
		fmt.Fprintf(b, " Requests rarely wait for a connection (%s mean wait).", fmtMs(lt.MeanConnWait))
	}
	if lt.Saturated {
		fmt.Fprintf(b, " The pool is the bottleneck: %s req/s is what %d connections carry at %s each (N ÷ W = %s req/s), so the demand behind it is at least the %s requests in flight on average.",
			fmtNum(lt.Lambda), lt.N, fmtMs(lt.Service), fmtNum(float64(lt.N)*1000/lt.Service), fmtNum(hr.Pool.MeanInFlight))
	}
}

// writeSizeText writes the sentences of a verdict that size the pool:
// what the M/M/N model asks for, what to set MaxConnsPerHost and
// MaxIdleConnsPerHost to (leaking: bodies are left unread, so the peak
// in flight does not size the idle pool). It reports whether it advises
// raising MaxConnsPerHost.
func writeSizeText(b *strings.Builder, hr *HostReport, leaking bool) (raise bool) {
	lt := &hr.Little
	fmt.Fprintf(b, " For an M/M/N queue at %s Erlangs the smallest pool with P(wait) < %s is %d",
		fmtRate(lt.Demand), fmtPct(TargetWaitProbability), lt.ErlangN)
	if lt.Capped {
		fmt.Fprintf(b, "; no more than %d requests were in flight at once, so %d connections suffice", hr.Pool.PeakInFlight, lt.Recommended)
	}
	b.WriteString(".")
	raise = lt.N > 0 && lt.Recommended > lt.N
	switch {
	case raise:
		fmt.Fprintf(b, " Raise MaxConnsPerHost from %d to %d", lt.N, lt.Recommended)
	case lt.N > 0 && lt.Capped:
		// The model's P(wait) is for open arrivals; what was measured
		// says more.
		fmt.Fprintf(b, " The pool of %d is large enough: it holds the most requests ever in flight at once (%d)", lt.N, hr.Pool.PeakInFlight)
	case lt.N > 0:
		fmt.Fprintf(b, " The pool of %d is large enough (P(wait) = %s)", lt.N, fmtPct(lt.PWait))
	default:
		fmt.Fprintf(b, " A limit, if you set one, should be at least %d", lt.Recommended)
	}
	// The idle pool must hold what bursts need, not only the mean: with
	// requests fanned out in batches the peak in flight is what churns.
	idle := max(lt.Recommended, hr.Pool.PeakInFlight)
	if lt.N > 0 {
		idle = min(idle, max(lt.N, lt.Recommended))
	}
	if hr.Pool.LimitsKnown && hr.Pool.MaxIdle > 0 && hr.Pool.MaxIdle < idle && !leaking {
		fmt.Fprintf(b, ", and MaxIdleConnsPerHost from %d to %d so those connections stay open between requests", hr.Pool.MaxIdle, idle)
		if idle > lt.Recommended {
			b.WriteString(" (the peak in flight: requests come in bursts)")
		}
	}
	b.WriteString(".")
	return raise
}

// cpuLimitText says where the CPU stops the host's throughput, for a
// verdict that advises no new pool size; "" when unknown.
func cpuLimitText(hr *HostReport, cpu *CPU) string {
	lt := &hr.Little
	if cpu == nil || lt.CPUCeilingRPS <= 0 {
		return ""
	}
	per := fmtMs(cpu.CPUPerRequestMs) + " of CPU per request"
	if top := cpu.topCode(); top != "" {
		per += " (" + top + ")"
	}
	if bottleneck.CPUBound(cpu.Used.Median, cpu.Cores) {
		return fmt.Sprintf(" The CPU is the limit now: the process used %s of the %s it may use, at %s; this host gets at most ~%s req/s with its other traffic as now.",
			fmtRate(cpu.Used.Median), fmtCores(cpu.Cores), per, fmtWhole(lt.CPUCeilingRPS))
	}
	return fmt.Sprintf(" Beyond ~%s req/s to this host (its other traffic as now) the CPU is the limit: %s, %s.",
		fmtWhole(lt.CPUCeilingRPS), per, fmtCores(cpu.Cores))
}

// plural returns "1 thing was" or "n things were".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// hostCells are a host's cells in the hosts table of report.md and
// report.html: req/s, p50, p95, p99, conn-wait p95, pool, waiting, new
// conns/s. A dial-only host's request figures are unknown ("?"); its
// req/s counts requests seen starting ("~12 started").
func hostCells(h *HostReport) []string {
	if h.DialOnly {
		rps := "?"
		if h.RequestsStarted > 0 {
			rps = "~" + fmtNum(h.StartsPerSecond) + " started"
		}
		return []string{rps, "?", "?", "?", "?", fmtPool(h.Pool), "?", "?"}
	}
	return []string{fmtNum(h.RPS), fmtMs(h.Latency.P50), fmtMs(h.Latency.P95), fmtMs(h.Latency.P99), fmtMs(h.ConnWait.P95),
		fmtPool(h.Pool), fmtNum(h.Pool.MeanWaiting), fmtRate(h.Churn.NewPerSecond)}
}

// notSizedText says why a host gets no pool sizing, or "" when it does.
func notSizedText(lt *Little) string {
	switch lt.NotApplicable {
	case NotApplicableDialOnly:
		return "not sized: dial only"
	case NotApplicableHTTP2:
		return "not sized: HTTP/2"
	}
	return ""
}
