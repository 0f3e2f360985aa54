#!/bin/sh
# One workload of `scopenn bench` on 1 thread and on N threads while the
# machine is busy: more runnable threads than cores, as on an edge device
# that shares its CPU with camera capture, a UI and networking (issue 18).
#
#   bench/contended.sh [SCOPENN] [WORKLOAD] [N]
#       SCOPENN   the tool (default build/native/tools/scopenn)
#       WORKLOAD  a name `scopenn bench --help` lists (default resnet3x3)
#       N         the threads to compare with 1 (default 2)
#
# It starts HOGS busy loops of its own (default: cores + 3), each bounded by
# `timeout` and killed on exit, then times `scopenn bench WORKLOAD --threads
# 1` and `--threads N` ROUNDS times (default 7), alternating, each in its own
# process, so both see the same moments of the machine. Each figure is the
# median of its rounds' medians. It prints both, and their ratio
# (ms on N / ms on 1): the verdict is 0 if it is at most LIMIT (default
# 1.25), 1 if it is above, 2 if something failed. HOGS=0 measures without
# the hogs.
set -eu

scopenn=${1:-build/native/tools/scopenn}
workload=${2:-resnet3x3}
threads=${3:-2}
cores=$(nproc 2>/dev/null || echo 2)
hogs=${HOGS:-$((cores + 3))}
rounds=${ROUNDS:-7}
limit=${LIMIT:-1.25}

[ -x "$scopenn" ] || { echo "contended.sh: $scopenn is not built" >&2; exit 2; }

# Bounded even if this script is killed with SIGKILL: each hog stops after
# a while on its own.
hog_pids=
stop_hogs() {
  for p in $hog_pids; do kill "$p" 2>/dev/null || true; done
  for p in $hog_pids; do wait "$p" 2>/dev/null || true; done
  hog_pids=
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 2' INT TERM HUP

i=0
while [ "$i" -lt "$hogs" ]; do
  timeout 300 sh -c 'while :; do :; done' &
  hog_pids="$hog_pids $!"
  i=$((i + 1))
done
sleep 0.2 # let the hogs reach the run queues

# The median_ms of one `scopenn bench --json` run on T threads.
median_of_run() {
  "$scopenn" bench "$workload" --threads "$1" --json |
    sed -n 's/.*"median_ms":[[:space:]]*\([0-9.eE+-]*\).*/\1/p'
}

# The median of numbers, one a line.
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1;
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

one=
many=
r=0
while [ "$r" -lt "$rounds" ]; do
  m1=$(median_of_run 1)
  mn=$(median_of_run "$threads")
  [ -n "$m1" ] && [ -n "$mn" ] || { echo "contended.sh: scopenn bench failed" >&2; exit 2; }
  echo "round $((r + 1)): 1 thread $m1 ms, $threads threads $mn ms"
  one="$one $m1"
  many="$many $mn"
  r=$((r + 1))
done
stop_hogs

m1=$(echo "$one" | tr ' ' '\n' | grep . | median)
mn=$(echo "$many" | tr ' ' '\n' | grep . | median)
echo "$workload, $hogs hogs on $cores cores: median of $rounds medians:" \
  "1 thread $m1 ms, $threads threads $mn ms, ratio $(awk -v a="$mn" -v b="$m1" 'BEGIN {printf "%.2f", a / b}')" \
  "(limit $limit)"
awk -v a="$mn" -v b="$m1" -v l="$limit" 'BEGIN {exit !(a / b <= l)}'
