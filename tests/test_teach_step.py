"""Teaching's training step is the project's: the trainer's backward step on a batch laid out in lanes as
training lays them, with the steps a person labelled carried in the batch; and a policy's memory is saved
and restored through its public API (re-proposing a step)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from babyai.agent.vocab import Vocabulary
from babyai.model import TCConfig
from babyai.model.layers import FrameBatchNorm2d
from babyai.teach.agent import LossSettings, Proposer, backward, fresh_network, make_tokenizer
from babyai.train.data import DatasetError, Tokenizer, make_batch
from babyai.train.run import TrainConfig
from babyai.train.trainer import backward_batch
from tests._agent_helpers import untrained_policy
from tests._train_helpers import one_thread, synthetic_episode  # noqa: F401

TINY = TCConfig(memory_dim=32, instr_dim=32, image_dim=16)
SETTINGS = LossSettings(recurrence=3, entropy_coef=0.01, sg_coef=2.0)


def _short_episodes(n: int = 12, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [synthetic_episode(int(length), k, rng) for k, length in enumerate(rng.integers(2, 9, n))]


def _step(model, fn) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(gradients, BatchNorm running statistics) after ``fn(model)`` from fresh gradients, dropout seeded."""
    torch.manual_seed(0)
    model.train().zero_grad(set_to_none=True)
    fn(model)
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    layers = [m for m in model.modules() if isinstance(m, FrameBatchNorm2d)]
    stats = [t.clone() for m in layers for t in (m.running_mean, m.running_var)]
    return grads, stats


def _trainer_step(episodes, tokenizer, episodes_per_lane: int):
    def fn(model):
        batch = make_batch(episodes, tokenizer, episodes_per_lane)
        backward_batch(model, batch, SETTINGS, True, 1.0 / batch.num_frames)
    return fn


def test_teaching_lays_out_its_batches_in_lanes_as_training_does():
    """The teaching trainer laid its batches out one episode per lane: the BatchNorm layers called at every step
    normalised its last steps over very few rows. Its step now gives the main trainer's gradients and running
    statistics on the same episodes (and not those of one episode per lane)."""
    episodes = _short_episodes()
    model, vocab = fresh_network("tc", TINY, 0)
    tokenizer = make_tokenizer(vocab, model)
    assert SETTINGS.episodes_per_lane == TrainConfig.episodes_per_lane > 1
    taught = _step(copy.deepcopy(model), lambda m: backward(m, episodes, tokenizer, SETTINGS))
    trained = _step(copy.deepcopy(model), _trainer_step(episodes, tokenizer, TrainConfig.episodes_per_lane))
    alone = _step(copy.deepcopy(model), _trainer_step(episodes, tokenizer, 1))
    for x, y in zip(taught[0] + taught[1], trained[0] + trained[1], strict=True):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=1e-5)
    assert any(not torch.allclose(x, y, atol=1e-4) for x, y in zip(taught[0], alone[0]))


def test_label_masks_follow_each_frame_of_the_batch():
    episodes = _short_episodes(7, seed=1)
    rng = np.random.default_rng(2)
    masks = [(rng.random(len(ep)) < 0.5, rng.random(len(ep)) < 0.5) for ep in episodes]
    tokenizer = Tokenizer(Vocabulary.babyai(), 15)
    for per_lane in (1, 3):
        batch = make_batch(episodes, tokenizer, per_lane, masks)
        plain = make_batch(episodes, tokenizer, per_lane)
        assert plain.action_mask is None and plain.thought_mask is None and plain.labelled_frames == plain.num_frames
        assert torch.equal(batch.actions, plain.actions) and torch.equal(batch.episode_ids, plain.episode_ids)
        # each frame's labels: those of its episode (found by its actions) at its step (its rank in the episode)
        for b in range(len(episodes)):
            frames = np.flatnonzero(batch.episode_ids.numpy() == b)
            [k] = [k for k, ep in enumerate(episodes) if np.array_equal(ep.actions, batch.actions[frames].numpy())]
            assert np.array_equal(batch.action_mask[frames].numpy(), masks[k][0])
            assert np.array_equal(batch.thought_mask[frames].numpy(), masks[k][1])
        assert batch.labelled_frames == sum(int((a | t).sum()) for a, t in masks)
    with pytest.raises(DatasetError, match="label masks"):
        make_batch(episodes, tokenizer, 3, [(a[:-1], t) for a, t in masks])


def test_masked_step_counts_only_the_labelled_frames():
    """Without the unlabelled frames' actions and thoughts the loss is the mean over the labelled frames, and
    frames with no label at all change nothing but the memory and BatchNorm of the others."""
    episodes = _short_episodes(6, seed=3)
    model, vocab = fresh_network("tc", TINY, 0)
    tokenizer = make_tokenizer(vocab, model)
    none = [(np.zeros(len(ep), bool), np.zeros(len(ep), bool)) for ep in episodes]
    grads, _ = _step(copy.deepcopy(model), lambda m: backward(m, episodes, tokenizer, SETTINGS, none))
    assert grads and all(float(g.abs().max()) == 0 for g in grads)  # no label: no gradient
    actions_only = [(np.ones(len(ep), bool), np.zeros(len(ep), bool)) for ep in episodes]
    losses = []
    for masks in (None, actions_only):
        torch.manual_seed(0)
        losses.append(backward(copy.deepcopy(model).train(), episodes, tokenizer, SETTINGS, masks))
    assert losses[1] < losses[0]  # the thought loss (positive) is left out, the frames the same


def test_a_policy_memory_is_saved_and_restored_through_its_api():
    policy = untrained_policy("tc")
    policy.model.eval()
    images = synthetic_episode(3, 0, np.random.default_rng(0)).images[:, None]  # (3, 1, 7, 7, 3)
    policy.begin(["go to the red ball"])
    policy.step(np.array([0]), images[0])
    saved = policy.memory_state()
    kept = [m.clone() for m in saved]
    first = policy.step(np.array([0]), images[1])
    assert any(not torch.equal(a, b) for a, b in zip(policy.memory_state(), saved))  # the step moved the memory
    policy.step(np.array([0]), images[2])
    policy.restore_memory(saved)
    again = policy.step(np.array([0]), images[1])
    assert torch.equal(first.logits, again.logits) and first.thoughts == again.thoughts
    assert all(torch.equal(a, b) for a, b in zip(saved, kept))  # stepping on leaves a saved state as it was
    with pytest.raises(ValueError, match="memory state"):
        policy.restore_memory(tuple(m[:0] for m in saved))
    # the teaching session's re-proposal: the same step from the same memory, whatever was proposed before
    proposer = Proposer(policy, "go to the red ball")
    own = proposer.propose(images[0, 0])
    proposer.propose(images[0, 0], "explore unseen area")
    assert proposer.propose(images[0, 0]) == own
