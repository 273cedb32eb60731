"""BatchNorm statistics in training: they must be those of the batches' frames (issue 11).

The layers called once per time step (three of each generator's four FiLM BatchNorms) used to see,
at the last steps of a batch, only its one to three longest episodes, and their running statistics
(used in eval mode: validation, model choice, every evaluation) were dominated by those steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from babyai.demos import open_demos
from babyai.model import TCConfig, ThoughtCloningAgent
from babyai.model.layers import FrameBatchNorm2d, frame_statistics
from babyai.train.data import Tokenizer, make_batch
from babyai.train.trainer import backward_batch
from babyai.train.vocab import Vocabulary
from _train_helpers import make_demos, one_thread, tiny_config  # noqa: F401

BOSS = "BabyAI-BossLevel-v0"


@pytest.fixture(scope="module")
def boss_episodes(tmp_path_factory):
    folder = make_demos(tmp_path_factory.mktemp("bn"), "boss", 36, first_seed=7000, level=BOSS)
    demos = open_demos(folder)
    return [demos[i] for i in range(len(demos))]


class _Inputs:
    """Per-channel sums of a layer's training-mode inputs over every call, while active."""

    def __init__(self, layer):
        self.layer, self.active, self.n, self.s1, self.s2 = layer, False, 0, 0.0, 0.0
        layer.register_forward_pre_hook(self._hook)

    def _hook(self, module, inputs):
        if self.active and module.training:
            x = inputs[0].detach().double()  # (n, C, 7, 7)
            self.n += x.numel() // x.shape[1]
            self.s1 = self.s1 + x.sum((0, 2, 3))
            self.s2 = self.s2 + (x * x).sum((0, 2, 3))

    def variance_ratio_and_mean_error(self) -> tuple[float, float]:
        mean = self.s1 / self.n
        var = self.s2 / self.n - mean**2
        ratio = float(np.median((self.layer.running_var.double() / var).numpy()))
        error = float(np.median(((self.layer.running_mean.double() - mean).abs() / var.sqrt()).numpy()))
        return ratio, error


def _train_and_compare(episodes, storage, episodes_per_lane: int, per_call: bool, steps: int = 4):
    """Train a small agent on BossLevel batches; per BatchNorm layer, (running var / true var, mean error)
    over the frames of the last half of the batches."""
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TCConfig(memory_dim=16, instr_dim=16, image_dim=16)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-5)
    cfg = tiny_config(storage, "bn", recurrence=20, episodes_per_lane=episodes_per_lane)
    tokenizer = Tokenizer(Vocabulary.babyai(), 15)
    layers = {name: _Inputs(m) for name, m in model.named_modules() if isinstance(m, FrameBatchNorm2d)}
    if per_call:  # what nn.BatchNorm2d does: every call moves the running statistics
        for m in model.modules():
            if isinstance(m, FrameBatchNorm2d):
                m.begin = lambda: None
    rng = np.random.default_rng(3)
    for k in range(steps):
        batch = make_batch([episodes[i] for i in rng.choice(len(episodes), 12, replace=False)], tokenizer, episodes_per_lane)
        for stats in layers.values():
            stats.active = k >= steps // 2
        optimizer.zero_grad(set_to_none=True)
        backward_batch(model, batch, cfg, True, 1.0 / batch.num_frames)
        optimizer.step()
    return {name: stats.variance_ratio_and_mean_error() for name, stats in layers.items()}


def test_running_statistics_are_those_of_the_batches_frames(boss_episodes, tmp_path):
    results = _train_and_compare(boss_episodes, tmp_path, episodes_per_lane=3, per_call=False)
    assert len(results) == 2 + 2 * 2 * 2  # image encoder: 2; each generator: two FiLM blocks of 2
    for name, (ratio, error) in results.items():
        assert 0.8 <= ratio <= 1.25, f"{name}: running variance / true variance = {ratio:.3f}"
        assert error < 0.25, f"{name}: running mean off by {error:.3f} standard deviations"


def test_per_step_statistics_of_one_row_per_episode_do_not_fit_the_frames(boss_episodes, tmp_path):
    """The way the trainer was before (one row per episode, statistics moved at every call): the same
    comparison fails on the layers called at every step, so the test above can fail."""
    results = _train_and_compare(boss_episodes, tmp_path, episodes_per_lane=1, per_call=True)
    per_step = [r for name, r in results.items() if "films.1" in name or name.endswith("films.0.bn2")]
    assert any(not 0.8 <= ratio <= 1.25 for ratio, _ in per_step)


def test_lanes_keep_most_frames_in_steps_of_many_rows(boss_episodes):
    lengths = np.array([len(ep.actions) for ep in boss_episodes[:36]])
    batch = make_batch(boss_episodes[:36], Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=3)
    counts = batch.counts
    assert counts[0] == 12 and batch.num_frames == lengths.sum()
    assert (counts * (counts >= counts[0] // 2)).sum() >= 0.9 * batch.num_frames
    alone = make_batch(boss_episodes[:36], Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=1).counts
    assert (alone * (alone >= alone[0] // 2)).sum() < 0.9 * batch.num_frames  # what lanes are for
    assert int(batch.starts.sum()) == 36 and sorted(np.bincount(batch.episode_ids.numpy())) == sorted(lengths)


def test_running_statistics_move_only_when_the_block_ends_and_not_on_error():
    torch.manual_seed(0)
    bn = FrameBatchNorm2d(4).train()
    x = [torch.randn(n, 4, 7, 7) * 3 + 1 for n in (5, 1, 2)]
    with frame_statistics(bn):
        for part in x:
            bn(part)
        assert torch.equal(bn.running_mean, torch.zeros(4))  # nothing moves inside the block
    whole = torch.cat(x).transpose(0, 1).reshape(4, -1)  # (C, all elements of the three calls)
    # the first update replaces the initial statistics by those of all the frames together
    torch.testing.assert_close(bn.running_mean, whole.mean(1))
    torch.testing.assert_close(bn.running_var, whole.var(1))  # unbiased, as nn.BatchNorm2d keeps it
    with frame_statistics(bn):
        bn(x[0])
    k2 = torch.nn.BatchNorm2d(4, momentum=0.5)  # the second update weighs 1/2 (more than the momentum 0.1)
    k2.running_mean.copy_(whole.mean(1))
    k2.running_var.copy_(whole.var(1))
    k2.train()(x[0])
    torch.testing.assert_close(bn.running_mean, k2.running_mean)
    torch.testing.assert_close(bn.running_var, k2.running_var)
    before = bn.running_var.clone()
    with pytest.raises(RuntimeError):
        with frame_statistics(bn):
            bn(x[0])
            raise RuntimeError("a failed batch")
    assert torch.equal(bn.running_var, before)
