#!/usr/bin/env bash
# bench/peers/torch_peer.py, `make bench-peers`' PyTorch, cheaply: export
# mobilenet_v3_small (64x64) into DIR (made afresh), `scopenn run` on it
# within 1e-4 of PyTorch's largest logit (as compare.sh checks), and `time
# --iters 2` printing the one JSON line compare.sh reads. Skips, with exit
# 0 and a "skipped: python3-torch not installed" line, only when
# /usr/bin/python3 cannot import torch or torchvision.
#   tests/oracle/torch_peer.sh SCOPENN DIR
set -u
bin=$1 dir=$2
python=${SCOPENN_ORACLE_PYTHON:-/usr/bin/python3}
peer=$(dirname "$0")/../../bench/peers/torch_peer.py
if ! "$python" -c "import torch, torchvision" 2>/dev/null; then
  echo "skipped: python3-torch not installed (or python3-torchvision)"
  exit 0
fi
rm -rf "$dir"
m=mobilenet_v3_small
"$python" "$peer" export "$m" "$dir" --size 64x64 || exit 1
"$bin" run "$m" --weights "$dir/$m.safetensors" --input "$dir/$m-input.safetensors" \
  --json >"$dir/run.json" || exit 1
"$python" "$peer" time "$m" --threads 1 --size 64x64 --iters 2 --warmup 1 >"$dir/time.json" ||
  exit 1
exec "$python" - "$dir" "$m" <<'PY'
import json, sys

d, m = sys.argv[1:]
info = json.load(open("%s/%s-input.json" % (d, m)))
run = json.load(open(d + "/run.json"))
lines = open(d + "/time.json").read().splitlines()
line = json.loads(lines[0])
print("scopenn run: max abs difference %g (largest logit %g)"
      % (run["expected_max_abs_diff"], info["max_abs_logit"]))
print("torch_peer.py time: %s" % lines[0])
ok = run["expected_max_abs_diff"] <= 1e-4 * info["max_abs_logit"] and info["size"] == [64, 64]
ok = ok and len(lines) == 1 and line["op"] == "model" and line["workload"] == m
ok = ok and line["peer"] == "pytorch" and line["threads"] == 1 and line["iterations"] == 2
ok = ok and 0 < line["min_ms"] <= line["median_ms"] and line["impl"].startswith("torch ")
sys.exit(0 if ok else 1)
PY
