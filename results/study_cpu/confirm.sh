#!/usr/bin/env bash
# The confirmation of the CPU study of issue 11: the configuration the development sweep chose
# (choice.json, written by command.sh's sweep), TC / BC / TC w/o thought on training seeds 1-5 and TC at
# noise 0 and 5% on seed 1, evaluated on levels no probe played. Sized to about one hour on 2 cores
# (8 epochs x 60 episodes per run, an eighth of the probes' 8 x 500). Resumable: run it again after a kill.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec python scripts/reproduce.py --name study_cpu --choice results/study_cpu/choice.json --seeds 1 2 3 4 5 \
  --noise-variants 0 0.05 --noise-seeds 1 --demos 1000 --valid-demos 128 --epochs 8 --epoch-length 60 \
  --memory-dim 128 --instr-dim 64 --val-interval 4 --val-episodes 100 \
  --eval-episodes 150 --tc-eval-episodes 60 --levels-per-bin 10 --jobs 2 "$@"
