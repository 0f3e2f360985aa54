#!/usr/bin/env bash
# Runs a PyTorch case maker into DIR (made afresh), then a scopenn program
# that checks itself against what it made. Skips, with exit 0 and a
# "skipped: python3-torch not installed" line, only when /usr/bin/python3
# cannot import torch (a python3 earlier on PATH may not see Debian's).
#   tests/oracle/with_torch.sh MAKER.py DIR PROGRAM [ARGS...]
set -u
maker=$1 dir=$2
shift 2
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "skipped: python3-torch not installed"
  exit 0
fi
rm -rf "$dir"
"$python" "$(dirname "$0")/$maker" "$dir" || exit 1
exec "$@"
