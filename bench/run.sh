#!/usr/bin/env bash
# run.sh measures what httptop and its peers add to a keep-alive loopback
# GET and prints the README's table: the round robin (cmd/roundrobin) and
# the separate benchmarks (BenchmarkGet), with the machine and Go version.
#
#   bench/run.sh                      # about 5 minutes on 2 vCPUs
#   OUT=/tmp/after bench/run.sh       # keep the raw results there
#   HTTPTOP=/tmp/old bench/run.sh     # measure another httptop tree (e.g.
#                                     # `git archive <commit> | tar -x -C /tmp/old`)
#
# Settings (environment): ROUNDS (10) rounds of N (10000) requests per
# variant in the round robin, VARIANTS (all seven, bare first); COUNT (10)
# runs of BENCHTIME (1s) for each separate benchmark. Raw results go to OUT
# (a new temporary directory by default): rr.txt and get.txt, in the Go
# benchmark format, which benchstat reads:
#
#   go run golang.org/x/perf/cmd/benchstat -col /v OUT/get.txt
#   go run golang.org/x/perf/cmd/benchstat -filter '/v:httptop' before/get.txt after/get.txt
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-10}
N=${N:-10000}
VARIANTS=${VARIANTS:-bare,lean,httpstat,httptop,promhttp,otelhttp-noop,otelhttp-sdk}
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$(mktemp -d -t httptop-bench.XXXXXX)}
mkdir -p "$OUT"

modflags=()
if [ -n "${HTTPTOP:-}" ]; then
	# Measure the httptop tree at $HTTPTOP instead of ../, through a copy
	# of go.mod that points there.
	dir=$(cd "$HTTPTOP" && pwd)
	cp go.mod "$OUT/go.mod"
	cp go.sum "$OUT/go.sum"
	go mod edit -modfile="$OUT/go.mod" -replace "github.com/httptop/httptop=$dir"
	modflags=(-modfile="$OUT/go.mod")
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
machine="Machine: ${cpu:-unknown CPU}, $(nproc) cores; $(go version | cut -d' ' -f3-); httptop at ${HTTPTOP:-$(cd .. && pwd)} ($(git -C "${HTTPTOP:-..}" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')$(git -C "${HTTPTOP:-..}" diff --quiet HEAD 2>/dev/null || echo ', with changes'))"
echo "$machine" | tee "$OUT/machine.txt" >&2

echo "round robin: $ROUNDS rounds of $N requests per variant ($VARIANTS)" >&2
go run "${modflags[@]}" ./cmd/roundrobin -variants "$VARIANTS" -rounds "$ROUNDS" -n "$N" | tee "$OUT/rr.txt" | grep '^#' >&2

echo "separate benchmarks: -count $COUNT -benchtime $BENCHTIME" >&2
go test "${modflags[@]}" -run '^$' -bench 'Get/' -count "$COUNT" -benchtime "$BENCHTIME" . > "$OUT/get.txt"

echo >&2
go run "${modflags[@]}" ./cmd/peertable -rr "$OUT/rr.txt" -get "$OUT/get.txt" -machine "$machine"
echo >&2
echo "raw results: $OUT" >&2
