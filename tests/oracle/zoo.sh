#!/usr/bin/env bash
# The model zoo against PyTorch: for each model, tests/oracle/zoo_check.py
# exports torchvision's model with random weights and PyTorch's logits for a
# random input (64x64, batch 2) into DIR (made afresh); then test_zoo builds
# each with sn_model_build, loads it strictly and compares. Skips, with exit
# 0 and a "skipped: python3-torch not installed" line, only when
# /usr/bin/python3 cannot import torch or torchvision. A cross-compiled
# TEST_ZOO runs under the emulator given with --run (the exports still run
# here, in the host's python).
#   tests/oracle/zoo.sh [--run EMULATOR... --] TEST_ZOO DIR [MODEL...]
set -u
run=()
if [ "${1:-}" = --run ]; then
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do run+=("$1"); shift; done
  shift
fi
bin=$1 dir=$2
shift 2
models=${*:-resnet18 mobilenet_v2 resnet50 squeezenet1_1 mobilenet_v3_large mobilenet_v3_small efficientnet_b0 shufflenet_v2_x1_0}
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch, torchvision" 2>/dev/null; then
  echo "skipped: python3-torch not installed (or python3-torchvision)"
  exit 0
fi
rm -rf "$dir"
# one python for all the models: importing torch takes seconds
# shellcheck disable=SC2086
"$python" "$(dirname "$0")/zoo_check.py" "$dir" 64 2 $models || exit 1
exec "${run[@]}" "$bin" "$dir"
