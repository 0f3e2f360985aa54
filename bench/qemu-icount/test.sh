#!/usr/bin/env bash
# The plugin's own test: two programs without libc whose every executed
# instruction is known, run under qemu-user with libicount.so; the counts
# must match exactly.
#   bench/qemu-icount/test.sh [DIR]    (DIR: where libicount.so is; default:
#                                       build/qemu-icount; built if missing)
# Cross compilers missing: that architecture is skipped with a message.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../build/qemu-icount}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -f "$out/libicount.so" ] || make -s -C "$here" O="$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 ran=0

# check NAME QEMU CPU PROGRAM EXPECTED [PLUGIN-ARGS [PATTERN]]: the icount
# line must be EXPECTED; with PATTERN, the log must also hold a line
# matching that extended regular expression.
check() {
  local name=$1 qemu=$2 cpu=$3 prog=$4 want=$5 args=${6:-} pattern=${7:-} got
  if ! "$qemu" -cpu "$cpu" -plugin "$out/libicount.so$args" -d plugin -D "$tmp/$name.log" "$prog"; then
    echo "FAIL $name: $qemu exited with an error" >&2
    fail=1
    return
  fi
  got=$(grep '^icount:' "$tmp/$name.log" || true)
  if [ "$got" = "$want" ]; then
    echo "ok   $name: $got"
  else
    echo "FAIL $name: got '$got', want '$want'" >&2
    fail=1
  fi
  if [ -n "$pattern" ]; then
    if grep -Eq "$pattern" "$tmp/$name.log"; then
      echo "ok   $name: $(grep -E "$pattern" "$tmp/$name.log")"
    else
      echo "FAIL $name: no line matches '$pattern' in:" >&2
      cat "$tmp/$name.log" >&2
      fail=1
    fi
  fi
  ran=$((ran + 1))
}

if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
  aarch64-linux-gnu-gcc -nostdlib -static -o "$tmp/fmla-aarch64" "$here/fmla-aarch64.c"
  check aarch64 qemu-aarch64 cortex-a72 "$tmp/fmla-aarch64" \
    "icount: total 3005 fma 1000 load 500 store 250"
  check aarch64-symbols qemu-aarch64 cortex-a72 "$tmp/fmla-aarch64" \
    "icount: total 3005 fma 1000 load 500 store 250" ",symbols=4" \
    '^icount-symbol: +2991 +99\.5% fma +996 fmla_loop$'
else
  echo "skip aarch64: aarch64-linux-gnu-gcc or qemu-aarch64 missing"
fi

if command -v arm-linux-gnueabihf-gcc >/dev/null && command -v qemu-arm >/dev/null; then
  arm-linux-gnueabihf-gcc -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -nostdlib -static \
    -o "$tmp/vfma-armhf" "$here/vfma-armhf.c"
  check armhf qemu-arm cortex-a7 "$tmp/vfma-armhf" \
    "icount: total 3256 fma 1000 load 750 store 500"
else
  echo "skip armhf: arm-linux-gnueabihf-gcc or qemu-arm missing"
fi

[ "$fail" = 0 ] || exit 1
[ "$ran" -gt 0 ] || { echo "FAIL: no architecture could be tested" >&2; exit 1; }
echo "qemu-icount: $ran passed"
