#!/usr/bin/env bash
# The README's two commands against PyTorch: tools/export_torch.py --model
# mobilenet_v2 --sample-input (64x64, batch 2) into DIR (made afresh), then
# `scopenn run --json`; each image's top-1 must be PyTorch's and the logits
# within 1e-4 of the largest. Skips, with exit 0 and a "skipped:
# python3-torch not installed" line, only when /usr/bin/python3 cannot
# import torch or torchvision.
#   tests/oracle/run_flow.sh SCOPENN DIR
set -u
bin=$1 dir=$2
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch, torchvision" 2>/dev/null; then
  echo "skipped: python3-torch not installed (or python3-torchvision)"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir" || exit 1
"$python" "$(dirname "$0")/../../tools/export_torch.py" --model mobilenet_v2 --size 64x64 \
  --batch 2 --sample-input "$dir/x.safetensors" "$dir/mobilenet_v2.safetensors" >/dev/null || exit 1
"$bin" run mobilenet_v2 --weights "$dir/mobilenet_v2.safetensors" --input "$dir/x.safetensors" \
  --json >"$dir/run.json" || exit 1
exec "$python" - "$dir" <<'PY'
import json, struct, sys

d = sys.argv[1]
run = json.load(open(d + "/run.json"))
with open(d + "/x.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header, data = json.loads(f.read(n)), f.read()
info = header["expected"]
batch, classes = info["shape"]
begin = info["data_offsets"][0]
expected = struct.unpack_from("<%df" % (batch * classes), data, begin)
largest = max(abs(v) for v in expected)
ok = run["expected_max_abs_diff"] <= 1e-4 * largest and len(run["images"]) == batch
for i, top in enumerate(run["images"]):
    row = expected[i * classes:(i + 1) * classes]
    want = max(range(classes), key=lambda c: row[c])
    print("image %d: scopenn top-1 %d, PyTorch %d" % (i, top[0]["class"], want))
    ok = ok and top[0]["class"] == want
print("max abs difference %g (largest logit %g)" % (run["expected_max_abs_diff"], largest))
sys.exit(0 if ok else 1)
PY
