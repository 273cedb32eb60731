#!/usr/bin/env bash
# The CPU study of issue 11: a development sweep (seed 101, development validation levels), then the
# confirmation (seeds 1-5, TC / BC / TC w/o thought, TC at noise 0 and 5% on seeds 1-3), evaluated on
# levels no probe played. Resumable: run it again after a kill.
# This command made sweep.md and choice.json (the sweep: about 3 hours on 2 cores). Its confirmation
# (8 x 1000 episodes per run at the chosen width 64 / batch 32) needs about 10 hours on 2 cores and was
# never completed; the committed report (README.md, summary.json) comes from confirm.sh, which confirms
# the same choice.json at a smaller budget. Running this again rewrites that report.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec python scripts/reproduce.py --name study_cpu --sweep --seeds 1 2 3 4 5 --noise-variants 0 0.05 \
  --demos 5000 --valid-demos 256 --epochs 8 --epoch-length 1000 --sweep-epoch-length 500 --stop-tf 4 \
  --batch-size 64 --image-dim 32 --memory-dim 128 --instr-dim 64 --val-interval 2 --val-episodes 100 \
  --eval-episodes 300 --tc-eval-episodes 150 --levels-per-bin 10 \
  --sweep-alternatives image_dim=64 batch_size=32 stop_tf=1000 sg_coef=1 \
  --jobs 2 "$@"
