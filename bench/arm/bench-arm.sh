#!/usr/bin/env bash
# `make bench-arm`: executed instructions per inference, counted under
# qemu-user with bench/qemu-icount's plugin, for scopenn and for XNNPACK's
# Debian ARM builds on the named workloads of `scopenn bench`,
# single-threaded. Per inference = (run with --iters B) - (run with --iters A),
# both with --warmup 0, so start-up, data generation and weight packing drop
# out. The counts are exact but for about a thousand instructions of noise
# per run (formatting the measured times, which differ from run to run):
# only dense_mv (under 1M per inference) sees it, at about 0.2%.
#
#   bench/arm/bench-arm.sh [ARCH...]     ARCH: aarch64, armhf (default: both)
#
# Whole models too: `scopenn bench model NAME` against `peers model NAME`
# (bench/peers/peers-model.c: the zoo model built through XNNPACK's
# operators), both on deterministic random weights. Their extra runs (scopenn's
# first run and its profiled run for FLOPs) are the same in both counted
# runs, so the difference is still ITERS_B - ITERS_A inferences. Before
# counting, `peers model NAME --verify` (XNNPACK's logits against scopenn's,
# in-process) runs once per model and architecture under qemu; its result
# shows below the table, and a failing one marks the model's row.
#
# Environment: WORKLOADS (default: the named ones but seed_filter_big, and
# seed_filter:direct and resnet3x3:direct; NAME:direct runs scopenn with
# --direct, so that a layer's Winograd and direct counts both show: XNNPACK
# runs NAME; "" runs no layer), MODELS (default mobilenet_v2 resnet18
# mobilenet_v3_small; "" runs no model), MODEL_SIZE (the models' image,
# default 224x224),
# ITERS_A / ITERS_B (default 1 / 2), JOBS (parallel qemu runs, default nproc),
# BUILD (default build): trees go to $BUILD/barm-ARCH, the plugin to
# $BUILD/barm-icount.
#
# Per ARCH: builds `scopenn` and bench/peers' `peers` (XNNPACK peer only)
# with the Raspberry Pi toolchain file; XNNPACK, cpuinfo and pthreadpool
# come from the target's Debian packages, unpacked (scripts/cross-sysroot.sh)
# into $BUILD/barm-ARCH/xnnpack-sysroot. Programs start through the target's
# dynamic loader, as scripts/qemu-run does; CPUs: cortex-a72 (aarch64),
# cortex-a7 (armhf).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
WORKLOADS=${WORKLOADS-seed_filter seed_filter:direct resnet3x3 resnet3x3:direct pointwise stem dense_mv dense_mm}
MODELS=${MODELS-mobilenet_v2 resnet18 mobilenet_v3_small}
MODEL_SIZE=${MODEL_SIZE:-224x224}
ITERS_A=${ITERS_A:-1}
ITERS_B=${ITERS_B:-2}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$ITERS_B" -gt "$ITERS_A" ] || { echo "bench-arm: ITERS_B must exceed ITERS_A" >&2; exit 2; }
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(aarch64 armhf)

plugin_dir=$BUILD/barm-icount
make -s -C bench/qemu-icount O="$plugin_dir"
plugin=$plugin_dir/libicount.so

# setup ARCH: sets qemu, cpu, triplet, deb, loader for ARCH.
setup() {
  case "$1" in
    aarch64) qemu=qemu-aarch64 cpu=cortex-a72 triplet=aarch64-linux-gnu deb=arm64 loader=ld-linux-aarch64.so.1 ;;
    armhf) qemu=qemu-arm cpu=cortex-a7 triplet=arm-linux-gnueabihf deb=armhf loader=ld-linux-armhf.so.3 ;;
    *) echo "bench-arm: unknown architecture $1 (aarch64, armhf)" >&2; exit 2 ;;
  esac
}

build_arch() {
  local arch=$1 b=$BUILD/barm-$1
  setup "$arch"
  local x=$b/xnnpack-sysroot
  scripts/cross-sysroot.sh "$deb" "$x" libxnnpack0 libxnnpack-dev libcpuinfo0 libpthreadpool0 \
    libpthreadpool-dev >/dev/null
  if [ ! -f "$b/CMakeCache.txt" ]; then
    cmake -S . -B "$b" -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/rpi-$arch.cmake" \
      -DCMAKE_BUILD_TYPE=Release -DSCOPENN_BUILD_TESTS=OFF -DSCOPENN_BUILD_BENCH=OFF \
      -DSCOPENN_BENCH_PEERS=ON \
      -DSCOPENN_XNNPACK_INCLUDE_DIR="$x/usr/include" \
      -DSCOPENN_XNNPACK_LIBRARY="$x/usr/lib/$triplet/libXNNPACK.so" \
      -DSCOPENN_ONEDNN_LIBRARY=SCOPENN_ONEDNN_LIBRARY-NOTFOUND \
      -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$x/usr/lib/$triplet" >"$b.configure.log" 2>&1 ||
      { cat "$b.configure.log" >&2; exit 1; }
  fi
  cmake --build "$b" -j "$JOBS" --target scopenn_tool peers >"$b.build.log" 2>&1 ||
    { tail -40 "$b.build.log" >&2; exit 1; }
}

# run_one ARCH ENGINE WORKLOAD ITERS: one counted run; its log's icount line
# goes to $BUILD/barm-ARCH/icount/ENGINE-WORKLOAD-ITERS.count. WORKLOAD
# model:NAME is zoo model NAME at MODEL_SIZE; ENGINE verify (ITERS 0) runs
# `peers model NAME --verify` uncounted, its result line going to
# $BUILD/barm-ARCH/icount/verify-NAME.check.
run_one() {
  local arch=$1 engine=$2 w=$3 n=$4 b=$BUILD/barm-$1
  setup "$arch"
  local out=$b/icount/$engine-$w-$n name=${w%:direct} direct='' model=''
  [ "$name" = "$w" ] || direct=--direct
  case "$w" in model:*) model=${w#model:} ;; esac
  local path="/usr/$triplet/lib:/usr/lib/$triplet:$b/deps-sysroot/usr/lib/$triplet:$b/xnnpack-sysroot/usr/lib/$triplet"
  local prog plugin_args=(-plugin "$plugin" -d plugin -D "$out.log")
  if [ "$engine" = verify ]; then
    out=$b/icount/verify-$model plugin_args=()
    prog=("$b/bench/peers/peers" model "$model" --verify --size "$MODEL_SIZE" --threads 1)
  elif [ -n "$model" ] && [ "$engine" = scopenn ]; then
    prog=("$b/tools/scopenn" bench model "$model" --size "$MODEL_SIZE" --iters "$n" --warmup 0
          --threads 1)
  elif [ -n "$model" ]; then
    prog=("$b/bench/peers/peers" model "$model" --size "$MODEL_SIZE" --iters "$n" --warmup 0
          --threads 1)
  elif [ "$engine" = scopenn ]; then
    prog=("$b/tools/scopenn" bench "$name" --iters "$n" --warmup 0 --threads 1 --no-peak $direct)
  else
    prog=("$b/bench/peers/peers" "$name" --peer xnnpack --iters "$n" --warmup 0 --threads 1)
  fi
  rm -f "$out.log" "$out.count" "$out.check"
  if ! "$qemu" -cpu "$cpu" ${plugin_args[@]+"${plugin_args[@]}"} \
       "/usr/$triplet/lib/$loader" --library-path "$path" "${prog[@]}" >"$out.out" 2>&1; then
    if [ "$engine" = verify ]; then echo "bench-arm: $arch: peers model $model --verify failed:" >&2
    else echo "bench-arm: $arch $engine $w --iters $n failed:" >&2; fi
    cat "$out.out" >&2
    [ "$engine" = verify ] && grep '"check":true' "$out.out" >"$out.check"
    return 1
  fi
  if [ "$engine" = verify ]; then
    grep '"check":true' "$out.out" >"$out.check"
  else
    grep '^icount:' "$out.log" >"$out.count"
  fi
}
export -f run_one setup
export BUILD plugin MODEL_SIZE

for arch in "${archs[@]}"; do
  setup "$arch"
  echo "bench-arm: building $arch (scopenn, peers) in $BUILD/barm-$arch" >&2
  build_arch "$arch"
  mkdir -p "$BUILD/barm-$arch/icount"
  rm -f "$BUILD/barm-$arch/icount"/*
done

# The longest runs first: the models' verifications and counts, then the
# layers.
jobs_list() {
  for arch in "${archs[@]}"; do
    for m in $MODELS; do echo "$arch verify model:$m 0"; done
  done
  for arch in "${archs[@]}"; do
    for w in $(for m in $MODELS; do echo "model:$m"; done) $WORKLOADS; do
      for e in scopenn xnnpack; do
        for n in "$ITERS_A" "$ITERS_B"; do echo "$arch $e $w $n"; done
      done
    done
  done
}
echo "bench-arm: $(jobs_list | wc -l) runs under qemu with $plugin, $JOBS at a time" >&2
start=$(date +%s)
status=0
jobs_list | xargs -r -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ || status=1
echo "bench-arm: runs took $(( $(date +%s) - start )) s" >&2

# The tables: per inference = count(ITERS_B) - count(ITERS_A), over the
# difference in iterations. table DIR HEADING ITEM...: one table, ITEM a
# workload or model:NAME (its row is NAME, marked "verify FAILED" or
# "unverified" unless its DIR/verify-NAME.check says ok).
table() {
  local d=$1 heading=$2 w e
  shift 2
  for w in "$@"; do
    for e in scopenn xnnpack; do
      a=$d/$e-$w-$ITERS_A.count bb=$d/$e-$w-$ITERS_B.count
      if [ -s "$a" ] && [ -s "$bb" ]; then echo "${w#model:} $e $(cat "$a") $(cat "$bb")"; else echo "${w#model:} $e missing"; fi
    done
    case "$w" in
      model:*)
        local c=$d/verify-${w#model:}.check
        if [ ! -s "$c" ]; then echo "${w#model:} verify unverified"
        elif grep -q '"ok":true' "$c"; then echo "${w#model:} verify ok"
        else echo "${w#model:} verify FAILED"; fi ;;
    esac
  done | awk -v di=$((ITERS_B - ITERS_A)) -v heading="$heading" '
    function m(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : sprintf("%.1fk", x / 1e3) }
    function see(w) { if (!order[w]) { order[w] = ++nw; name[nw] = w } }
    $2 == "verify" { see($1); mark[$1] = $3 == "ok" ? "" : "  verify " $3; next }
    $3 == "missing" { see($1); ok[$1, $2] = 0; next }
    {
      # $3.. : icount: total T fma F load L store S (twice)
      t = ($14 - $5) / di; f = ($16 - $7) / di; l = ($18 - $9) / di
      see($1); ok[$1, $2] = 1; T[$1, $2] = t; F[$1, $2] = f; L[$1, $2] = l
    }
    END {
      printf "%-18s %10s %10s %7s %8s %8s %8s %8s\n", heading, "ours", "xnnpack", "ratio",
             "fma ours", "fma xnn", "fma/ld o", "fma/ld x"
      for (i = 1; i <= nw; i++) {
        w = name[i]
        o = ok[w, "scopenn"]; x = ok[w, "xnnpack"]
        printf "%-18s %10s %10s %7s %8s %8s %8s %8s%s\n", w,
          o ? m(T[w, "scopenn"]) : "-", x ? m(T[w, "xnnpack"]) : "-",
          o && x ? sprintf("%.3f", T[w, "scopenn"] / T[w, "xnnpack"]) : "-",
          o ? sprintf("%.1f%%", 100 * F[w, "scopenn"] / T[w, "scopenn"]) : "-",
          x ? sprintf("%.1f%%", 100 * F[w, "xnnpack"] / T[w, "xnnpack"]) : "-",
          o && L[w, "scopenn"] ? sprintf("%.2f", F[w, "scopenn"] / L[w, "scopenn"]) : "-",
          x && L[w, "xnnpack"] ? sprintf("%.2f", F[w, "xnnpack"] / L[w, "xnnpack"]) : "-", mark[w]
      }
    }'
}

for arch in "${archs[@]}"; do
  setup "$arch"
  d=$BUILD/barm-$arch/icount
  echo
  echo "$arch ($cpu), 1 thread, per inference (--iters $ITERS_B minus --iters $ITERS_A):"
  # shellcheck disable=SC2086 # word lists
  [ -z "$WORKLOADS" ] || table "$d" workload $WORKLOADS
  if [ -n "$MODELS" ]; then
    [ -z "$WORKLOADS" ] || echo
    # shellcheck disable=SC2046
    table "$d" "model $MODEL_SIZE" $(for m in $MODELS; do echo "model:$m"; done)
    for m in $MODELS; do
      c=$d/verify-$m.check
      if [ -s "$c" ]; then
        sed 's/.*"ok":\([a-z]*\),"max_abs_error":\([^,]*\),"worst_error_over_tolerance":\([^,]*\),.*/\1 \2 \3/' "$c" |
          awk -v m="$m" '{ printf "verify %s: %s, max |error| %s, %s of the tolerance\n", m, $1 == "true" ? "ok" : "FAILED", $2, $3 }'
      else
        echo "verify $m: no result (see $d/verify-$m.out)"
      fi
    done
  fi
  echo "ratio: ours / XNNPACK instructions; fma: share of executed instructions that are FMAs;"
  echo "fma/ld: FMA instructions per load instruction."
done
exit $status
