#!/usr/bin/env bash
# Installs the Debian packages scopenn needs to build and test, and nothing
# that is already there. Safe to run again: with everything present it only
# checks (no network, no root needed).
#
#   scripts/install-deps.sh             everything `make test` needs: native and
#                                       cross toolchains, libraries, qemu, clang
#                                       (fuzzing), python3-torch and -torchvision (the oracle)
#   scripts/install-deps.sh --run       only what `make run` needs: a native build
#   scripts/install-deps.sh --peers     a native build and the peers of `make
#                                       bench-peers` (XNNPACK, oneDNN, jq, PyTorch,
#                                       matplotlib for its chart)
#
# Cross-architecture -dev packages that are Multi-Arch: same (sleef, cmocka,
# cJSON) are installed as :arm64 and :armhf. pthreadpool (XNNPACK's, for the
# peers only; the library has its own pool) is NOT: installing
# libpthreadpool-dev:arm64 would remove the native one and everything that
# depends on it, so bench/arm gets it from the target's .deb instead
# (scripts/cross-sysroot.sh).
set -u

case "${1:-}" in
  "") mode=test ;;
  --run) mode=run ;;
  --peers) mode=peers ;;
  *) echo "usage: $0 [--run|--peers]" >&2; exit 2 ;;
esac

native=(build-essential cmake pkg-config libcmocka-dev libsleef-dev libcjson-dev)
# python3: scripts/check-includes.py, the oracle's scripts
testing=(python3 qemu-user binutils libbenchmark-dev g++ clang libclang-rt-14-dev)
# The PyTorch oracle (tests/oracle); Debian builds torch for amd64 and arm64 only.
# torchvision: the model zoo's models in PyTorch (tools/export_torch.py --model).
case "$(dpkg --print-architecture)" in amd64|arm64) testing+=(python3-torch python3-torchvision) ;; esac
# llvm-symbolizer names the files of the fuzzers' coverage
# (scripts/test-matrix.sh counts the library's edges)
testing+=(llvm)
cross=(gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross
       g++-aarch64-linux-gnu g++-arm-linux-gnueabihf
       libcmocka-dev:arm64 libsleef-dev:arm64 libcjson-dev:arm64 libbenchmark-dev:arm64
       libcmocka-dev:armhf libsleef-dev:armhf libcjson-dev:armhf libbenchmark-dev:armhf)

# python3-torch(vision): bench/peers/torch_peer.py, the model rows' PyTorch
# (Debian builds torch for amd64 and arm64 only); python3-matplotlib: the
# chart (bench/peers/chart.py)
peers=(libxnnpack-dev libpthreadpool-dev libdnnl-dev jq python3-matplotlib)
case "$(dpkg --print-architecture)" in amd64|arm64) peers+=(python3-torch python3-torchvision) ;; esac

want=("${native[@]}")
foreign=()
[ "$mode" = peers ] && want+=("${peers[@]}")
if [ "$mode" = test ]; then
  want+=("${testing[@]}" "${cross[@]}")
  foreign=(arm64 armhf)
fi

# An unqualified name means the native package: with foreign architectures
# added, plain `libcjson-dev` would also match libcjson-dev:arm64.
native_arch=$(dpkg --print-architecture)
installed() {
  local q p
  case "$1" in *:*) q=("$1") ;; *) q=("$1:$native_arch" "$1:all") ;; esac
  for p in "${q[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' && return 0
  done
  return 1
}

missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
missing_arch=()
for a in "${foreign[@]}"; do
  dpkg --print-foreign-architectures | grep -qx "$a" || missing_arch+=("$a")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_arch[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this as root (or with sudo), then try again:" >&2
    for a in "${missing_arch[@]}"; do echo "  dpkg --add-architecture $a" >&2; done
    echo "  apt-get update; apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

for a in "${missing_arch[@]}"; do
  echo "install-deps: dpkg --add-architecture $a"
  "${sudo[@]}" dpkg --add-architecture "$a" || exit 1
done

export DEBIAN_FRONTEND=noninteractive
# One failing mirror index ("Mirror sync in progress?") must not stop us:
# apt-get update is tried a few times, then we go on with the indexes that
# did load. A package that really cannot be had fails the install below,
# which is also retried once after a fresh update.
update() {
  local try
  for try in 1 2 3; do
    echo "install-deps: apt-get update (try $try)"
    "${sudo[@]}" apt-get update && return 0
    sleep $((try * 5))
  done
  echo "install-deps: apt-get update reported errors; continuing with the indexes it got" >&2
}
install() {
  echo "install-deps: installing ${missing[*]}"
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

update
if ! install; then
  echo "install-deps: apt-get install failed; updating the indexes and trying once more" >&2
  update
  install || { echo "install-deps: apt-get install failed (see above)" >&2; exit 1; }
fi
