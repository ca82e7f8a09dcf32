#!/usr/bin/env bash
# run.sh measures what httptop and its peers add to a keep-alive loopback
# GET and prints the README's table: the round robin (cmd/roundrobin) and
# the separate benchmarks (BenchmarkGet), with the machine and Go version.
#
#   bench/run.sh                      # about 5 minutes on 2 vCPUs
#   OUT=/tmp/after bench/run.sh       # keep the raw results there
#   HTTPTOP=/tmp/old bench/run.sh     # measure another httptop tree (e.g.
#                                     # `git archive <commit> | tar -x -C /tmp/old`)
#   BEFORE=<commit> bench/run.sh      # also measure httptop at <commit>, as the
#                                     # variant httptop-before, in the same runs
#
# Settings (environment): ROUNDS (10) rounds of N (10000) requests per
# variant in the round robin, VARIANTS (all eight, bare first); COUNT (10)
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
if [ -n "${BEFORE:-}" ]; then
	VARIANTS=${VARIANTS:-bare,withcontext,lean,httpstat,httptop,httptop-before,promhttp,otelhttp-noop,otelhttp-sdk}
else
	VARIANTS=${VARIANTS:-bare,withcontext,lean,httpstat,httptop,promhttp,otelhttp-noop,otelhttp-sdk}
fi
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$(mktemp -d -t httptop-bench.XXXXXX)}
mkdir -p "$OUT"

modflags=()
if [ -n "${HTTPTOP:-}" ] || [ -n "${BEFORE:-}" ]; then
	cp go.mod "$OUT/go.mod"
	cp go.sum "$OUT/go.sum"
	modflags=(-modfile="$OUT/go.mod")
fi
if [ -n "${HTTPTOP:-}" ]; then
	# Measure the httptop tree at $HTTPTOP instead of ../, through a copy
	# of go.mod that points there.
	dir=$(cd "$HTTPTOP" && pwd)
	go mod edit -modfile="$OUT/go.mod" -replace "github.com/httptop/httptop=$dir"
fi
if [ -n "${BEFORE:-}" ]; then
	# httptop at $BEFORE, renamed github.com/httptop/httptop-before so
	# that both build into one program. The variant httptop-before is a
	# file of the bench package that exists only in this run's overlay
	# (go build -overlay): in the tree it would make the module import a
	# module no proxy serves, and go mod tidy fail.
	bdir="$OUT/httptop-before"
	rm -rf "$bdir" && mkdir -p "$bdir"
	git -C .. archive "$BEFORE" -- . ':!bench' | tar -x -C "$bdir"
	(cd "$bdir" && go mod edit -module github.com/httptop/httptop-before &&
		grep -rl '"github.com/httptop/httptop/' --include='*.go' . | xargs sed -i 's#"github.com/httptop/httptop/#"github.com/httptop/httptop-before/#g')
	go mod edit -modfile="$OUT/go.mod" -require github.com/httptop/httptop-before@v0.0.0 -replace "github.com/httptop/httptop-before=$bdir"
	cat > "$OUT/before_variant.go" <<'GO'
package bench

import (
	"net/http"

	before "github.com/httptop/httptop-before/probe"
)

// The variant httptop-before: httptop at an earlier commit (run.sh's
// BEFORE), beside the current one in the same round robin.
func init() {
	extraVariants = append(extraVariants, Variant{"httptop-before", func(tr *http.Transport) Client {
		return newRTClient(tr, before.Wrap(tr, before.WithCollector(before.NewCollector(before.CollectorOptions{}))), nil)
	}})
}
GO
	printf '{"Replace": {"%s": "%s"}}\n' "$PWD/before_variant.go" "$OUT/before_variant.go" > "$OUT/overlay.json"
	modflags+=(-overlay "$OUT/overlay.json")
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
at=${HTTPTOP:-..}
rev="not a git checkout"
if git -C "$at" rev-parse --git-dir >/dev/null 2>&1; then
	rev=$(git -C "$at" rev-parse --short HEAD)
	git -C "$at" diff --quiet HEAD -- . ':!bench' || rev="$rev, with changes"
fi
machine="Machine: ${cpu:-unknown CPU}, $(nproc) cores; $(go version | cut -d' ' -f3-); httptop at $(cd "$at" && pwd) ($rev)${BEFORE:+; httptop-before at $BEFORE}"
echo "$machine" | tee "$OUT/machine.txt" >&2

echo "round robin: $ROUNDS rounds of $N requests per variant ($VARIANTS)" >&2
go run "${modflags[@]}" ./cmd/roundrobin -variants "$VARIANTS" -rounds "$ROUNDS" -n "$N" | tee "$OUT/rr.txt" | grep '^#' >&2

echo "separate benchmarks: -count $COUNT -benchtime $BENCHTIME" >&2
go test "${modflags[@]}" -run '^$' -bench 'Get/' -count "$COUNT" -benchtime "$BENCHTIME" . > "$OUT/get.txt"

echo >&2
go run "${modflags[@]}" ./cmd/peertable -rr "$OUT/rr.txt" -get "$OUT/get.txt" -machine "$machine"
echo >&2
echo "raw results: $OUT" >&2
