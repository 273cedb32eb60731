#!/usr/bin/env bash
# One short GPU check (about 8 minutes), for a session lent a GPU machine; figures go to BENCHMARKS.md.
#   bash benchmarks/gpu_check.sh [OUT_DIR]
# 1. paper-config training frames/s with mixed precision (bf16), fp32 alongside, and the share of the
#    GPU's peak rate it reaches (PEAK_TFLOPS, default 790: the bf16 matrix rate measured on an H200);
# 2. a few minutes of BossLevel training at paper scale (the README's train_tc.py flags, one epoch
#    cut to a small epoch length), with the trainer's own frames/s in its log.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-/tmp/gpu_check}}
mkdir -p "$out"
peak=${PEAK_TFLOPS:-790}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD:$PWD/benchmarks"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
for batch in 8 180; do
  timeout 150 python benchmarks/bench_train.py --configs paper --device cuda --batch-size "$batch" --batches 2 \
    --repeats 3 --no-baseline --amp --flops --peak-tflops "$peak" 2>&1 | tee -a "$out/bench_train.txt" || true
done
timeout 90 python benchmarks/bench_train.py --configs paper --device cuda --batch-size 180 --batches 2 --repeats 2 \
  --no-baseline --flops --peak-tflops "$peak" 2>&1 | tee -a "$out/bench_train_fp32.txt" || true
storage="$out/storage"
python scripts/make_agent_demos.py --env BabyAI-BossLevel-v0 --episodes 3000 --valid-episodes 64 --noise-rate 0.01 \
  --demos boss3k --workers "$(nproc)" --storage-dir "$storage" 2>&1 | tail -n 2 | tee "$out/demos.txt"
timeout 240 python scripts/train_tc.py --env BabyAI-BossLevel-v0 --demos boss3k --memory-dim=2048 --recurrence=80 \
  --batch-size=180 --instr-arch=attgru --instr-dim=256 --val-interval 1 --log-interval 1 --lr 5e-4 --epochs 2 \
  --epoch-length 1440 --seed 0 --val-seed 2023 --val-episodes 64 --model tc_gpu --sg-coef 2 --warm-start --stop-tf 10 \
  --storage-dir "$storage" 2>&1 | grep -v "frame/s]" | tail -n 20 | tee "$out/train.txt" || true
