#!/usr/bin/env bash
# The confirmation of the CPU study of issue 11: the configuration the development sweep chose
# (choice.json, written by command.sh's sweep) confirmed with TC / BC / TC w/o thought on training
# seeds 1-5 and TC at noise 0 and 5% on seeds 1-2, evaluated on levels no probe played.
# 8 epochs x 250 episodes per run (half the probes' 8 x 500). On SynthSeq (2304 steps allowed per level)
# evaluation costs more than training: about 5 hours on 2 cores in all (measured on seed 1). Resumable, also on
# another machine: each finished run's results are kept in runs/ (commit them); run this again.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec python scripts/reproduce.py --name study_cpu --choice results/study_cpu/choice.json --seeds 1 2 3 4 5 \
  --noise-variants 0 0.05 --noise-seeds 1 2 --demos 2000 --valid-demos 128 --epochs 8 --epoch-length 250 \
  --memory-dim 128 --instr-dim 64 --val-interval 4 --val-episodes 50 \
  --eval-episodes 100 --tc-eval-episodes 50 --levels-per-bin 5 --jobs 2 "$@"
