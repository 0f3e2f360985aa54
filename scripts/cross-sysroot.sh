#!/usr/bin/env bash
# Unpacks Debian packages of another architecture into a directory, for
# libraries that cannot be co-installed with the native ones (pthreadpool,
# which XNNPACK needs in bench/arm), or a whole target root (test-matrix.sh).
# No root needed; the architecture must be known to apt (install-deps.sh
# adds arm64 and armhf).
#
#   scripts/cross-sysroot.sh DEB_ARCH DEST PACKAGE...
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 DEB_ARCH DEST PACKAGE..." >&2
  exit 2
fi
arch=$1 dest=$2
shift 2
stamp="$dest/.unpacked-$arch-$(printf '%s_' "$@")"
[ -f "$stamp" ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pkgs=()
for p in "$@"; do pkgs+=("$p:$arch"); done
if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}"); then
  echo "cross-sysroot: apt-get download ${pkgs[*]} failed." >&2
  echo "cross-sysroot: is $arch known to apt? As root: dpkg --add-architecture $arch && apt-get update" >&2
  exit 1
fi
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
touch "$stamp"
