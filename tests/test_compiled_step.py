"""The compiled per-time-step cell (babyai.model.compiled_step, issue 26) computes what the eager modules compute:
the same losses, gradients and BatchNorm statistics in training, the same outputs when thinking freely."""

import dataclasses

import numpy as np
import pytest
import torch
from _train_helpers import TINY, one_thread, synthetic_episode  # noqa: F401 (one_thread: autouse fixture)

from babyai.agent.vocab import Vocabulary
from babyai.model import ThoughtCloningAgent
from babyai.model.compiled_step import compile_step_enabled, set_compile_step
from babyai.model.layers import frame_statistics
from babyai.train.data import Tokenizer, make_batch
from babyai.train.losses import action_entropy, action_nll, thought_nll
from babyai.train.windows import window_outputs

NO_DROPOUT = dataclasses.replace(TINY, attn_dropout=0.0, transformer_dropout=0.0)  # dropout draws differ when compiled


@pytest.fixture(scope="module")
def lanes():
    rng = np.random.default_rng(5)
    episodes = [synthetic_episode(n, seed, rng) for seed, n in enumerate([7, 3, 5, 1, 4, 2, 6])]
    return make_batch(episodes, Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=2)


def _train_pass(model, batch, compiled: bool, **window_args):
    """Loss, gradients and BatchNorm running statistics of one training pass (windows of 3 steps)."""
    was = compile_step_enabled()
    set_compile_step(compiled)
    try:
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # the history's random choices
        total = 0.0
        with frame_statistics(model):
            for rows, out in window_outputs(model, batch, 3, True, **window_args):
                loss = action_nll(out.action_logits, batch.actions[rows]) - 0.01 * action_entropy(out.action_logits)
                loss = loss + 2 * thought_nll(out.thought_logits, batch.thoughts[batch.thought_ids[rows], 1:])
                loss.backward()
                total += float(loss.detach())
    finally:
        set_compile_step(was)
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    return total, grads, buffers


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["plain", "history noise and sampling", "thought as auxiliary loss"])
def test_compiled_step_gives_the_loss_gradients_and_statistics_of_eager(lanes, variant):
    cfg = dataclasses.replace(NO_DROPOUT, action_reads_thought=variant != "thought as auxiliary loss")
    args = {"history_noise": 0.3, "history_sampling": 0.3} if variant.startswith("history") else {}
    torch.manual_seed(0)
    results = []
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the two differ by float32's rounding, amplified by BatchNorm's cancellations
    try:
        model = ThoughtCloningAgent(cfg).train()
        for compiled in (False, True):
            state = {k: v.clone() for k, v in model.state_dict().items()}
            results.append(_train_pass(model, lanes, compiled, **args))
            model.load_state_dict(state)
    finally:
        torch.set_default_dtype(default)
    (loss, grads, buffers), (c_loss, c_grads, c_buffers) = results
    assert abs(loss - c_loss) <= 1e-10 * abs(loss)
    assert grads.keys() == c_grads.keys() and len(grads) > 10
    for name in grads:
        assert c_grads[name].dtype == torch.float64
        torch.testing.assert_close(c_grads[name], grads[name], atol=1e-9, rtol=1e-7, msg=name)
    for name in buffers:  # the statistics are float32, as eager BatchNorm records them
        torch.testing.assert_close(c_buffers[name], buffers[name], atol=1e-6, rtol=1e-5, msg=name)


@pytest.mark.slow
def test_compiled_step_thinks_freely_as_eager(lanes):
    """Eval mode, thoughts decoded greedily (as rollouts run): the same actions' logits and the same thoughts."""
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TINY).eval()
    outs = []
    for compiled in (False, True):
        set_compile_step(compiled)
        try:
            with torch.no_grad():
                outs.append(list(window_outputs(model, lanes, 3, False)))
        finally:
            set_compile_step(False)
    for (_, eager), (_, comp) in zip(*outs):
        torch.testing.assert_close(comp.action_logits, eager.action_logits, atol=1e-5, rtol=1e-4)
        assert torch.equal(comp.thought_tokens, eager.thought_tokens)
        for a, b in zip(comp.memory, eager.memory):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
