#!/usr/bin/env bash
# The PyTorch export path: export_check.py makes and exports a small CNN,
# test_export checks scopenn against PyTorch on it. Skips (exit 0) only
# when /usr/bin/python3 cannot import torch.
#   tests/oracle/export_run.sh TEST_EXPORT DIR
set -u
test_export=$1 dir=$2
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "skipped: python3-torch not installed"
  exit 0
fi
rm -rf "$dir"
"$python" "$(dirname "$0")/export_check.py" "$dir" || exit 1
"$test_export" "$dir"
