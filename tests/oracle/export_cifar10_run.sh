#!/usr/bin/env bash
# examples/cifar10 on a PyTorch model: export_cifar10.py exports a cifar10
# module, the example loads it strictly and must give PyTorch's logits.
# Skips (exit 0) only when /usr/bin/python3 cannot import torch.
#   tests/oracle/export_cifar10_run.sh CIFAR10_EXAMPLE DIR
set -u
example=$1 dir=$2
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "skipped: python3-torch not installed"
  exit 0
fi
rm -rf "$dir"
"$python" "$(dirname "$0")/export_cifar10.py" "$dir" || exit 1
"$example" --weights "$dir/cifar10.safetensors" --check "$dir/check.safetensors"
