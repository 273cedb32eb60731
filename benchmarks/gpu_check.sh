#!/usr/bin/env bash
# The short GPU check of issue 26 (at most 8 minutes on a bare device machine); figures go to BENCHMARKS.md.
#   bash benchmarks/gpu_check.sh [OUT_DIR]            # on the GPU machine (see BENCHMARKS.md, "GPU check")
#   DEVICE=cpu SMALL=1 bash benchmarks/gpu_check.sh   # the dry path: every Python part at tiny sizes on the CPU
# It prints, each part under its own time limit (a part that fails or runs out prints so and the rest go on):
# 1. paper-config training frames/s in bf16 (bench_train.py --amp, batch 180) for TC and for BC;
# 2. aten calls per time step / per agent step and the GPU's busy share (bench_ops.py, torch.profiler);
# 3. FLOPs per frame counted on a small batch (FlopCounterMode) and the share of the peak (PEAK_TFLOPS, default
#    790: the H200's bf16 matrix rate) reached at part 1's TC rate;
# 4. the log of a 3-minute BossLevel train_tc.py run at the paper's flags;
# 5. a TC evaluation's episodes/s (evaluate.py --device cuda on that run's checkpoint).
# Wheels carried in .whl/ (gymnasium, minigrid, ...) are installed into /tmp/site first when present.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-/tmp/gpu_check}}
mkdir -p "$out"
device=${DEVICE:-cuda}
peak=${PEAK_TFLOPS:-790}
small=${SMALL:-}
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "installing the carried wheels failed"; exit 1; }
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
started=$(date +%s)
part() {  # part NAME SECONDS COMMAND...: run with a time limit, output to the console and $out/NAME.txt
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit} s, at $(( $(date +%s) - started )) s)"
  timeout "$limit" "$@" 2>&1 | grep -v -e "USDT:" -e "frame/s]" | tee "$out/$name.txt"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || echo "=== $name: exit status $rc$([ "$rc" = 124 ] && echo ' (out of time)')"
}

if [ "$device" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
fi
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"

if [ -n "$small" ]; then  # tiny sizes: checks that every part runs, figures mean nothing
  train_args=(--configs small --batch-size 2 --batches 1 --repeats 1 --image-dims 16)
  flops_bs=1; ops_args=(--small); demos=40; train_flags=(--memory-dim 32 --instr-dim 32 --image-dim 16 --recurrence 4
    --batch-size 8 --epoch-length 16); train_limit=45; eval_episodes=8
else
  train_args=(--configs paper --batch-size 180 --batches 2 --repeats 3)
  flops_bs=8; ops_args=(); demos=3000; train_flags=(--memory-dim=2048 --instr-dim=256 --recurrence=80 --batch-size=180
    --epoch-length 1440); train_limit=180; eval_episodes=256
fi
amp=(); [ "$device" = cuda ] && amp=(--amp)

# 1 + 3: frames/s in bf16, TC (with FLOPs counted on a small batch) and BC
part bench_train_tc 90 python3 benchmarks/bench_train.py "${train_args[@]}" --device "$device" "${amp[@]}" \
  --no-baseline --flops --flops-batch-size "$flops_bs" --peak-tflops "$peak"
part bench_train_bc 45 python3 benchmarks/bench_train.py "${train_args[@]}" --device "$device" "${amp[@]}" \
  --no-baseline --algo bc
# 2: aten calls and GPU busy share, paper config, 8 BossLevel episodes
part bench_ops 60 python3 benchmarks/bench_ops.py "${ops_args[@]}" --device "$device" "${amp[@]}" --top 8
# 4: a 3-minute BossLevel run at the paper's flags (its log's frames/s lines)
storage="$out/storage"
part demos 30 python3 scripts/make_agent_demos.py --env BabyAI-BossLevel-v0 --episodes "$demos" --valid-episodes 0 \
  --noise-rate 0.01 --demos boss_gpu --workers "$(nproc)" --storage-dir "$storage"
# (epochs of 8 batches, each logged; a checkpoint every minute; stopped by SIGINT after $train_limit s)
part train_tc $(( train_limit + 15 )) timeout -s INT "$train_limit" python3 scripts/train_tc.py \
  --env BabyAI-BossLevel-v0 --demos boss_gpu "${train_flags[@]}" --instr-arch=attgru --lr 5e-4 --epochs 1000 \
  --log-interval 1 --val-interval 1000 --val-episodes 0 --seed 0 --model tc_gpu --sg-coef 2 --warm-start --stop-tf 10 \
  --checkpoint-minutes 1 --device "$device" --storage-dir "$storage"
# 5: TC evaluation's episodes/s, on the checkpoint the run left (last.pt)
tick=$(date +%s.%N)
part evaluate 60 python3 scripts/evaluate.py --model tc_gpu --checkpoint last --storage-dir "$storage" \
  --env BabyAI-BossLevel-v0 --episodes "$eval_episodes" --batch-size "$eval_episodes" --device "$device" --argmax
python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print(f'evaluation: {n} episodes in {s:.1f} s = {n / s:.2f} episodes/s (process start and model loading included)')" \
  "$eval_episodes" "$(python3 -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$tick")" | tee -a "$out/evaluate.txt"
echo "=== done in $(( $(date +%s) - started )) s; outputs in $out"
