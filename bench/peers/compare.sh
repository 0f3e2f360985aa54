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
# Then whole models of the zoo, the same way, against PyTorch
# (bench/peers/torch_peer.py: torchvision's module traced, frozen and
# optimized for inference) and XNNPACK's model peer (`peers model`, when
# this build of peers has it): bench/peers/torch_peer.py exports each one's
# seeded random weights and a sample image with PyTorch's logits into
# BUILD_DIR/models; `scopenn run` (and `peers model --verify`) must match
# those logits within 1e-4 of the largest; then each model row is timed as
# a layer row is (scopenn: `scopenn bench model NAME --weights W --json`).
# A second table: ms per inference, ratio = peer ms / scopenn ms, and
# scopenn's speed-up over 1 thread. Last, a chart of every ratio
# (bench/peers/chart.py, matplotlib) into BUILD_DIR/bench-peers.svg, .png.
#
# Environment: THREADS (default "1 2"), WORKLOADS (default: all seven),
# MODELS (default: the eight of the zoo; MODELS="" none), MODEL_SIZE
# (default 224x224), ROUNDS (default 5), QUIET_WAIT and TRIES (below),
# PYTHON (default /usr/bin/python3, Debian's, which has python3-torch).
# Needs jq; the model rows need python3-torch and python3-torchvision.
set -eu

build=${1:-build/peers}
scopenn=$build/tools/scopenn
peers=$build/bench/peers/peers
log=$build/bench-peers.jsonl
threads=${THREADS:-1 2}
workloads=${WORKLOADS:-seed_filter seed_filter_big resnet3x3 pointwise stem dense_mv dense_mm}
# ${MODELS-...}, not :-, so that MODELS="" leaves the models out
models=${MODELS-resnet18 resnet50 mobilenet_v2 mobilenet_v3_large mobilenet_v3_small efficientnet_b0
squeezenet1_1 shufflenet_v2_x1_0}
model_size=${MODEL_SIZE:-224x224}
python=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
torch_peer=$here/torch_peer.py
exporter=$here/../../tools/export_torch.py
model_dir=$build/models

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
# The checks of the layers (kind "layer") or of the models ("model"), one
# line per engine.
verify_summary() {
  jq -rs --arg kind "$1" '[.[] | select(.check and ((.op == "model") == ($kind == "model")))]
  | group_by(.peer)[] | [.[0].peer, (map(select(.ok)) | length), length,
    (map(.max_abs_error) | max), (map(.worst_error_over_tolerance) | max)] | @tsv' "$log" |
  awk -F '\t' '{ printf "  %s: %d/%d match; max abs error %.3g; worst error / tolerance %.3g\n",
                         $1, $2, $3, $4, $5 }'
}
verify_summary layer
if jq -se 'map(select(.check and .op != "model" and (.ok | not))) | length > 0' "$log" >/dev/null
then
  echo "VERIFY FAILED: a peer does not compute what scopenn does (see $log)" >&2
  status=1
fi

# 1b. The models: checkpoints and sample images from PyTorch (one python
# for all of them: importing torch takes seconds), made again only when
# missing, older than the code that makes them, or of another size.
if [ -n "$models" ] && ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "models: skipped: $python cannot import torch and torchvision" \
       "(apt-get install python3-torch python3-torchvision)"
  models=
fi
stale() { # MODEL: true if its files must be made again
  for f in "$model_dir/$1.safetensors" "$model_dir/$1-input.safetensors" \
           "$model_dir/$1-input.json"; do
    [ -f "$f" ] && [ -n "$(find "$f" -newer "$exporter")" ] &&
      [ -n "$(find "$f" -newer "$torch_peer")" ] || return 0
  done
  [ "$(jq -r '.size | map(tostring) | join("x")' "$model_dir/$1-input.json")" != "$model_size" ]
}
to_export=
for m in $models; do
  if stale "$m"; then to_export="$to_export $m"; fi
done
if [ -n "$to_export" ]; then
  echo "models: exporting$to_export from PyTorch into $model_dir"
  # shellcheck disable=SC2086 # one word per model
  "$python" "$torch_peer" export $to_export "$model_dir" --size "$model_size" >/dev/null || {
    echo "compare.sh: torch_peer.py export failed; no model rows" >&2
    status=1 models=
  }
fi
# XNNPACK's model peer is `peers model NAME ...`, in builds that have it.
xnn_models=
if [ -n "$models" ] && "$peers" --help 2>&1 | grep -qw model; then xnn_models=1; fi
if [ -n "$models" ]; then
  for m in $models; do
    for t in $threads; do
      # scopenn's logits against PyTorch's: within 1e-4 of the largest |logit|
      "$scopenn" run "$m" --weights "$model_dir/$m.safetensors" \
        --input "$model_dir/$m-input.safetensors" --threads "$t" --json >"$log.sn" || status=1
      jq -c --slurpfile info "$model_dir/$m-input.json" --arg m "$m" --argjson t "$t" '
        (1e-4 * $info[0].max_abs_logit) as $tol | .expected_max_abs_diff as $e
        | {check: "pytorch", op: "model", workload: $m, peer: "scopenn", threads: $t,
           ok: ($e | type == "number" and . <= $tol), max_abs_error: $e,
           worst_error_over_tolerance: (if $e | type == "number" then $e / $tol else null end)}
        ' "$log.sn" >>"$log" || status=1
      if [ -n "$xnn_models" ]; then
        "$peers" model "$m" --weights "$model_dir/$m.safetensors" \
          --input "$model_dir/$m-input.safetensors" --verify --threads "$t" >>"$log" || status=1
      fi
    done
  done
  echo "verify models ($model_size, threads $threads; scopenn: |scopenn - PyTorch| <= 1e-4" \
       "max |PyTorch logit|; xnnpack: peers model --verify, against scopenn and PyTorch;" \
       "PyTorch's optimized module is checked against its eager one each time it runs):"
  verify_summary model
  [ -n "$xnn_models" ] ||
    echo "  xnnpack: no model peer in this build of peers (no \`peers model\`): its column is empty"
  if jq -se 'map(select(.check and .op == "model" and (.ok | not))) | length > 0' "$log" >/dev/null
  then
    echo "VERIFY FAILED: an engine does not compute PyTorch's logits (see $log)" >&2
    status=1
  fi
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
# One round of a layer row: WORKLOAD THREADS ROUND, its lines into $log.row.
round_layer() {
  "$scopenn" bench "$1" --threads "$2" --json >"$log.sn" || return 1
  jq -c --argjson r "$3" '{op, workload, peer: "scopenn", threads, median_ms, min_ms,
    iterations, gflops, macs, impl: .isa, peak_gflops, pct_peak, round: $r}' "$log.sn" \
    >>"$log.row"
  for p in $peer_names; do
    "$peers" "$1" --peer "$p" --threads "$2" | jq -c --argjson r "$3" '. + {round: $r}' \
      >>"$log.row" || return 1
  done
}
# One round of a model row: MODEL THREADS ROUND. scopenn bench model times
# a fixed count of runs: $model_iters, set so that they take >= 0.3 s as
# the peers' do. A peer that fails leaves its column empty (and the status
# 1), not the row.
round_model() {
  "$scopenn" bench model "$1" --weights "$model_dir/$1.safetensors" --size "$model_size" \
    --threads "$2" --iters "$model_iters" --warmup 2 --json >"$log.sn" || return 1
  jq -c --argjson r "$3" '{op: "model", workload: .model, peer: "scopenn", threads, median_ms,
    min_ms, iterations, gflops, flops, impl: .isa, round: $r}' "$log.sn" >>"$log.row"
  if [ -n "$xnn_models" ]; then
    if "$peers" model "$1" --weights "$model_dir/$1.safetensors" --size "$model_size" \
         --threads "$2" >"$log.peer"; then
      jq -c --argjson r "$3" '. + {round: $r}' "$log.peer" >>"$log.row"
    else
      echo "compare.sh: peers model $1 --threads $2 failed" >&2
      status=1
    fi
  fi
  if "$python" "$torch_peer" time "$1" --threads "$2" --size "$model_size" >"$log.peer" \
       2>"$log.err"; then
    jq -c --argjson r "$3" '. + {round: $r}' "$log.peer" >>"$log.row"
  else
    cat "$log.err" >&2
    echo "compare.sh: torch_peer.py time $1 --threads $2 failed" >&2
    status=1
  fi
}
measure_row() { # KIND NAME THREADS: its lines into $log.row, `round` 1 to $rounds
  : >"$log.row"
  r=1
  while [ "$r" -le "$rounds" ]; do
    case $1 in
      layer) round_layer "$2" "$3" "$r" || return 1 ;;
      model) round_model "$2" "$3" "$r" || return 1 ;;
    esac
    r=$((r + 1))
  done
}
# A row when the machine is quiet, measured again while it was not.
measure() { # KIND NAME THREADS
  tries=0 best=
  while :; do
    tries=$((tries + 1))
    wait_quiet
    mark
    measure_row "$@" || status=1
    other=$(others)
    if [ -z "$best" ] || [ "$other" -lt "$best" ]; then
      best=$other
      mv "$log.row" "$log.best"
    fi
    if [ "$best" -lt 10 ] || [ "$tries" -ge "$tries_max" ]; then break; fi
  done
  jq -c --argjson other "$best" --argjson tries "$tries" \
    '. + {others_cpu_pct: $other, tries: $tries}' "$log.best" >>"$log"
}
# A workload's thread counts one after the other, so that its speed-up on
# more threads compares moments close together.
for w in $workloads; do
  for t in $threads; do measure layer "$w" "$t"; done
done
for m in $models; do
  for t in $threads; do
    # a short probe for the count of runs that takes 0.3 s (at least 10)
    model_iters=10
    if "$scopenn" bench model "$m" --weights "$model_dir/$m.safetensors" --size "$model_size" \
         --threads "$t" --iters 3 --warmup 1 --json >"$log.sn"; then
      model_iters=$(jq '[10, (300 / .median_ms | ceil)] | max' "$log.sn")
    fi
    measure model "$m" "$t"
  done
done
rm -f "$log.sn" "$log.row" "$log.best" "$log.peer" "$log.err"

# 3. The tables.
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
jq -rs '[.[] | select(.peer == "scopenn" and .peak_gflops)] | select(length > 0)
  | (map(.impl) | unique | join(", ")) as $isa | map(.peak_gflops / .threads)
  | "peak: \($isa) \(max * 10 | round / 10) GFLOP/s per thread, the highest of \(length) probes" +
    " in this run (lowest \(min * 10 | round / 10)); % peak is of that x threads"' "$log"
# The rows of both tables, from the lines measured (an array): each row
# (a layer or a model, and a thread count) in the order measured, as
# {sn: scopenn's figure, peer: {name: its figure}, speedup: scopenn's ms
# on 1 thread / its ms on this row's}. An engine's figure on a row: of its
# rounds, the one with the median of their medians.
# shellcheck disable=SC2016 # jq's variables, not the shell's
rows='def median_round: sort_by(.median_ms) | .[(length - 1) / 2 | floor];
def rows:
  [.[] | select(.median_ms)] | [to_entries[] | .value + {first: .key, model: (.value.op == "model")}]
  | [group_by([.model, .workload, .threads, .peer])[] | (map(.first) | min) as $first
     | median_round | .first = $first]
  | sort_by(.first) as $runs
  | [$runs[] | select(.peer == "scopenn")] as $sn
  | $sn[] | . as $s
  | def same_row: .model == $s.model and .workload == $s.workload;
    {sn: $s,
     peer: ([$runs[] | select(same_row and .threads == $s.threads and .peer != "scopenn")
             | {key: .peer, value: .}] | from_entries),
     speedup: ([$sn[] | select(same_row and .threads == 1)][0].median_ms // null
               | if . then . / $s.median_ms else null end)};'
jq -rs --arg peers "$peer_names" "$rows"'
  ($peers | split(" ") | map(select(length > 0))) as $names
  | ([.[] | select(.peer == "scopenn" and .peak_gflops) | .peak_gflops / .threads] | max)
    as $peak
  | rows | select(.sn.model | not) | .sn as $sn | .peer as $p
  | [$sn.workload, $sn.threads, $sn.median_ms, $sn.gflops, 100 * $sn.gflops / ($peak * $sn.threads),
     $sn.others_cpu_pct]
    + ([$names[] as $n | $p[$n]
        | if . == null then ["-", "-", "-", "-"]
          else [.median_ms, .gflops, 100 * .gflops / ($peak * $sn.threads),
                .median_ms / $sn.median_ms] end] | add)
    + [if all($p[]; .macs == $sn.macs) then "same MACs" else "MACS DIFFER" end]
  | @tsv' "$log" | awk -F '\t' -v names="$peer_names" '
  NR == 1 {
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
if [ -n "$workloads" ]; then
  echo "ratio = peer ms / scopenn ms (each the median of $rounds alternating rounds' medians of" \
       "runs over >= 0.3 s): above 1, scopenn is faster; others = CPU other processes used" \
       "during the row, in % of one core"
fi
# scopenn's speed-up on more threads, from the table's figures
jq -rs "$rows"'[rows | select((.sn.model | not) and .sn.threads > 1 and .speedup)]
  | group_by(.sn.threads)[] | [.[0].sn.threads] + map(.sn.workload, .speedup) | @tsv' "$log" |
  awk -F '\t' '{
  line = sprintf("scopenn on %d threads, speed-up over 1 (ms on 1 / ms on %d): ", $1, $1)
  for (i = 2; i < NF; i += 2) line = line sprintf("%s%s %.2f", i > 2 ? ", " : "", $i, $(i + 1))
  print line
}'
# The models' table: ms per inference, each peer's ratio, the faster peer's
# and scopenn's speed-up over 1 thread. The oneDNN peer has no model mode.
model_peers="pytorch xnnpack"
jq -rs --arg peers "$model_peers" "$rows"'
  ($peers | split(" ")) as $names
  | rows | select(.sn.model) | .sn as $sn | .peer as $p
  | [$sn.workload, $sn.threads, $sn.median_ms]
    + [$names[] as $n | $p[$n].median_ms // "-"]
    + [$names[] as $n | $p[$n] | if . == null then "-" else .median_ms / $sn.median_ms end]
    + [if $sn.threads > 1 then .speedup // "-" else "-" end, $sn.others_cpu_pct]
  | @tsv' "$log" | awk -F '\t' -v names="$model_peers" '
  function num(v, f) { return v == "-" ? sprintf("%" length(sprintf(f, 0)) "s", "-") : sprintf(f, v) }
  NR == 1 {
    np = split(names, peer, " ")
    printf "%-20s %3s | %9s", "", "", "ms"
    for (i = 1; i <= np; i++) printf " %9s", ""
    printf " | %-*s | %8s |\n", 8 * np + 17, "ratio = peer ms / scopenn ms", "scopenn"
    printf "%-20s %3s | %9s", "model", "thr", "scopenn"
    for (i = 1; i <= np; i++) printf " %9s", peer[i]
    printf " |"
    for (i = 1; i <= np; i++) printf " %7s", peer[i]
    printf " %16s | %8s | %7s\n", "faster peer", "speed-up", "others"
  }
  {
    printf "%-20s %3d | %9.3f", $1, $2, $3
    for (i = 1; i <= np; i++) printf " %s", num($(3 + i), "%9.3f")
    printf " |"
    best = ""; best_ratio = 0
    for (i = 1; i <= np; i++) {
      r = $(3 + np + i)
      printf " %s", num(r, "%7.2f")
      if (r != "-" && (best == "" || r + 0 < best_ratio)) { best = peer[i]; best_ratio = r + 0 }
    }
    printf " %16s", best == "" ? "-" : sprintf("%s %.2f", best, best_ratio)
    printf " | %s | %5d%%%s\n", num($(4 + 2 * np), "%8.2f"), $NF, ($NF >= 10 ? "!" : " ")
    if ($NF >= 10) busy++
  }
  END {
    if (busy) printf "!: other processes used %d%% of a core or more during %d row(s)" \
                     " even after retries; treat those rows with care\n", 10, busy
  }'
if [ -n "$models" ]; then
  echo "models: $model_size, batch 1, seeded random weights (torch_peer.py export); ms per" \
       "inference, each the median of $rounds alternating rounds' medians; ratio above 1:" \
       "scopenn is faster; speed-up: scopenn's ms on 1 thread / ms on this row's"
fi
jq -rs '[.[] | select(.peer == "scopenn" and .tries and .tries > 1)]
  | unique_by([.workload, .threads]) | length
  | select(. > 0) | "rows measured again because other processes were busy: \(.)"' "$log"
jq -rs '[.[] | select(.median_ms and .impl != "" and .peer != "scopenn")] | group_by(.peer)[]
  | "\(.[0].peer) implementations: " +
    ([group_by(.impl)[] | "\(.[0].impl) (\(map(.workload) | unique | join(", ")))"] | join("; "))
  ' "$log"
# 4. The chart.
if "$python" -c 'import matplotlib' 2>/dev/null; then
  "$python" "$here/chart.py" "$log" "$build/bench-peers" \
    --title "scopenn against its peers: ${model:-unknown CPU}, $(date -u +%Y-%m-%d)" || status=1
else
  echo "chart: skipped: $python cannot import matplotlib (apt-get install python3-matplotlib," \
       "or scripts/install-deps.sh --peers); then: $python $here/chart.py $log $build/bench-peers"
fi
exit $status
