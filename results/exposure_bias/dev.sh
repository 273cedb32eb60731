#!/usr/bin/env bash
# Exposure bias on GoToSeq (issue: thoughts that hold on levels with several subgoals): development probes.
# One development training seed (101), validation on development levels (seeds from 10^6); teacher forcing on
# throughout (--stop-tf 4: no probe runs past epoch 4), so that the probes differ only in the remedy:
#   paper     the paper's recipe (the thought history reads the demonstrated previous thought)
#   noise20   --thought-history-noise 0.2 (the history reads a random thought of the batch on 20% of frames)
#   noise50   --thought-history-noise 0.5, likewise
#   samp25    --thought-history-sampling 0.25, reached over the first 100 optimizer steps
#   samp50    --thought-history-sampling 0.5, likewise
#   dagger    paper, then 3 rounds of oracle Thought-DAgger (300 new levels each, then 1 epoch = 75 optimizer
#             steps on the demos and every round's labels): runs eb_dev_paper_dagger1..3
#   dagger64  dagger, labelling only the first 64 steps of each played episode (runs eb_dev_paper_daggerK_first64)
#   more      the control of dagger: paper's best model trained 3 epochs more on the demos alone
# Budget: 4 epochs x 75 optimizer steps (batch 16 episodes, ~1,200 frames) = 300 optimizer steps (dagger and
# more: 225 more). Usage: results/exposure_bias/dev.sh PROBE [STORAGE]  (demos: scripts/make_agent_demos.py
#   --env BabyAI-GoToSeq-v0 --episodes 2000 --valid-episodes 256 --noise-rate 0.01 --seed 1 --demos GoToSeq).
# Resumable: rerun after a kill.
set -euo pipefail
cd "$(dirname "$0")/../.."
probe=$1; storage=${2:-storage}
name=eb_dev_$probe; epochs=4
case $probe in
  paper) extra=() ;;
  noise20) extra=(--thought-history-noise 0.2) ;;
  noise50) extra=(--thought-history-noise 0.5) ;;
  samp25) extra=(--thought-history-sampling 0.25 --history-sampling-steps 100) ;;
  samp50) extra=(--thought-history-sampling 0.5 --history-sampling-steps 100) ;;
  dagger) name=eb_dev_paper; extra=(--dagger-rounds 3 --dagger-levels 300 --dagger-epochs 1) ;;
  dagger64) name=eb_dev_paper; extra=(--dagger-rounds 3 --dagger-levels 300 --dagger-epochs 1 --dagger-label-steps 64) ;;
  more) epochs=3; extra=(--pretrained-model eb_dev_paper) ;;
  *) echo "error: unknown probe $probe (paper, noise20, noise50, samp25, samp50, dagger, dagger64, more)" >&2; exit 2 ;;
esac
exec python scripts/train_tc.py --env BabyAI-GoToSeq-v0 --demos GoToSeq --model "$name" --seed 101 \
  --epochs $epochs --epoch-length 1200 --stop-tf 4 --batch-size 16 --lr 1e-3 --image-dim 32 --memory-dim 128 \
  --instr-dim 128 --val-episodes 32 --val-interval 1 --val-seed 1000000 --patience 1000000 --device cpu \
  --threads 1 --storage-dir "$storage" "${extra[@]}"
