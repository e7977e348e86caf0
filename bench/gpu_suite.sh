#!/usr/bin/env bash
# All GPU benchmarks in one run, for a lent CUDA machine (Python 3.12 with torch, opencv, numpy there):
# predictor throughputs (bf16, batch 1 and batched) for the three kinds, and the loop end to end.
#   bash bench/gpu_suite.sh        (needs .whl/ with the web stack's wheels and bench/data/ — see README)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/loupe-gpu}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site
mkdir -p /usr/share/fonts/truetype/dejavu && cp bench/data/fonts/*.ttf /usr/share/fonts/truetype/dejavu/ 2>/dev/null
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
run() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" "$@" > "$OUT/$name.log" 2>&1; echo "rc=$?"; tail -n 30 "$OUT/$name.log"; }
run catheter 90 python3 bench/catheter_predict.py --device cuda --n 1024 --batch-size 64
run articles 90 python3 bench/articles_segment.py --device cuda --pages 64 --batch 16
run omr 60 python3 bench/omr_detect.py --device cuda --images bench/data/omr_pages --batch 16 --iters 20
# The loop end to end: one worker process per GPU; on PostgreSQL when DATABASE_URL names a server there.
LOUPE_DEVICE=cuda run loop 180 python3 bench/loop_infer.py --n 2048 --decode-threads 8 --workers 1
