#!/usr/bin/env bash
# Installs build/<preset> into build/<preset>/stage and builds the consumer
# in tests/consumer against it twice, through find_package and through
# pkg-config, shared and static; runs each (under qemu for cross builds).
#
#   scripts/consumer-test.sh native|aarch64
set -eu
cd "$(dirname "$0")/.."
preset=$1
build=build/$preset stage=$PWD/build/$preset/stage out=$PWD/build/$preset/consumer
rm -rf "$stage" "$out"
cmake --install "$build" --prefix "$stage" >/dev/null
mkdir -p "$out"
toolchain=() run=() cc=cc libdir=$stage/lib ldflags=""
case "$preset" in
  native) ;;
  aarch64)
    toolchain=(-DCMAKE_TOOLCHAIN_FILE="$PWD/toolchains/rpi-aarch64.cmake")
    cc=aarch64-linux-gnu-gcc
    deps=$PWD/$build/deps-sysroot/usr/lib/aarch64-linux-gnu
    run=(scripts/qemu-run aarch64 --libdir "$stage/lib" --libdir "$deps")
    # any library unpacked for the target (cmake/deps.cmake) lives there
    ldflags="-L$deps -Wl,-rpath-link,$deps"
    toolchain+=(-DCMAKE_EXE_LINKER_FLAGS="$ldflags") ;;
  *) echo "usage: $0 native|aarch64" >&2; exit 2 ;;
esac
[ -d "$stage/lib" ] || libdir=$(dirname "$(find "$stage" -name libscopenn.a | head -n 1)")

echo "find_package(scopenn 0.1): $stage"
cmake -S tests/consumer -B "$out/cmake" -DCMAKE_PREFIX_PATH="$stage" "${toolchain[@]}" >/dev/null
cmake --build "$out/cmake" >/dev/null
LD_LIBRARY_PATH=$libdir "${run[@]}" "$out/cmake/consumer"
"${run[@]}" "$out/cmake/consumer_static"

echo "pkg-config scopenn: $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --modversion scopenn)"
PKG_CONFIG_PATH=$libdir/pkgconfig make -s -C tests/consumer -B CC="$cc" LDFLAGS="$ldflags" \
  consumer consumer-static >/dev/null
mv tests/consumer/consumer tests/consumer/consumer-static "$out/"
LD_LIBRARY_PATH=$libdir "${run[@]}" "$out/consumer"
"${run[@]}" "$out/consumer-static"
