#!/usr/bin/env bash
# The PyTorch oracle: generates the cases (tests/oracle/make_cases.py, with
# Debian's python3-torch) and checks scopenn against them (test_oracle).
#
#   tests/oracle/run.sh TEST_ORACLE [CASES_DIR]
#
# CASES_DIR defaults to oracle-cases beside TEST_ORACLE; it is made afresh
# each time (about 2 s). Exits non-zero on any failure. Skips, with exit 0
# and a "skipped: python3-torch not installed" line, only when /usr/bin/python3
# cannot import torch. /usr/bin/python3 on purpose: a python3 earlier on PATH
# (pyenv, a venv) does not see Debian's packages.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 TEST_ORACLE [CASES_DIR]" >&2
  exit 2
fi
bin=$1
cases=${2:-$(dirname "$bin")/oracle-cases}
if [ ! -x "$bin" ]; then
  echo "oracle: $bin is not an executable (build test_oracle first)" >&2
  exit 2
fi

if ! "$python" -c 'import torch' >/dev/null 2>&1; then
  echo "oracle: skipped: python3-torch not installed ($python cannot import torch;" \
       "apt-get install -y --no-install-recommends python3-torch)"
  exit 0
fi

t0=$SECONDS
if ! "$python" "$here/make_cases.py" "$cases"; then
  echo "oracle: FAILED: make_cases.py could not write the cases to $cases" >&2
  exit 1
fi

log=$cases/test_oracle.log
env -u SCOPENN_ORACLE_FILTER "$bin" "$cases" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
checked=$(sed -n 's/^test_oracle: \([0-9]*\) cases checked.*/\1/p' "$log" | tail -n 1)
want=$(grep -c '"file"' "$cases/manifest.json")
if [ "$rc" -ne 0 ] || [ -z "$checked" ] || [ "$checked" -ne "$want" ]; then
  echo "oracle: FAILED: ${checked:-0} of $want cases checked, test_oracle exit $rc (log: $log)"
  exit 1
fi
echo "oracle: $checked cases checked against PyTorch, all within tolerance ($((SECONDS - t0)) s)"
