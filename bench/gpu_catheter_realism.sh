#!/usr/bin/env bash
# Catheter at `realistic` difficulty on a machine with a GPU: does a model reach recall >= 0.95 at precision
# 0.90, and what does each choice buy? Side by side on one held-out set (1000 realistic shots, seed 2):
#   gpu       the `gpu` preset (512 px, wider, 30 epochs, no time budget) on the README's training data
#             (2400 realistic shots, seed 1, 5 % label noise)
#   cpu-fixed the `cpu` preset for a fixed 2000 steps (what a quiet 2-core CPU reaches in ~12 min; the shipped
#             pretrained/catheter model was trained so), on the GPU so that load does not decide the steps
#   gpu-bce   the gpu preset with plain BCE and uniform sampling (no focal loss, no defect oversampling)
#   gpu-clean the gpu preset trained without label noise (what the operators' misses cost)
#   gpu-nodecoy the gpu preset trained on shots without the harmless look-alikes (evaluated on shots with them)
# then, for the gpu model, bench/catheter_realism_effects.py (the cost of each realism effect, and TTA) and
# bench/catheter_series.py (rotation series: a shot alone vs with what stays still over the series);
#   loop      (beside the trainings) bench/loop_realism.py with a gpu-preset champion trained without the
#             `strong_artifacts` set-up: candidate vs champion after N = 10, 25, 50 accepted corrections of it
# Budget: about 10 minutes on one H200 (data ~2 min on 16 cores, trainings side by side).
#   bash bench/gpu_catheter_realism.sh       (OUT=bench/out by default; RUNS="gpu cpu-fixed" to choose)
set -uo pipefail
OUT=${OUT:-bench/out}
PY=${PY:-python3}
D=${WORK:-/tmp/catheter-gpu}
DEVICE=${DEVICE:-cuda}
N_TRAIN=${N_TRAIN:-2400}
N_TEST=${N_TEST:-1000}
RUNS=${RUNS:-"gpu cpu-fixed gpu-bce gpu-clean gpu-nodecoy loop"}
mkdir -p "$OUT" "$D"
wait_all() { for p in $(jobs -p); do wait "$p"; done; }
has() { [[ " $RUNS " == *" $1 "* ]]; }

t0=$(date +%s)
$PY -m ml.catheter synth --out $D/train --n $N_TRAIN --seed 1 --label-noise 0.05 >/dev/null &
$PY -m ml.catheter synth --out $D/test --n $N_TEST --seed 2 >/dev/null &
has gpu-clean && $PY -m ml.catheter synth --out $D/train-clean --n $N_TRAIN --seed 1 >/dev/null &
has gpu-nodecoy && $PY -m ml.catheter synth --out $D/train-nodecoy --n $N_TRAIN --seed 1 --label-noise 0.05 \
    --realism decoys=0 >/dev/null &
wait_all
echo "data: $(( $(date +%s) - t0 )) s"

train() {  # name data args...
  local name=$1 data=$2; shift 2
  local t=$(date +%s)
  $PY -m ml.catheter train --data "$data" --out $D/$name --device $DEVICE "$@" > $D/train-$name.log 2>&1 \
    && $PY -m ml.catheter evaluate $D/$name --data $D/test --json --adv-n 200 --device $DEVICE \
         > $D/eval-$name.json 2> $D/eval-$name.log \
    || echo "$name failed (see $D/*-$name.log)"
  echo "$name: $(( $(date +%s) - t )) s"
}
has gpu && train gpu $D/train --preset gpu &
has cpu-fixed && train cpu-fixed $D/train --preset cpu --time-budget 0 --epochs 40 --steps-per-epoch 50 &
has gpu-bce && train gpu-bce $D/train --preset gpu --loss bce --oversample 0 &
has gpu-clean && train gpu-clean $D/train-clean --preset gpu &
has gpu-nodecoy && train gpu-nodecoy $D/train-nodecoy --preset gpu &
has loop && LOUPE_DEVICE=$DEVICE $PY bench/loop_realism.py --preset gpu --budget 0 --out $D/loop > $D/loop.log 2>&1 &
wait_all
has loop && cat $D/loop.log
has gpu && [ -f $D/gpu/config.json ] && $PY bench/catheter_realism_effects.py --checkpoint $D/gpu --device $DEVICE \
    --n $N_TEST --json $D/effects-gpu.json
has gpu && [ -f $D/gpu/config.json ] && $PY bench/catheter_series.py --checkpoint $D/gpu --device $DEVICE \
    --json $D/series-gpu.json

$PY - "$D" $RUNS <<'EOF' | tee "$OUT/catheter_realism.json"
import json, sys
from pathlib import Path
d, runs = Path(sys.argv[1]), sys.argv[2:]
out = {}
for r in runs:
    if r == "loop":
        f = d / "loop" / "loop_realism.json"
        out[r] = json.loads(f.read_text()) if f.exists() else None
        continue
    f = d / f"eval-{r}.json"
    if not f.exists():
        out[r] = None
        continue
    e = json.loads(f.read_text())
    v = e["verdict"]
    info = json.loads((d / r / "config.json").read_text()).get("train", {})
    out[r] = {"auroc": v["auroc"], "ap": v["average_precision"], "recall_at_p90": v["recall_at_precision_0.90"],
              "steps": info.get("steps"), "train_seconds": info.get("seconds"), "n": e["n"],
              "defective": e["n_defective"]}
for key, name in (("effects_gpu", "effects-gpu.json"), ("series_gpu", "series-gpu.json")):
    if (d / name).exists():
        out[key] = json.loads((d / name).read_text())
print(json.dumps(out, indent=1))
EOF
echo "all: $(( $(date +%s) - t0 )) s"
