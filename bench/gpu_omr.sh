#!/usr/bin/env bash
# OMR detector on a GPU machine (one H200): train the `gpu` preset (margin patches on), evaluate it on clean
# renders and simulated photos, train the same schedule without margin patches for the rare-class comparison,
# and measure pages/s. Everything lands in $OUT as JSON (summary.json gathers the figures).
#
#     bash bench/gpu_omr.sh                  # ~ 7-8 min on an H200
#     OMR_SMOKE=1 OUT=/tmp/o bash bench/gpu_omr.sh   # a few steps on CPU: checks the plumbing only
#
# Needs only torch, opencv-python-headless, numpy, scipy, safetensors: the pages and their truth come
# pre-rendered from bench/data/omr (bench/make_omr_data.py); training photos are simulated with OpenCV.
# Settings: OMR_DATA (data folder), OMR_CKPT_DIR (checkpoints, default /tmp/omr_gpu_ckpt), OMR_BUDGET (s of
# the main training schedule, default 160), OMR_ABLATION=0 (skip the no-margin run), OMR_WORKERS (processes
# preparing pages, default 12), OMR_DEVICE (default cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python}
OUT=${OUT:-bench/out/gpu_omr}
DATA=${OMR_DATA:-bench/data/omr}
DEVICE=${OMR_DEVICE:-cuda}
BUDGET=${OMR_BUDGET:-160}
WORKERS=${OMR_WORKERS:-12}
ABLATION=${OMR_ABLATION:-1}
CK=${OMR_CKPT_DIR:-/tmp/omr_gpu_ckpt}   # checkpoints (~18 MB each) stay out of $OUT, which holds only JSON and logs
mkdir -p "$OUT" "$CK"
LOG="$OUT/log.txt"
: > "$LOG"
START=$(date +%s)
stamp() { echo "[$(( $(date +%s) - START )) s] $*" | tee -a "$LOG"; }

TRAIN_ARGS=(--size gpu --data "$DATA/train" --photos 2 --workers "$WORKERS" --device "$DEVICE")
EVAL_DIR="$DATA/eval"
BENCH_ARGS=(--pages 8)
if [[ "${OMR_SMOKE:-0}" == "1" ]]; then
    # plumbing check on a CPU: 2 training pages, a handful of steps, one render + one photo to evaluate
    DEVICE=${OMR_DEVICE:-cpu}
    TRAIN_ARGS=(--size gpu --data "$DATA/train" --pages 2 --photos 1 --workers 1 --device "$DEVICE"
                --steps 2,2,1,1,3 --crop 128 --batch-size 2)
    EVAL_DIR="$CK/smoke_eval"
    mkdir -p "$EVAL_DIR"
    for f in "$DATA"/eval/p05000.* "$DATA"/eval/r05000.*; do cp "$f" "$EVAL_DIR/"; done
    BENCH_ARGS=(--pages 1 --batch 1 --iters 1)
    BUDGET=0
fi

stamp "environment"
$PY - <<'EOF' | tee "$OUT/env.json"
import json, platform, torch
print(json.dumps({"python": platform.python_version(), "torch": torch.__version__,
                  "cuda": torch.cuda.is_available(),
                  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))
EOF

stamp "train gpu preset with margin patches (schedule budget ${BUDGET} s)"
timeout 420 $PY -m ml.omr train-detector "${TRAIN_ARGS[@]}" --time-budget "$BUDGET" --out "$CK/ckpt_margin" \
    > "$OUT/train_margin.log" 2>&1 || { tail -20 "$OUT/train_margin.log"; exit 1; }
tail -1 "$OUT/train_margin.log" > "$OUT/train_margin.json"
stamp "trained: $(grep -o '"train_seconds": [0-9.]*' "$OUT/train_margin.json")"

stamp "evaluate (clean renders + moderate photos of held-out pieces)"
$PY -m ml.omr evaluate "$CK/ckpt_margin" --data "$EVAL_DIR" --device "$DEVICE" --per-class \
    --out "$OUT/eval_margin.json" | tee "$OUT/eval_margin.txt"

if [[ "$ABLATION" == "1" ]]; then
    # the same number of steps per stage as the main run, so only the margin patches differ
    STEPS=$($PY -c "import json; print(','.join(str(s) for s in json.load(open('$OUT/train_margin.json'))['steps_run']))")
    [[ "${OMR_SMOKE:-0}" == "1" ]] && STEPS=2,2,1,1,3
    stamp "train without margin patches (steps $STEPS)"
    timeout 420 $PY -m ml.omr train-detector "${TRAIN_ARGS[@]}" --steps "$STEPS" --no-margin \
        --out "$CK/ckpt_nomargin" > "$OUT/train_nomargin.log" 2>&1 || { tail -20 "$OUT/train_nomargin.log"; exit 1; }
    tail -1 "$OUT/train_nomargin.log" > "$OUT/train_nomargin.json"
    $PY -m ml.omr evaluate "$CK/ckpt_nomargin" --data "$EVAL_DIR" --device "$DEVICE" --per-class \
        --out "$OUT/eval_nomargin.json" > "$OUT/eval_nomargin.txt"
    stamp "no-margin evaluated"
fi

stamp "throughput"
$PY bench/omr_detect.py --device "$DEVICE" --checkpoint "$CK/ckpt_margin" --images "$EVAL_DIR" "${BENCH_ARGS[@]}" \
    > "$OUT/detect_bench.json"
cat "$OUT/detect_bench.json" | tee -a "$LOG"

$PY - "$OUT" <<'EOF' | tee "$OUT/summary.json"
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
def load(name):
    p = out / name
    return json.loads(p.read_text()) if p.exists() else None

def figures(ev):
    if ev is None:
        return None
    s = ev["slices"]
    return {"mAP50_frequent_clean": s.get("kind:render", {}).get("mAP_frequent"),
            "mAP50_frequent_photos": s.get("kind:moderate", {}).get("mAP_frequent"),
            "recall_rare_clean": s.get("kind:render", {}).get("recall_rare"),
            "recall_rare_photos": s.get("kind:moderate", {}).get("recall_rare"),
            "recall_rare_all": ev["overall"]["recall_rare"], "rare_support": ev["overall"]["rare_support"],
            "ap_per_frequent_class": {c: ev["per_class"][c]["ap"] for c in ev["frequent_classes"]
                                      if ev["per_class"].get(c, {}).get("support")}}

tm, tn = load("train_margin.json"), load("train_nomargin.json")
print(json.dumps({
    "margin": figures(load("eval_margin.json")), "no_margin": figures(load("eval_nomargin.json")),
    "train_seconds_margin": tm and tm["train_seconds"], "steps_margin": tm and tm["steps_run"],
    "train_seconds_no_margin": tn and tn["train_seconds"], "steps_no_margin": tn and tn["steps_run"],
    "throughput": load("detect_bench.json"), "env": load("env.json"),
}, indent=1, default=float))
EOF
stamp "done"
