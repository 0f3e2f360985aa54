#!/usr/bin/env bash
# Checks the ARM build attributes of every object in a static library: the
# NEON kernels (files named *-neon*) must be armv7 with NEON; every other
# object must carry the baseline architecture given (v6 or v7) and no NEON,
# so the library runs on a CPU without NEON and picks NEON at run time.
#
#   scripts/check-arm-attrs.sh LIBRARY.a v6|v7
set -u
[ $# -eq 2 ] || { echo "usage: $0 LIBRARY.a v6|v7" >&2; exit 2; }
lib=$(realpath "$1") base=$2
readelf=$(command -v arm-linux-gnueabihf-readelf || command -v readelf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && ar x "$lib") || exit 1
bad=0 neon=0 other=0
for o in "$tmp"/*.o; do
  name=$(basename "$o")
  attrs=$("$readelf" -A "$o")
  cpu=$(echo "$attrs" | sed -n 's/^ *Tag_CPU_arch: //p')
  simd=$(echo "$attrs" | sed -n 's/^ *Tag_Advanced_SIMD_arch: //p')
  case "$name" in
    *-neon*)
      neon=$((neon + 1))
      want="v7 with NEON"
      [ "$cpu" = v7 ] && [ -n "$simd" ] && ok=1 || ok=0 ;;
    *)
      other=$((other + 1))
      want="$base without NEON"
      [ "$cpu" = "$base" ] && [ -z "$simd" ] && ok=1 || ok=0 ;;
  esac
  printf '%-32s Tag_CPU_arch %-4s %-28s %s\n' "$name" "$cpu" "${simd:-no NEON}" "$([ $ok = 1 ] && echo ok || echo "WRONG: want $want")"
  [ $ok = 1 ] || bad=1
done
[ $neon -gt 0 ] && [ $other -gt 0 ] || { echo "expected NEON and non-NEON objects in $lib" >&2; bad=1; }
exit $bad
