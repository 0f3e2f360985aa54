#!/usr/bin/env bash
# The whole test matrix, as `make test` runs it; the exit code is the verdict.
# Builds stay in build/<preset> for anyone to inspect afterwards.
#
#   includes no include cycle between the folders of src/ or the modules of
#            tools/ (scripts/check-includes.py)
#   native   warnings as errors; every test; then every kernel set this
#            machine has, forced one by one with SCOPENN_ISA
#   x86 qemu the native binaries under qemu-x86_64 -cpu Haswell (must pick
#            avx2) and -cpu Nehalem (must pick scalar)
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer build of the tests
#   tsan     ThreadSanitizer build of the concurrency test
#   fuzz     (x86-64) libFuzzer, with ASan and UBSan, 60 s each: the
#            checkpoint parser from tests/fuzz/corpus, and random graphs on
#            every kernel set against the scalar reference from
#            tests/fuzz/corpus-graph; each prints its coverage, with a floor
#   aarch64  tests under qemu-aarch64 -cpu cortex-a53, cortex-a72, cortex-a76;
#            then built again against a target root file system (SCOPENN_SYSROOT)
#   armhf    tests under qemu-arm -cpu cortex-a7 (neon), cortex-a9 (NEON but
#            no VFPv4: scalar), cortex-r5f (no NEON: scalar)
#   armv6    build only; the library's non-NEON objects must be armv6
#
# In every column SCOPENN_EXPECT_ISA tells test_cpu which kernel set must be
# chosen, and `scopenn info` must print it on its first line.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failures=()

step() {
  local name=$1
  shift
  echo
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "--- ok: $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- FAILED: $name"
  fi
}

build() { cmake --preset "$1" >/dev/null && cmake --build --preset "$1" -j "$jobs"; }

# ctest in build/<preset> with SCOPENN_EXPECT_ISA=<isa> and any VAR=VALUE given.
ctest_expect() {
  local preset=$1 isa=$2
  shift 2
  env SCOPENN_EXPECT_ISA="$isa" "$@" ctest --test-dir "build/$preset" --output-on-failure -j "$jobs"
}

# `scopenn info` (run as given) must print "isa: <isa>" as its first line.
info_says() {
  local isa=$1
  shift
  local first
  first=$("$@" info | head -n 1)
  echo "$* info -> $first"
  [ "$first" = "isa: $isa" ]
}

# `scopenn demo` (run as given) must run on kernel set <isa> and agree with
# the reference kernels (it exits 1 if not).
demo_says() {
  local isa=$1 out
  shift
  out=$("$@" demo --size 12x10) || { echo "$out"; return 1; }
  echo "$out" | grep -E "^(isa|max abs)"
  echo "$out" | grep -q "^isa: $isa,"
}

# Every test program of build/native (test_* and the kernel testers), run
# directly under an emulated x86 CPU.
native_tests_under_qemu() {
  local cpu=$1 isa=$2 t ok=0
  for t in build/native/tests/test_* build/native/tests/*_tester; do
    [ -x "$t" ] || continue
    echo "qemu-x86_64 -cpu $cpu $t"
    if ! SCOPENN_EXPECT_ISA=$isa timeout 600 qemu-x86_64 -cpu "$cpu" "$t" >"$t.$cpu.log" 2>&1; then
      cat "$t.$cpu.log"
      ok=1
    fi
  done
  info_says "$isa" qemu-x86_64 -cpu "$cpu" build/native/tools/scopenn || ok=1
  demo_says "$isa" qemu-x86_64 -cpu "$cpu" build/native/tools/scopenn || ok=1
  return $ok
}

# The kernel sets this x86 machine runs, from the kernel's own view
# (/proc/cpuinfo), independently of the library's detection.
host_x86_isas() {
  local flags
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  echo scalar
  case "$flags" in *" avx2 "*) case "$flags" in *" fma "*) echo avx2 ;; esac ;; esac
  case "$flags" in *" avx512f "*) case "$flags" in *" avx2 "*" fma "* | *" fma "*" avx2 "*) echo avx512 ;; esac ;; esac
}

# A libFuzzer target of build/fuzz for 60 s: fuzz_run NAME SEEDS FLOOR
# [ARGS...]. libFuzzer adds what it finds to the first corpus directory,
# so it gets a fresh copy of the committed seeds; a crash, a leak or
# undefined behaviour stops it with a non-zero exit, and leaves the input
# as build/fuzz/crash-* (or leak-*, timeout-*). The step prints the final
# coverage (libFuzzer's "cov:" edges and "ft:" features, and of those
# edges the ones in the library, src/, from -print_coverage) and fails
# with fewer than FLOOR library edges: a library built without coverage
# instrumentation has none, and would otherwise be fuzzed blind (a large
# harness, fuzz_graph's, reaches over a thousand edges of its own).
fuzz_run() {
  local name=$1 seeds=$2 floor=$3
  shift 3
  local corpus=build/fuzz/corpus-$name log=build/fuzz/fuzz_$name.log
  rm -rf "$corpus" && mkdir -p "$corpus" && cp "$seeds"/* "$corpus"/ &&
    build/fuzz/tests/fuzz/fuzz_"$name" -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build/fuzz/ -print_final_stats=1 -print_coverage=1 "$@" "$corpus" >"$log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    grep -m1 -A40 "ERROR\|runtime error\|deadly signal\|MISMATCH" "$log" || tail -n 40 "$log"
    return $rc
  fi
  local lib
  # COVERED_FUNC: hits: H edges: COVERED/TOTAL FUNCTION FILE:LINE
  lib=$(awk -v src="$PWD/src/" '/^COVERED_FUNC: / && index($7, src) == 1 { split($5, e, "/"); n += e[1] }
    END { print n + 0 }' "$log")
  grep '^stat::' "$log"
  echo "coverage: $(grep -m1 'DONE  *cov: ' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*'), of which" \
    "$lib edges in the library (floor: $floor)"
  if [ "$lib" -lt "$floor" ]; then
    echo "fuzz_$name: $lib library edges covered, below the floor of $floor"
    echo "(is the library instrumented, tests/fuzz/CMakeLists.txt? is llvm-symbolizer installed?)"
    return 1
  fi
}

# The safetensors parser (with its own JSON reader). Floor: a 60 s run
# during the whole matrix on a 2-core machine covered 496 library edges
# (519 in all; the harness alone has 23); about 75%.
fuzz_checkpoint() { fuzz_run checkpoint tests/fuzz/corpus 375 -dict=tests/fuzz/checkpoint.dict; }

# Random small graphs on every kernel set against the scalar reference
# (tests/fuzz/fuzz_graph.c). Floor: 60 s runs from the seeds on a busy
# 2-core machine covered 1739 and 1763 library edges (2165 and 2196 in
# all; the harness alone has over 1400 of its own);
# 80% of the lower.
fuzz_graph() { fuzz_run graph tests/fuzz/corpus-graph 1390; }

sysroot_column() {
  local root=build/sysroot-arm64 dir=build/aarch64-sysroot
  scripts/cross-sysroot.sh arm64 "$root" libc6 libc6-dev linux-libc-dev libgcc-s1 libcrypt1 \
    libcrypt-dev libcmocka0 libcmocka-dev libcjson1 libcjson-dev libsleef3 libsleef-dev &&
    cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=toolchains/rpi-aarch64.cmake \
      -DSCOPENN_SYSROOT="$PWD/$root" >/dev/null &&
    grep -q "^SCOPENN_cjson_LIBRARY:FILEPATH=$PWD/$root/" "$dir/CMakeCache.txt" &&
    cmake --build "$dir" -j "$jobs" &&
    ctest_expect aarch64-sysroot neon SCOPENN_QEMU_CPU=cortex-a72
}

arch=$(uname -m)

# ---- layering ---------------------------------------------------------------
step "includes: src/ folders and tools/ modules include one way (no cycle)" \
  python3 scripts/check-includes.py

# ---- native -----------------------------------------------------------------
step "native: build (-Werror)" build native
if [ "$arch" = x86_64 ]; then
  isas=$(host_x86_isas)
  best=$(echo "$isas" | tail -n 1)
  step "native: ctest (no cap: expect $best)" ctest_expect native "$best"
  step "native: scopenn info says $best" info_says "$best" build/native/tools/scopenn
  step "native: scopenn demo runs $best" demo_says "$best" build/native/tools/scopenn
  for isa in $isas; do
    step "native: ctest with SCOPENN_ISA=$isa" ctest_expect native "$isa" SCOPENN_ISA="$isa"
    step "native: scopenn info with SCOPENN_ISA=$isa" info_says "$isa" env SCOPENN_ISA="$isa" build/native/tools/scopenn
  done
  step "native: install; consumer via find_package and pkg-config" scripts/consumer-test.sh native
  step "x86 qemu: qemu-x86_64 -cpu Haswell picks avx2" native_tests_under_qemu Haswell avx2
  step "x86 qemu: qemu-x86_64 -cpu Nehalem picks scalar" native_tests_under_qemu Nehalem scalar
else
  step "native: ctest" ctest --test-dir build/native --output-on-failure -j "$jobs"
fi

# ---- sanitizers ---------------------------------------------------------------
step "asan: build (ASan + UBSan)" build asan
step "asan: ctest" ctest --test-dir build/asan --output-on-failure -j "$jobs"
step "tsan: build (ThreadSanitizer)" build tsan
step "tsan: sessions of one graph run concurrently; the thread pool" \
  ctest --test-dir build/tsan --output-on-failure -R "^(test_concurrency|test_threads)$"

# ---- fuzzing (clang's libFuzzer; x86-64 hosts) ----------------------------------
if [ "$arch" = x86_64 ]; then
  step "fuzz: build" build fuzz
  step "fuzz: checkpoint parser for 60 s" fuzz_checkpoint
  step "fuzz: random graphs, every kernel set against the reference, for 60 s" fuzz_graph
fi

# ---- ARM under qemu -------------------------------------------------------------
if [ "$arch" = x86_64 ]; then
  step "aarch64: build" build aarch64
  for cpu in cortex-a53 cortex-a72 cortex-a76; do
    step "aarch64: ctest under qemu-aarch64 -cpu $cpu (expect neon)" \
      ctest_expect aarch64 neon SCOPENN_QEMU_CPU=$cpu
    step "aarch64: scopenn info under qemu-aarch64 -cpu $cpu" \
      info_says neon env SCOPENN_QEMU_CPU=$cpu scripts/qemu-run aarch64 build/aarch64/tools/scopenn
  done

  step "aarch64: install; consumer via find_package and pkg-config, under qemu" \
    scripts/consumer-test.sh aarch64
  # The same toolchain file against a target root file system, as a user
  # with a Raspberry Pi OS sysroot builds: a Debian arm64 root made here
  # from the target's .debs stands in for the Pi's.
  step "aarch64 + sysroot: build with SCOPENN_SYSROOT, ctest under qemu-aarch64 -cpu cortex-a72" \
    sysroot_column
  step "armhf: build" build armhf
  for pair in cortex-a7:neon cortex-a9:scalar cortex-r5f:scalar; do
    cpu=${pair%%:*} isa=${pair#*:}
    step "armhf: ctest under qemu-arm -cpu $cpu (expect $isa)" \
      ctest_expect armhf "$isa" SCOPENN_QEMU_CPU=$cpu
    step "armhf: scopenn info under qemu-arm -cpu $cpu" \
      info_says "$isa" env SCOPENN_QEMU_CPU=$cpu scripts/qemu-run armhf build/armhf/tools/scopenn
  done

  step "armhf: non-NEON objects have no NEON" scripts/check-arm-attrs.sh build/armhf/src/libscopenn.a v7

  step "qemu-icount: the instruction-count plugin counts 1000 fmla / vfma exactly" \
    make -s -C bench/qemu-icount test
  step "armv6: build" build armv6
  step "armv6: non-NEON objects are armv6, NEON objects armv7+NEON" \
    scripts/check-arm-attrs.sh build/armv6/src/libscopenn.a v6
fi

echo
echo "=== test matrix: $SECONDS s"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
