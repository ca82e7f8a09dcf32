// Package diff compares two captures of a program, before and after a
// change (a larger pool, a cheaper JSON decoder): `httptop diff BEFORE
// AFTER` and `httptop capture --baseline DIR`.
//
// Build takes the two captures with their reports (package report, whose
// figures it reuses, so that the diff and each report agree) and
// computes a Diff:
//
//   - Hosts are matched by client, scheme and host; by --match old=new
//     rules for hosts whose address changed (HostMatch); and, for a client
//     left with one host in each capture, those two. Per host: req/s,
//     p50/p95/p99, conn-wait p95, waiting, pool open and limit, new
//     conns/s, reuse, TLS memory per connection and errors/s, before and
//     after, with whether the change is beyond noise.
//   - Noise: Welch's t-test on the per-second values behind each figure
//     (the per-second series the reports keep), two-sided at Alpha, and a
//     change of at least MinRelativeChange of the before figure and a
//     floor per figure, so that two captures of an unchanged workload
//     flag nothing (Noise.Text says it all; diff.md and diff.html show
//     it). The per-second series stores each second's mean and maximum
//     latency, not its quantiles: p50 is tested on the per-second mean,
//     p95 and p99 on the per-second maximum, conn-wait p95 on the
//     per-second mean wait.
//   - Diagnoses that appeared, went or stayed, with their evidence side by
//     side, and the pool sizing (Little's law, Erlang C, the recommended
//     pool) of both reports.
//   - Code: the CPU and wall-clock profiles' cost per request (the
//     requests all instrumented clients completed while each profile ran),
//     by package and by function (Views; the attribution views of package
//     flame plug in as more Views), the largest changes first.
//
// A Diff renders as diff.json (WriteJSON), diff.md (WriteMarkdown),
// diff.html (WriteHTML: one self-contained page in the report's style,
// charts as inline SVG) and a few lines for the terminal (WriteSummary).
// Write puts them in a directory together with, per profile kind, a
// differential flame graph (flame.DiffSVG: the after profile's frames,
// coloured by their change per request) and the two profiles scaled to
// cost per request, which `go tool pprof -diff_base cpu-before.pb.gz
// cpu-after.pb.gz` compares.
package diff
