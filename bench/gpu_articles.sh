#!/usr/bin/env bash
# Articles on a machine with a GPU, side by side in one run:
#  1. the `cpu` preset trained for the step count a quiet 2-core CPU reaches in its 17-minute budget
#     (STEPS, default 1500), to show what the default model reaches when the CPU is not shared;
#  2. the CPU-trained checkpoints carried in bench/data/ckpt (if any) on the same held-out pages;
#  3. new-publisher fine-tuning from the GPU-trained model with three (learning rate, replay share) settings.
# Pages are regenerated from the README's seeds (working copies rendered at 640 px) with the carried fonts.
# Output: $OUT/articles.json (summary); progress on stdout.
set -uo pipefail
OUT=${OUT:-bench/out}
PY=${PY:-python3}
STEPS=${STEPS:-1500}
PAGES=${PAGES:-80}
FT_PAGES=${FT_PAGES:-50}
FT_STEPS=${FT_STEPS:-240}
D=${WORK:-/tmp/articles-gpu}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT" "$D"
[ -d bench/data/fonts ] && export LOUPE_FONT_DIRS=$PWD/bench/data/fonts

t0=$(date +%s)
$PY -m ml.articles synth --out $D/test --publishers 5 --pages $PAGES --seed 777 --non-article-share 0.35 \
    --work-width 640 --no-full >/dev/null &
$PY -m ml.articles synth --out $D/nordic-ft --publisher nordic-tabloid --pages $FT_PAGES --seed 501 \
    --work-width 640 --no-full --non-article-share 0 >/dev/null &
$PY -m ml.articles synth --out $D/nordic-test --publisher nordic-tabloid --pages $((PAGES / 4)) --seed 502 \
    --work-width 640 --no-full --non-article-share 0 >/dev/null &
wait_all() { for p in $(jobs -p); do wait "$p"; done; }  # plain `wait` would also wait on a caller's tee
wait_all
echo "data: $(( $(date +%s) - t0 )) s"

t1=$(date +%s)
$PY -m ml.articles train --out $D/gpu-model --size cpu --steps $STEPS --max-minutes 1000 --device $DEVICE \
    > $D/train.json
echo "train ($STEPS steps, cpu preset, $DEVICE): $(( $(date +%s) - t1 )) s"

evaluate() {  # checkpoint data name
  $PY -m ml.articles evaluate "$1" --data "$2" --json --device $DEVICE > "$D/eval-$3.json" || echo "evaluate $3 failed"
}
evaluate $D/gpu-model $D/test gpu-model &
evaluate $D/gpu-model $D/nordic-test gpu-model-nordic &
for c in bench/data/ckpt/*/; do
  [ -f "$c/config.json" ] || continue
  n=$(basename "$c")
  evaluate "$c" $D/test "carried-$n" &
  evaluate "$c" $D/nordic-test "carried-$n-nordic" &
done
i=0
for setting in "0.0001 0.75" "0.0003 0.75" "0.001 0.5"; do
  set -- $setting
  i=$((i + 1))
  ( $PY -m ml.articles finetune --from $D/gpu-model --data $D/nordic-ft --publisher nordic-tabloid \
        --out $D/ft$i --steps $FT_STEPS --lr $1 --replay-fraction $2 --device $DEVICE > $D/ft$i.json \
    && evaluate $D/ft$i $D/nordic-test ft$i-nordic && evaluate $D/ft$i $D/test ft$i ) &
done
wait_all
echo "all: $(( $(date +%s) - t0 )) s"
$PY bench/articles_gpu_summary.py "$D" > "$OUT/articles.json"
cat "$OUT/articles.json"
