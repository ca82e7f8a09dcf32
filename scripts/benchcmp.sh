#!/usr/bin/env bash
# benchcmp.sh runs the probe's own benchmarks and compares them with the
# committed baseline (probe/testdata/bench-baseline.txt) using benchstat.
#
#   scripts/benchcmp.sh            # compare the working tree with the baseline
#   scripts/benchcmp.sh -update    # replace the baseline with this run
#
# Settings (environment): COUNT (6) runs of each benchmark, BENCH (the
# regexp below), OUT (where this run's results go; a temporary file by
# default). A regression shows as a positive delta with p < 0.05; on a
# shared machine, rerun before believing one below ~10%.
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=probe/testdata/bench-baseline.txt
COUNT=${COUNT:-6}
BENCH=${BENCH:-'^(BenchmarkInMemory|BenchmarkLoopback|BenchmarkCallers|BenchmarkFill)$'}
OUT=${OUT:-$(mktemp -t httptop-bench.XXXXXX)}
BENCHSTAT=(go run golang.org/x/perf/cmd/benchstat@latest)

update=false
case "${1:-}" in
-update) update=true ;;
"") ;;
*) echo "usage: $0 [-update]" >&2; exit 2 ;;
esac

echo "running benchmarks ($COUNT runs each) into $OUT" >&2
{
	go test ./probe ./tracer ./poolstats -run '^$' -bench "$BENCH" -count "$COUNT" -benchmem
	# Memory per tracked object: a fixed number of objects.
	go test ./probe -run '^$' -bench '^BenchmarkMemoryPerObject$' -count "$COUNT" -benchtime 2000x
} 2>&1 | grep -v '^ok\|^PASS' > "$OUT"

if $update; then
	cp "$OUT" "$BASELINE"
	echo "baseline updated: $BASELINE" >&2
	exit 0
fi
if [ ! -s "$BASELINE" ]; then
	echo "no baseline at $BASELINE: run $0 -update" >&2
	exit 1
fi
"${BENCHSTAT[@]}" "$BASELINE" "$OUT"
