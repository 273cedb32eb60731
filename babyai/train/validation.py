"""A training run's validation: success on fresh levels, action accuracy on the validation demos, and
whether the agent's thoughts have formed.

Thought formation (Thought Cloning agents only; ``babyai.agent.thought_quality`` defines the figures):
- on the validation levels the agent plays free, with the oracle replanning alongside: its thought at each
  step against the oracle's thought in the state the agent is in (``validation_thought_exact``,
  ``validation_right_object``);
- on the validation demos, teacher-forced (the demonstrated thought as history): the thought loss per
  frame (``validation_thought_nll``, NLL summed over each thought's tokens, as the training column
  sg_loss) and the share of frames whose greedy sentence is the demonstrated one
  (``validation_thought_exact_tf``);
- on the validation demos, free-running (the model's own previous thought as history):
  ``validation_thought_exact_demos`` and ``validation_right_object_demos``.
Demonstration frames include the demos' noise segments, whose thoughts are random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from babyai.agent.policy import ModelPolicy
from babyai.agent.rollout import evaluate
from babyai.agent.thought_quality import Agreement, played_agreement
from babyai.model.config import PAD_ID, SOS_ID
from babyai.train import distributed
from babyai.train.data import EpisodeIndex, Tokenizer, batches
from babyai.train.losses import correct_actions, thought_nll
from babyai.train.progress import Progress
from babyai.train.run import Start, TrainConfig
from babyai.train.schedule import validation_seed
from babyai.train.windows import window_outputs

VAL_BATCH = 256  # validation levels played together (the sampled actions depend on it: keep it fixed)

# the log.csv columns of thought formation, and their console abbreviations (the legend says what they are)
THOUGHT_COLUMNS = {
    "validation_thought_exact": "vTx", "validation_right_object": "vTo", "validation_thought_nll": "vTn",
    "validation_thought_exact_tf": "vTf", "validation_thought_exact_demos": "vDx",
    "validation_right_object_demos": "vDo",
}


@dataclass
class Validation:
    """What a validation reads: the run's settings, processes, model, start (seed, vocabulary), progress,
    teacher-forcing ratio, autocast dtype and validation demos (with their tokenizer)."""

    cfg: TrainConfig
    d: distributed.Dist
    model: torch.nn.Module
    start: Start
    progress: Progress
    tf_ratio: float = 1.0
    amp_dtype: torch.dtype | None = None
    valid_index: EpisodeIndex | None = None
    tokenizer: Tokenizer | None = None


def validate(run: Validation) -> dict:
    """The validation figures at the run's current epoch; every process takes its share."""
    cfg, d, progress = run.cfg, run.d, run.progress
    out = {}
    policy = ModelPolicy(run.model, run.start.vocab, cfg.model_name, d.device, amp=run.amp_dtype or False)
    played = []
    for j, env in enumerate(cfg.envs):
        suffix = "" if len(cfg.envs) == 1 else f"_{env}"
        first = validation_seed(cfg.val_seed, progress.validations, j, len(cfg.envs), cfg.val_episodes, cfg.val_fixed)
        if j == 0:
            out["validation_seed"] = first
        if cfg.val_episodes == 0:
            continue
        seeds = list(range(first, first + cfg.val_episodes))[d.rank :: d.world]
        gen = torch.Generator().manual_seed(run.start.seed * 1_000_003 + first)
        records = evaluate(policy, env, seeds, generator=gen, seeding=cfg.seeding, workers=0, batch_size=VAL_BATCH,
                           oracle=policy.thinks)
        n, ret, succ = distributed.all_sum(d, [len(seeds), sum(r.episode_return for r in records),
                                               sum(r.success for r in records)])
        out[f"validation_return{suffix}"] = ret / n
        out[f"validation_success_rate{suffix}"] = succ / n
        played += records
    if policy.thinks and cfg.val_episodes:
        rates = Agreement.from_counts(distributed.all_sum(d, played_agreement(played).counts())).rates()
        out["validation_thought_exact"], out["validation_right_object"] = rates["exact"], rates["right_object"]
    if run.valid_index is not None:
        out.update(demo_figures(run, policy.thinks))
    return out


@torch.no_grad()
def demo_figures(run: Validation, thinks: bool) -> dict:
    """Action accuracy on the validation demos (one teacher-forcing coin flip with the current ratio, as in
    training) and, for a thinking model, the thought figures of the teacher-forced and free-running passes."""
    d, model = run.d, run.model
    was_training = model.training
    model.eval()
    coin = np.random.default_rng([run.start.seed, run.progress.epoch])
    tf_coin = bool(coin.random() < run.tf_ratio)
    sums = {"correct": 0, "frames": 0}
    passes = (True, False) if thinks else (tf_coin,)
    forced = {"nll": 0.0, "exact": 0}
    free = Agreement()
    for teacher_forcing in passes:
        for batch, outs in _demo_windows(run, teacher_forcing):
            for rows, out in outs:
                if teacher_forcing == tf_coin:  # the action accuracy of the coin's pass
                    sums["correct"] += int(correct_actions(out.action_logits, batch.actions[rows]))
                    sums["frames"] += len(batch.actions[rows])
                if not thinks:
                    continue
                targets = batch.thoughts[batch.thought_ids[rows]]  # (N, Lt) "sos ... eos", padded
                if teacher_forcing:
                    forced["nll"] += float(thought_nll(out.thought_logits, targets[:, 1:]))
                    forced["exact"] += int(_greedy_exact(out.thought_logits, targets[:, 1:]).sum())
                else:
                    vocab = run.start.vocab
                    free.add_pairs(zip((vocab.decode(t) for t in out.thought_tokens.tolist()),
                                       (vocab.decode(t) for t in targets.tolist())))
    model.train(was_training)
    correct, frames, nll, exact = distributed.all_sum(d, [sums["correct"], sums["frames"], forced["nll"],
                                                          forced["exact"]])
    out = {"validation_accuracy": correct / max(frames, 1)}
    if thinks:
        rates = Agreement.from_counts(distributed.all_sum(d, free.counts())).rates()
        out.update(validation_thought_nll=nll / max(frames, 1), validation_thought_exact_tf=exact / max(frames, 1),
                   validation_thought_exact_demos=rates["exact"], validation_right_object_demos=rates["right_object"])
    return out


def _demo_windows(run: Validation, teacher_forcing: bool):
    """(batch, its windows' outputs) over this process's share of the validation demos."""
    cfg, d, index = run.cfg, run.d, run.valid_index
    size = min(cfg.batch_size, len(index))
    for batch, _ in batches(index, np.arange(len(index)), size, run.tokenizer, d.rank, d.world,
                            pin=d.device.type == "cuda", drop_last=False, episodes_per_lane=cfg.episodes_per_lane):
        batch = batch.to(d.device)
        yield batch, window_outputs(run.model, batch, cfg.recurrence, teacher_forcing, run.amp_dtype)


def _greedy_exact(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N,) bool: the frames whose greedy sentence, each word chosen after the true words before it, is the
    target (padding and "sos" are never chosen, as in greedy decoding). logits: (N, L, V); targets: (N, >= L)."""
    n, length, _ = logits.shape
    targets = targets[:, :length]
    never = torch.tensor([PAD_ID, SOS_ID], device=logits.device)
    chosen = logits.float().index_fill(2, never, float("-inf")).argmax(2)  # (N, L)
    return ((chosen == targets) | (targets == PAD_ID)).all(1)
