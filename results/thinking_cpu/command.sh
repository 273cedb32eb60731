#!/usr/bin/env bash
# Thinking agents on a CPU (issue: agents that think). A development sweep on development seeds (training
# seed 101, validation levels from 10^6) chooses, among levels whose oracle thoughts declare object
# interactions, the one where TC's own thoughts, played free, most often name the oracle's object (no other
# setting is swept); then the confirmation: TC, BC and TC without imitating thought on training seeds 1-5, evaluated on levels no
# probe played (in distribution from seed 3e9, the zero-shot suite from 2e9).
# Budget per run: 5 epochs x 100 optimizer steps (batch 32); teacher forcing stays on until the validation
# thought NLL is below 1 nat per frame (--tf-until-nll, a departure from the paper), then is phased out; best.pt
# on equal validation success goes to the better thoughts played (--best-ties-by-thoughts, a departure: on this
# level success saturates in the first epoch, before the thoughts form).
# Resumable: run it again after a kill; finished runs are kept in runs/ (commit them).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec python scripts/reproduce.py --name thinking_cpu --sweep --sweep-criterion thoughts \
  --sweep-levels PickupLoc UnlockLocal PutNextLocal --sweep-alternatives \
  --seeds 1 2 3 4 5 --demos 5000 --valid-demos 256 --noise-rate 0.01 \
  --epochs 5 --epoch-length 3200 --batch-size 32 --lr 5e-4 --image-dim 32 --memory-dim 128 --instr-dim 128 \
  --stop-tf 2 --tf-until-nll 1.0 --best-ties-by-thoughts --val-interval 1 --val-episodes 64 \
  --eval-episodes 200 --tc-eval-episodes 100 --levels-per-bin 5 --jobs 2 "$@"
