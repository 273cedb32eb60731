"""Thought formation: the agreement figures, the validation columns, and the teacher-forcing rule."""

from __future__ import annotations

import csv
import os

import pytest
import torch
from _train_helpers import LEVEL, make_demos, one_thread, tiny_config  # noqa: F401

from babyai.agent.thought_quality import Agreement, named_object, played_agreement
from babyai.model import TCConfig
from babyai.train.trainer import train

SMALL = TCConfig(image_dim=32, memory_dim=128, instr_dim=128)


def test_named_object_reads_the_object_or_the_kind():
    assert named_object("pickup red ball to complete pickup mission") == "red ball"
    assert named_object("remove blocking object red ball") == "red ball"
    assert named_object("open a door to complete open mission") == "a door"
    assert named_object("explore unseen area") == "explore"
    assert named_object("open blue door to explore") == "blue door"
    assert named_object("to to the") is None and named_object("") is None and named_object(None) is None


def test_agreement_counts_exact_and_right_object_and_skips_lost_oracle():
    a = Agreement().add_pairs([
        ("go to red ball to complete GoTo mission", "go to red ball to complete GoTo mission"),  # exact
        ("pickup red ball to complete pickup mission", "go to red ball to complete GoTo mission"),  # object only
        ("go to blue ball to complete GoTo mission", "go to red ball to complete GoTo mission"),  # wrong colour
        ("explore unseen area", "explore unseen area"),
        ("to the", "to the"),  # garbled: exact, but names no object
        ("explore unseen area", None),  # the oracle lost track: not compared
    ])
    assert a.counts() == [5, 3, 3]
    assert a.rates() == {"steps": 5, "exact": 0.6, "right_object": 0.6}
    assert Agreement().rates()["exact"] is None
    records = [{"thoughts": ["explore unseen area", "open red door to explore"],
                "oracle_thoughts": ["explore unseen area", "open blue door to explore"]}]
    assert played_agreement(records).counts() == [2, 1, 1]


def _log(folder):
    with open(os.path.join(folder, "log.csv")) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def memo(tmp_path_factory):
    storage = tmp_path_factory.mktemp("memo")
    make_demos(storage, "g64", 64, first_seed=1)
    return storage


@pytest.mark.slow
def test_a_tc_run_that_memorises_64_episodes_thinks_like_the_oracle_on_them(memo):
    """Trained and validated on the same 64 GoToLocal episodes (teacher forcing on), its free-running thoughts,
    its own previous thought as history, are the demonstrated ones: the validation columns show it."""
    cfg = tiny_config(memo, "memorise", demos=[os.path.join(memo, "demos", "g64")],
                      valid_demos=[os.path.join(memo, "demos", "g64")], model=SMALL, batch_size=16, lr=1e-3,
                      epochs=6, epoch_length=400, stop_tf=1000, val_interval=6, val_episodes=64, recurrence=20)
    train(cfg)
    row = _log(os.path.join(memo, "models", "memorise"))[-1]
    assert int(row["optimizer_steps"]) == 150
    assert float(row["validation_thought_exact_demos"]) >= 0.95
    assert float(row["validation_thought_exact_tf"]) >= 0.95 and float(row["validation_thought_nll"]) < 1.0
    assert float(row["validation_right_object_demos"]) >= float(row["validation_thought_exact_demos"])
    # playing fresh levels the oracle alongside: measured (an untrained agent scores far below)
    assert float(row["validation_right_object"]) > 0.5


def test_tf_until_nll_keeps_teacher_forcing_until_the_thoughts_form(memo):
    """--tf-until-nll: no phase-out at --stop-tf while the validation thought NLL is above the bar; once it
    falls below, phased out from the next epoch."""
    common = dict(demos=[os.path.join(memo, "demos", "g64")], valid_demos=[os.path.join(memo, "demos", "g64")],
                  model=SMALL, batch_size=16, lr=1e-3, epoch_length=80, stop_tf=1, val_interval=1, val_episodes=16,
                  recurrence=20)
    never = tiny_config(memo, "never", epochs=3, tf_until_nll=1e-6, **common)
    train(never)
    assert [float(r["tf_ratio"]) for r in _log(os.path.join(memo, "models", "never"))] == [1.0, 1.0, 1.0]
    formed = tiny_config(memo, "formed", epochs=4, tf_until_nll=1e6, **common)  # formed at the first validation
    train(formed)
    ratios = [float(r["tf_ratio"]) for r in _log(os.path.join(memo, "models", "formed"))]
    assert ratios == [1.0, 1 - 1 / 3, 1 - 2 / 3, 0.0]  # what --stop-tf 1 alone gives
    with pytest.raises(ValueError, match="validation demos"):
        train(tiny_config(memo, "novalid", epochs=1, tf_until_nll=1.0,
                          **{**common, "valid_demos": [os.path.join(memo, "demos", "missing")]}))
    with pytest.raises(ValueError, match="Behavioral Cloning"):
        tiny_config(memo, "bc", algo="bc", tf_until_nll=1.0)


def _batch_and_model():
    import numpy as np
    from _train_helpers import TINY, synthetic_episode

    from babyai.agent.vocab import Vocabulary
    from babyai.model import ThoughtCloningAgent
    from babyai.train.data import Tokenizer, make_batch

    rng = np.random.default_rng(0)
    batch = make_batch([synthetic_episode(n, s, rng) for s, n in enumerate([9, 4, 6, 7])],
                       Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=2)
    torch.manual_seed(0)
    return batch, ThoughtCloningAgent(TINY).eval()


def _grads(model, batch, noise, teacher_forcing=True, sampling=0.0):
    from babyai.train.trainer import backward_batch

    model.zero_grad()
    torch.manual_seed(1)
    cfg = tiny_config("unused", "noise", recurrence=3, history_noise=noise)
    sums = backward_batch(model, batch, cfg, teacher_forcing, 1.0 / batch.num_frames, sampling=sampling)
    return sums, {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}


def test_thought_history_noise_changes_only_the_history_input():
    from babyai.train.windows import noisy_ids

    batch, model = _batch_and_model()
    plain, plain_grads = _grads(model, batch, 0.0)
    same, same_grads = _grads(model, batch, 0.0)
    assert torch.equal(plain, same) and all(torch.equal(plain_grads[k], same_grads[k]) for k in plain_grads)
    noisy, noisy_grads = _grads(model, batch, 1.0)
    assert not torch.equal(plain[2], noisy[2])  # the thought loss reads a history of other thoughts
    # only the thought history reads the drawn thoughts: with them equal to the frame's own, nothing changes
    inputs = batch.window_inputs(slice(0, batch.num_frames), [int(c) for c in batch.counts])
    memory = model.initial_memory(int(batch.counts[0]))
    a = model(**inputs, memory=memory)
    b = model(**inputs, memory=memory, history_ids=inputs["thought_ids"].clone())
    assert torch.equal(a.action_logits, b.action_logits) and torch.equal(a.thought_logits, b.thought_logits)
    # free-running windows have no teacher-forced history to perturb
    assert torch.equal(_grads(model, batch, 1.0, teacher_forcing=False)[0], _grads(model, batch, 0.0, False)[0])
    ids = torch.arange(1000) % 7
    assert torch.equal(noisy_ids(ids, 7, 0.0), ids)
    torch.manual_seed(2)
    flipped = noisy_ids(ids, 50, 0.3)
    assert 0.2 < (flipped != ids).float().mean() < 0.4 and int(flipped.max()) < 50
    with pytest.raises(ValueError, match="--thought-history-noise"):
        tiny_config("unused", "bad", history_noise=1.5)


@pytest.mark.parametrize("ties", [False, True])
def test_best_ties_by_thoughts_moves_best_pt_to_formed_thoughts_on_equal_success(ties):
    import logging

    from babyai.train.progress import Progress
    from babyai.train.trainer import Run

    run = Run.__new__(Run)
    run.cfg, run.progress, run.log = tiny_config("unused", "ties", best_ties_by_thoughts=ties), Progress(), logging.getLogger("t")
    saved = []
    run.save = lambda name, with_optimizer=True: saved.append(run.progress.validations)
    for success, obj in [(1.0, 0.1), (1.0, 0.9), (1.0, 0.5), (0.9, 0.95), (1.0, 0.9)]:
        run.keep_best({"validation_success_rate": success, "validation_right_object": obj})
    assert saved == ([1, 2] if ties else [1])  # the paper's rule keeps the first of equal successes
    assert run.progress.patience == (3 if ties else 4) and run.progress.best_thoughts == (0.9 if ties else -1.0)


def test_history_sampling_changes_only_the_history_input():
    """Scheduled sampling of the history: with share 0 the step is the plain one; frames that read their own
    thought change the thought history (so later thoughts), never the Action Generator or the first step."""
    from babyai.train.trainer import history_sampling

    batch, model = _batch_and_model()
    plain, plain_grads = _grads(model, batch, 0.0)
    zero, zero_grads = _grads(model, batch, 0.0, sampling=0.0)
    assert torch.equal(plain, zero) and all(torch.equal(plain_grads[k], zero_grads[k]) for k in plain_grads)
    own, _ = _grads(model, batch, 0.0, sampling=1.0)
    assert torch.equal(plain[:2], own[:2]) and not torch.equal(plain[2], own[2])  # action terms equal, thought loss not
    counts = [int(c) for c in batch.counts]
    inputs = batch.window_inputs(slice(0, batch.num_frames), counts)
    memory = model.initial_memory(counts[0])
    a = model(**inputs, memory=memory)
    none = model(**inputs, memory=memory, own_history=torch.zeros(batch.num_frames, dtype=torch.bool))
    b = model(**inputs, memory=memory, own_history=torch.ones(batch.num_frames, dtype=torch.bool))
    assert torch.equal(a.thought_logits, none.thought_logits) and torch.equal(a.action_logits, b.action_logits)
    first = counts[0]  # step 0's thoughts come before any history; step 1's read step 0's own thoughts
    assert torch.equal(a.thought_logits[:first], b.thought_logits[:first])
    assert not torch.allclose(a.thought_logits[first:], b.thought_logits[first:])
    # free-running windows read their own thoughts anyway
    assert torch.equal(_grads(model, batch, 0.0, False, 1.0)[0], _grads(model, batch, 0.0, False)[0])
    cfg = tiny_config("unused", "ramp", history_sampling=0.5, history_sampling_steps=4)
    assert [history_sampling(cfg, s) for s in range(6)] == [0.125, 0.25, 0.375, 0.5, 0.5, 0.5]
    assert history_sampling(tiny_config("unused", "flat", history_sampling=0.3), 0) == 0.3
    with pytest.raises(ValueError, match="--thought-history-sampling"):
        tiny_config("unused", "bad", history_sampling=-0.1)
    with pytest.raises(ValueError, match="Thought Cloning settings"):
        tiny_config("unused", "bc", algo="bc", history_sampling=0.5)


def test_thought_as_auxiliary_loss_only_keeps_actions_blind_to_thoughts():
    """--thought-aux-only: the Thought Generator learns as in TC, the Action Generator never reads a thought."""
    import dataclasses

    from _train_helpers import TINY

    from babyai.model import ThoughtCloningAgent
    from babyai.model.config import TCConfig

    batch, _ = _batch_and_model()
    torch.manual_seed(0)
    model = ThoughtCloningAgent(dataclasses.replace(TINY, action_reads_thought=False)).eval()
    assert not any("sg" in name for name, _ in model.action_generator.named_parameters())
    counts = [int(c) for c in batch.counts]
    inputs = batch.window_inputs(slice(0, batch.num_frames), counts)
    memory = model.initial_memory(counts[0])
    a = model(**inputs, memory=memory)
    other = {**inputs, "thought_ids": inputs["thought_ids"].flip(0)}  # every frame reads another thought
    b = model(**other, memory=memory)
    assert torch.equal(a.action_logits, b.action_logits) and not torch.allclose(a.thought_logits, b.thought_logits)
    free = model(**inputs, memory=memory, teacher_forcing=False)
    assert torch.allclose(a.action_logits, free.action_logits, atol=1e-6)  # its own thoughts do not matter either
    sums, grads = _grads(model, batch, 0.0)
    assert float(sums[2]) > 0 and grads["thought_generator.decoder.out.weight"].abs().sum() > 0
    # a saved config from before the setting existed reads as the paper's agent; a run resumes across it
    saved = {k: v for k, v in TINY.to_dict().items() if k != "action_reads_thought"}
    assert TCConfig.from_dict(saved).action_reads_thought is True
    cfg = tiny_config("unused", "old")
    assert cfg.schedule_differences({**cfg.to_dict(), "model": saved}) == []
    with pytest.raises(ValueError, match="Thought Cloning settings"):
        tiny_config("unused", "bc", algo="bc", model=dataclasses.replace(TINY, action_reads_thought=False))
