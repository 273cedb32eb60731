#!/usr/bin/env python3
"""How well the BatchNorm running statistics fit the frames of the training batches.

    python benchmarks/bench_batchnorm.py --demos PATH [--batch-size 180] [--batches 20] [--lr 0]
        [--episodes-per-lane 3] [--per-step-statistics]

Trains a Thought Cloning agent for --batches optimizer steps on batches of the dataset (the
trainer's own step, ``backward_batch``) and, for every BatchNorm layer, compares its running mean
and variance afterwards with the mean and variance of the layer's training-mode inputs over all the
frames of the last half of those batches. It prints per layer the variance ratio (running / true:
median and range over channels), the running mean's error in true standard deviations (median),
and the share of the frames that were normalised in calls of at most 3 rows (episodes or lanes).

``--episodes-per-lane 1 --per-step-statistics`` is the layout and the statistics the trainer had
before lanes (one row per episode; running statistics moved at every call, as nn.BatchNorm2d does).
With --lr 0 the weights stay at their initial values, so the inputs' distribution does not drift.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np
import torch

from babyai.demos import open_demos
from babyai.model import TCConfig, ThoughtCloningAgent
from babyai.model.layers import FrameBatchNorm2d
from babyai.train.data import Tokenizer, make_batch
from babyai.train.run import TrainConfig
from babyai.train.trainer import backward_batch
from babyai.train.vocab import Vocabulary


class InputStatistics:
    """Per-channel sums of a layer's inputs over every call (float64), and the rows of each call."""

    def __init__(self, layer: FrameBatchNorm2d):
        self.layer, self.active = layer, False
        self.n, self.s1, self.s2, self.small_frames, self.frames = 0, 0.0, 0.0, 0, 0
        layer.register_forward_pre_hook(self._hook)

    def _hook(self, module, inputs):
        if not (self.active and module.training):
            return
        x = inputs[0].detach().double()  # (n, C, 7, 7)
        self.n += x.numel() // x.shape[1]
        self.s1 = self.s1 + x.sum((0, 2, 3))
        self.s2 = self.s2 + (x * x).sum((0, 2, 3))
        self.frames += x.shape[0]
        self.small_frames += x.shape[0] if x.shape[0] <= 3 else 0

    def compare(self) -> tuple[float, float, float, float, float]:
        mean = self.s1 / self.n
        var = self.s2 / self.n - mean**2
        ratio = (self.layer.running_var.double() / var).numpy()
        error = ((self.layer.running_mean.double() - mean).abs() / var.sqrt()).numpy()
        return float(np.median(ratio)), float(ratio.min()), float(ratio.max()), float(np.median(error)), self.small_frames / self.frames


def measure(episodes, vocab, args) -> dict[str, tuple]:
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TCConfig(memory_dim=args.memory_dim, instr_dim=args.instr_dim, image_dim=args.image_dim)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)
    cfg = TrainConfig(algo="tc", model_name="bench", envs=[episodes[0].level], demos=["x"], episodes=[0], recurrence=args.recurrence)
    tokenizer = Tokenizer(vocab, model.cfg.max_thought_len)
    layers = {name: InputStatistics(m) for name, m in model.named_modules() if isinstance(m, FrameBatchNorm2d)}
    if args.per_step_statistics:  # the trainer before lanes: every call moves the running statistics
        model.apply(lambda m: setattr(m, "begin", lambda: None) if isinstance(m, FrameBatchNorm2d) else None)
    rng = np.random.default_rng(1)
    for k in range(args.batches):
        chosen = rng.choice(len(episodes), size=args.batch_size, replace=False)
        batch = make_batch([episodes[i] for i in chosen], tokenizer, args.episodes_per_lane)
        for stats in layers.values():
            stats.active = k >= args.batches // 2
        optimizer.zero_grad(set_to_none=True)
        backward_batch(model, batch, cfg, True, 1.0 / batch.num_frames)
        optimizer.step()
    return {name: stats.compare() for name, stats in layers.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demos", required=True, help="path of a dataset (e.g. storage/demos/boss1k)")
    p.add_argument("--episodes", type=int, default=600, help="episodes of the dataset to draw batches from (default: 600)")
    p.add_argument("--batch-size", type=int, default=180, help="episodes per batch (default: 180, the paper's)")
    p.add_argument("--batches", type=int, default=20, help="optimizer steps (default: 20)")
    p.add_argument("--lr", type=float, default=0.0, help="learning rate (default: 0, weights stay put)")
    p.add_argument("--episodes-per-lane", type=int, default=3, help="as train_tc.py's flag (default: 3)")
    p.add_argument("--per-step-statistics", action="store_true", help="move the running statistics at every call (the old way)")
    p.add_argument("--recurrence", type=int, default=20)
    p.add_argument("--memory-dim", type=int, default=128)
    p.add_argument("--instr-dim", type=int, default=128)
    p.add_argument("--image-dim", type=int, default=32)
    args = p.parse_args(argv)
    for name in ("episodes", "batch_size", "batches", "episodes_per_lane", "recurrence"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    torch.set_num_threads(1)
    demos = open_demos(args.demos)
    episodes = [demos[i] for i in range(min(args.episodes, len(demos)))]
    if len(episodes) < args.batch_size:
        p.error(f"--batch-size {args.batch_size} is more than the {len(episodes)} episodes read")
    results = measure(episodes, Vocabulary.babyai(), args)
    print(f"{'layer':58s} {'var ratio median (range)':>28s} {'mean err':>9s} {'frames in calls <=3 rows':>25s}")
    for name, (med, lo, hi, err, small) in results.items():
        print(f"{name:58s} {med:10.3f} ({lo:.3f}-{hi:.3f})      {err:9.3f} {100 * small:24.1f}%")
    medians = [r[0] for r in results.values()]
    print(f"all {len(results)} layers: median variance ratio {statistics.median(medians):.3f}, "
          f"range of layer medians {min(medians):.3f}-{max(medians):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
