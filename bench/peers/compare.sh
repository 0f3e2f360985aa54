#!/bin/sh
# scopenn against XNNPACK and oneDNN on the named workloads of `scopenn
# bench`, at 1 and 2 threads: one table from one run (`make bench-peers`).
#
#   bench/peers/compare.sh [BUILD_DIR]     default build/peers
#
# BUILD_DIR holds tools/scopenn and bench/peers/peers (configure with
# -DSCOPENN_BENCH_PEERS=ON). First each peer's output is checked against
# scopenn's (peers --verify); then, for each workload and thread count in
# turn, scopenn (`scopenn bench NAME --threads T --json`) and each peer
# (`peers NAME --peer P --threads T`) are timed one after the other, each in
# its own process, ROUNDS times over, alternating, so that all of a row see
# the same moments of a noisy machine (whose speed drifts over seconds);
# each one's figure is the median of its rounds' medians. ratio = peer ms /
# scopenn ms: above 1, scopenn is faster. Below the table, scopenn's
# speed-up on each thread count over 1, from the same figures. % peak
# is of one peak for the whole table: the highest one-thread FMA peak that
# scopenn bench's probe measured in this run (each call measures it once, and
# a busy or slowed core only lowers it), times the threads. Every line
# measured is kept in BUILD_DIR/bench-peers.jsonl.
#
# Environment: THREADS (default "1 2"), WORKLOADS (default: all seven),
# ROUNDS (default 5), QUIET_WAIT and TRIES (below).
# Needs jq.
set -eu

build=${1:-build/peers}
scopenn=$build/tools/scopenn
peers=$build/bench/peers/peers
log=$build/bench-peers.jsonl
threads=${THREADS:-1 2}
workloads=${WORKLOADS:-seed_filter seed_filter_big resnet3x3 pointwise stem dense_mv dense_mm}

for f in "$scopenn" "$peers"; do
  [ -x "$f" ] || { echo "compare.sh: $f not built (make bench-peers builds it)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "compare.sh: needs jq (apt-get install jq)" >&2; exit 1; }
peer_names=$("$peers" --help | sed -n 's/^peers built in: //p' | tr ' ' '\n' | grep -vx scopenn |
             tr '\n' ' ')
[ -n "$peer_names" ] || { echo "compare.sh: no peer built into $peers" >&2; exit 1; }
: >"$log"
status=0

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
versions=$(dpkg-query -W -f='${Package} ${Version}  ' libxnnpack0 libdnnl2 2>/dev/null || true)
echo "cpu: ${model:-unknown}, $(nproc) online;" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peers: $versions"

# 1. The same layer, input and weights in scopenn and in each peer.
for t in $threads; do
  "$peers" all --verify --threads "$t" >>"$log" || status=1
done
echo "verify (|peer - scopenn| <= max(1e-4, 1e-3 |scopenn|) for every output of every" \
     "workload, threads $threads):"
jq -rs '[.[] | select(.check)] | group_by(.peer)[] |
  "  \(.[0].peer): \(map(select(.ok)) | length)/\(length) match;" +
  " max abs error \(map(.max_abs_error) | max);" +
  " worst error / tolerance \(map(.worst_error_over_tolerance) | max)"' "$log"
if jq -se 'map(select(.check and (.ok | not))) | length > 0' "$log" >/dev/null; then
  echo "VERIFY FAILED: a peer does not compute what scopenn does (see $log)" >&2
  status=1
fi

# 2. The timings, one row (workload, threads) at a time. Other processes
# on the machine (a build, a test run) take a core from a 2-thread run and
# can multiply its time many fold, so each row is measured when the
# machine is quiet: before it, wait (at most QUIET_WAIT seconds in all the
# run) until other processes use under 10% of a core; after it, if they
# used more during the row, measure the whole row again (at most TRIES
# times) and keep the quietest. The table shows what others used.
hz=$(getconf CLK_TCK)
quiet_wait=${QUIET_WAIT:-120}
tries_max=${TRIES:-3}
rounds=${ROUNDS:-5}
waited=0 # half-seconds
all_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
our_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; } # this shell's finished children
now() { cut -d' ' -f1 /proc/uptime; }
mark() { a0=$(all_ticks) o0=$(our_ticks) t0=$(now); }
# The CPU other processes used since `mark`, in % of one core.
others() {
  awk -v a="$(($(all_ticks) - a0))" -v o="$(($(our_ticks) - o0))" -v t0="$t0" -v t1="$(now)" \
      -v hz="$hz" 'BEGIN { t = t1 - t0; p = t > 0 ? 100 * (a - o) / (hz * t) : 0;
                           printf "%d\n", p < 0 ? 0 : p + 0.5 }'
}
wait_quiet() {
  while [ "$waited" -lt $((2 * quiet_wait)) ]; do
    mark
    sleep 0.5
    waited=$((waited + 1))
    [ "$(others)" -ge 10 ] || return 0
  done
}
measure_row() { # workload threads: its lines into $log.row, `round` 1 to $rounds
  : >"$log.row"
  r=1
  while [ "$r" -le "$rounds" ]; do
    "$scopenn" bench "$1" --threads "$2" --json >"$log.sn" || return 1
    jq -c --argjson r "$r" '{op, workload, peer: "scopenn", threads, median_ms, min_ms,
      iterations, gflops, macs, impl: .isa, peak_gflops, pct_peak, round: $r}' "$log.sn" \
      >>"$log.row"
    for p in $peer_names; do
      "$peers" "$1" --peer "$p" --threads "$2" | jq -c --argjson r "$r" '. + {round: $r}' \
        >>"$log.row" || return 1
    done
    r=$((r + 1))
  done
}
# A workload's thread counts one after the other, so that its speed-up on
# more threads compares moments close together.
for w in $workloads; do
  for t in $threads; do
    tries=0 best=
    while :; do
      tries=$((tries + 1))
      wait_quiet
      mark
      measure_row "$w" "$t" || status=1
      other=$(others)
      if [ -z "$best" ] || [ "$other" -lt "$best" ]; then
        best=$other
        mv "$log.row" "$log.best"
      fi
      if [ "$best" -lt 10 ] || [ "$tries" -ge "$tries_max" ]; then break; fi
    done
    jq -c --argjson other "$best" --argjson tries "$tries" \
      '. + {others_cpu_pct: $other, tries: $tries}' "$log.best" >>"$log"
  done
done
rm -f "$log.sn" "$log.row" "$log.best"

# 3. The table.
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
jq -rs '[.[] | select(.peer == "scopenn" and .peak_gflops)] | (map(.impl) | unique | join(", "))
  as $isa | map(.peak_gflops / .threads)
  | "peak: \($isa) \(max * 10 | round / 10) GFLOP/s per thread, the highest of \(length) probes" +
    " in this run (lowest \(min * 10 | round / 10)); % peak is of that x threads"' "$log"
# An engine's figure on a row: of its rounds (an array), the one with the
# median of their medians. The table and the speed-up line below both use it.
median_round='def median_round: sort_by(.median_ms) | .[(length - 1) / 2 | floor];'
jq -rs --arg peers "$peer_names" "$median_round"'
  ($peers | split(" ") | map(select(length > 0))) as $names
  | [.[] | select(.median_ms)] as $all
  # each engine on each row: its median round, in the order the rows were
  # measured
  | [$all | to_entries[] | .value + {first: .key}]
  | [group_by([.workload, .threads, .peer])[] | (map(.first) | min) as $first
     | median_round | .first = $first]
  | sort_by(.first) as $runs
  | ([$all[] | select(.peer == "scopenn" and .peak_gflops) | .peak_gflops / .threads] | max)
    as $peak
  | $runs | map(select(.peer == "scopenn")) | .[]
  | . as $sn
  | [$runs[] | select(.workload == $sn.workload and .threads == $sn.threads)] as $row
  | [$sn.workload, $sn.threads, $sn.median_ms, $sn.gflops, 100 * $sn.gflops / ($peak * $sn.threads),
     $sn.others_cpu_pct]
    + ([$names[] as $n | ([$row[] | select(.peer == $n)][0]) as $r
        | if $r == null then ["-", "-", "-", "-"]
          else [$r.median_ms, $r.gflops, 100 * $r.gflops / ($peak * $sn.threads),
                $r.median_ms / $sn.median_ms] end] | add)
    + [if all($row[]; .macs == $sn.macs) then "same MACs" else "MACS DIFFER" end]
  | @tsv' "$log" | awk -F '\t' -v names="$peer_names" '
  BEGIN {
    np = split(names, peer, " ")
    printf "%-16s %3s | %9s %8s %6s", "", "", "scopenn", "", ""
    for (i = 1; i <= np; i++) printf " | %9s %8s %6s %6s", peer[i], "", "", ""
    printf " |\n%-16s %3s | %9s %8s %6s", "workload", "thr", "ms", "GFLOP/s", "%peak"
    for (i = 1; i <= np; i++) printf " | %9s %8s %6s %6s", "ms", "GFLOP/s", "%peak", "ratio"
    printf " | %7s | %s\n", "others", "fastest peer"
  }
  {
    printf "%-16s %3d | %9.4f %8.1f %6.1f", $1, $2, $3, $4, $5
    best = ""; best_ratio = 0
    for (i = 1; i <= np; i++) {
      c = 7 + 4 * (i - 1)
      if ($c == "-") { printf " | %9s %8s %6s %6s", "-", "-", "-", "-"; continue }
      printf " | %9.4f %8.1f %6.1f %6.2f", $c, $(c + 1), $(c + 2), $(c + 3)
      if (best == "" || $(c + 3) < best_ratio) { best = peer[i]; best_ratio = $(c + 3) }
    }
    shown = sprintf("%.2f", best_ratio)
    printf " | %5d%%%s | %s %s%s\n", $6, ($6 >= 10 ? "!" : " "), best, shown,
           (shown + 0 < 1 ? " (faster than scopenn)" : "")
    if ($6 >= 10) busy++
    if ($NF != "same MACs") {
      print "compare.sh: " $1 ": the peers run another shape than scopenn bench" > "/dev/stderr"
      bad = 1
    }
  }
  END {
    if (busy) printf "!: other processes used %d%% of a core or more during %d row(s)" \
                     " even after retries; treat those rows with care\n", 10, busy
    exit bad
  }' || status=1
echo "ratio = peer ms / scopenn ms (each the median of $rounds alternating rounds' medians of" \
     "runs over >= 0.3 s): above 1, scopenn is faster; others = CPU other processes used" \
     "during the row, in % of one core"
# scopenn's speed-up on more threads, from the table's figures
jq -rs "$median_round"'[.[] | select(.peer == "scopenn" and .median_ms)]
  | group_by([.workload, .threads]) | map(median_round | {workload, threads, ms: .median_ms})
  | (map(select(.threads == 1) | {key: .workload, value: .ms}) | from_entries) as $one
  | map(select(.threads > 1 and $one[.workload] != null)) | group_by(.threads)[]
  | [.[0].threads] + map(.workload, $one[.workload] / .ms) | @tsv' "$log" | awk -F '\t' '{
  line = sprintf("scopenn on %d threads, speed-up over 1 (ms on 1 / ms on %d): ", $1, $1)
  for (i = 2; i < NF; i += 2) line = line sprintf("%s%s %.2f", i > 2 ? ", " : "", $i, $(i + 1))
  print line
}'
jq -rs '[.[] | select(.peer == "scopenn" and .tries and .tries > 1)]
  | unique_by([.workload, .threads]) | length
  | select(. > 0) | "rows measured again because other processes were busy: \(.)"' "$log"
jq -rs '[.[] | select(.median_ms and .impl != "" and .peer != "scopenn")] | group_by(.peer)[]
  | "\(.[0].peer) implementations: " +
    ([group_by(.impl)[] | "\(.[0].impl) (\(map(.workload) | unique | join(", ")))"] | join("; "))
  ' "$log"
exit $status
