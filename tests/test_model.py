"""The Thought Cloning model: size at the paper configuration, shapes, the thought loss, decoding, save/load."""

import math

import numpy as np
import pytest
import torch
from _train_helpers import TINY, one_thread, synthetic_episode  # noqa: F401 (one_thread: autouse fixture)

from babyai.model import EOS_ID, PAD_ID, SOS_ID, BCAgent, TCConfig, ThoughtCloningAgent
from babyai.agent.loading import build_agent, load_agent, load_policy, save_checkpoint
from babyai.train.data import Tokenizer, make_batch
from babyai.train.losses import thought_nll
from babyai.agent.vocab import Vocabulary, VocabularyError

DEAD_LINEAR = 100 * 256 + 256  # the original's unused Linear(vocab 100, 256)


def value_head(actions):  # the original's unused critic: Linear(2048, 64), Tanh, Linear(64, actions)
    return 2048 * 64 + 64 + 64 * actions + actions


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_at_the_paper_configuration():
    paper = TCConfig(memory_dim=2048, instr_dim=256)
    assert (paper.image_dim, paper.vocab_size, paper.max_thought_len) == (128, 100, 15)
    ours = count(ThoughtCloningAgent(paper))
    # the original with BabyAI's 7 actions = ours + its dead linear layer + its value head
    assert ours + DEAD_LINEAR + value_head(7) == 82_543_602
    assert ours == 82_386_155
    # the 82,543,212 quoted for the original is the same network built with a 4-action space
    four = count(ThoughtCloningAgent(TCConfig(memory_dim=2048, instr_dim=256, num_actions=4)))
    assert four + DEAD_LINEAR + value_head(4) == 82_543_212


def test_the_conv_width_is_a_model_size():
    """--image-dim: any multiple of 8 from 16 up sets the image encoder's and the FiLM blocks' channels."""
    for bad in (8, 12, 20, 0, -16):
        with pytest.raises(ValueError, match="--image-dim must be a multiple of 8 from 16 up"):
            TCConfig(image_dim=bad)
    for dim in (16, 24, 128):
        model = ThoughtCloningAgent(TCConfig(memory_dim=32, instr_dim=32, image_dim=dim))
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        assert len(convs) == 2 + 2 * 2 * 2 and all(c.in_channels == c.out_channels == dim for c in convs)
        assert model.action_generator.memory_rnn.input_size == model.thought_generator.memory_rnn.input_size == dim
    small, paper = (sum(p.numel() for p in ThoughtCloningAgent(TCConfig(image_dim=d)).parameters()) for d in (32, 128))
    assert small < paper


def test_unsupported_architectures_are_refused_clearly():
    with pytest.raises(ValueError, match="--instr-arch gru is not supported.*attgru"):
        TCConfig(instr_arch="gru")
    with pytest.raises(ValueError, match="--arch"):
        TCConfig(arch="expert_filmcnn")


def window(batch, rows, counts):
    return (batch.images[rows], counts, batch.mission[: counts[0]], batch.mission_lengths[: counts[0]])


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    episodes = [synthetic_episode(n, seed, rng) for seed, n in enumerate([7, 3, 5, 1])]
    return make_batch(episodes, Tokenizer(Vocabulary.babyai(), 15))


def test_shapes_of_a_window(batch):
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TINY)
    n, lt = batch.num_frames, batch.thoughts.shape[1]
    memory = model.initial_memory(4)
    for forced in (True, False):
        out = model(*window(batch, slice(0, n), list(batch.counts)), memory, batch.thoughts, batch.thought_ids, forced)
        assert out.action_logits.shape == (n, 7)
        assert out.thought_logits.shape == (n, lt - 1, 100)
        assert [m.shape for m in out.memory] == [(1, 32)] * 6  # one episode runs to the end
    assert out.thought_tokens.shape == (n, 16) and (out.thought_tokens[:, 0] == SOS_ID).all()
    bc = BCAgent(TINY)
    out = bc(*window(batch, slice(0, n), list(batch.counts)), bc.initial_memory(4), batch.thoughts, batch.thought_ids)
    assert out.action_logits.shape == (n, 7) and out.thought_logits is None and len(out.memory) == 2
    assert "sg_linear" not in dict(bc.named_modules()).get("action_generator")._modules


def test_masked_thought_loss_equals_a_hand_computation():
    logits = torch.tensor([[[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [3.0, 3.0, 3.0]],
                           [[2.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]]])
    targets = torch.tensor([[2, 1, PAD_ID], [1, PAD_ID, PAD_ID]])  # tokens after "sos"; 0 is padding

    def logp(row, k):
        return row[k] - math.log(sum(math.exp(v) for v in row))

    by_hand = -(logp([0.0, 1.0, 2.0], 2) + logp([1.0, 0.0, 0.0], 1) + logp([2.0, 0.0, 0.0], 1))
    assert thought_nll(logits, targets).item() == pytest.approx(by_hand, rel=1e-6)
    assert thought_nll(None, targets).item() == 0.0


def test_teacher_forced_and_free_running_decoding_agree_on_the_same_tokens(batch):
    torch.manual_seed(1)
    model = ThoughtCloningAgent(TINY).eval()
    n = batch.num_frames
    args = window(batch, slice(0, n), list(batch.counts))
    with torch.no_grad():
        free = model(*args, model.initial_memory(4), teacher_forcing=False)  # thinking freely, as when acting
        spoken = free.thought_tokens  # (n, 16): sos, tokens, eos, padding
        forced = model(*args, model.initial_memory(4), spoken, torch.arange(n), teacher_forcing=True)
        again = model(*args, model.initial_memory(4), spoken, torch.arange(n), teacher_forcing=False)
    torch.testing.assert_close(forced.action_logits, free.action_logits, atol=1e-5, rtol=1e-5)
    scored = spoken[:, 1:] != PAD_ID  # positions that predict a spoken token
    torch.testing.assert_close(forced.thought_logits[scored], again.thought_logits[scored], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(again.thought_tokens, spoken)


def test_greedy_decoding_stops_at_eos_and_pads_after_it():
    torch.manual_seed(2)
    model = ThoughtCloningAgent(TINY)
    with torch.no_grad():
        model.thought_generator.decoder.out.bias[EOS_ID] = 100.0  # always ends at once
        tokens, logits = model.thought_generator.decoder.greedy(
            (torch.zeros(3, 32), torch.zeros(3, 32)), model.word_embedding, PAD_ID, SOS_ID, EOS_ID, 15, min_steps=4)
    assert tokens.tolist() == [[SOS_ID, EOS_ID, 0, 0, 0]] * 3 and logits.shape == (3, 4, 100)


@pytest.mark.parametrize("image_dim", [128, 24])
def test_save_then_load_gives_identical_outputs(tmp_path, batch, image_dim):
    torch.manual_seed(3)
    vocab = Vocabulary.babyai()
    config = TCConfig(memory_dim=TINY.memory_dim, instr_dim=TINY.instr_dim, image_dim=image_dim)
    for algo in ("tc", "bc"):
        model = build_agent(algo, config)
        for p in model.parameters():  # not the initial values
            p.data.add_(0.01 * torch.randn_like(p))
        model.train()(*window(batch, slice(0, 4), [4]), model.initial_memory(4), batch.thoughts, batch.thought_ids[:4])
        path = str(tmp_path / f"{algo}.pt")  # (the forward pass above moved the BatchNorm statistics)
        save_checkpoint(path, {"algo": algo, "model_config": config.to_dict(), "vocab": vocab.to_dict(), "model": model.state_dict()})
        loaded, loaded_vocab, _ = load_agent(path)
        assert loaded.cfg.image_dim == image_dim  # the checkpoint records the width, loading follows it
        assert not loaded.training and load_policy(path).vocab == vocab
        model.eval()
        args = window(batch, slice(0, batch.num_frames), list(batch.counts))
        with torch.no_grad():
            a = model(*args, model.initial_memory(4), batch.thoughts, batch.thought_ids, False)
            b = loaded(*args, loaded.initial_memory(4), batch.thoughts, batch.thought_ids, False)
        assert torch.equal(a.action_logits, b.action_logits) and loaded_vocab == vocab


def test_vocabulary_is_fixed_sorted_and_names_unknown_words():
    a, b = Vocabulary.babyai(), Vocabulary.from_dict(Vocabulary.babyai().to_dict())
    assert a == b and a.itos[:3] == ["<pad>", "sos", "eos"] and a.itos[3:] == sorted(a.itos[3:]) and len(a) <= 100
    assert (a.stoi["<pad>"], a.stoi["sos"], a.stoi["eos"]) == (PAD_ID, SOS_ID, EOS_ID)
    ids = a.encode_thought("pickup a key to complete PutNext mission")
    assert ids[0] == SOS_ID and ids[-1] == EOS_ID and a.decode(ids) == "pickup a key to complete putnext mission"
    assert a.decode(a.encode("pick up the ball, then open {} door")) == "pick up the ball then open {} door"
    with pytest.raises(VocabularyError, match="'dance', 'tango'"):
        a.check(["go to the red ball", "dance a tango"], "the demos x")


def test_step_layers_give_the_gradients_of_torch_layers():
    from babyai.model.layers import StepLinear, StepLSTMCell

    torch.manual_seed(4)
    cell, step_cell = torch.nn.LSTMCell(6, 5), StepLSTMCell(6, 5)
    step_cell.load_state_dict(cell.state_dict())
    key, step_key = torch.nn.Linear(10, 3), StepLinear(10, 3)
    step_key.load_state_dict(key.state_dict())
    xs = torch.randn(7, 4, 6)

    def run(cell, key):  # a shrinking batch, as in a window
        h = c = torch.zeros(4, 5)
        out = []
        for t in range(7):
            n = 4 - t // 3
            h, c = cell(xs[t, :n], (h[:n], c[:n]))
            out.append(key(torch.cat([h, c], 1)))
        return (torch.cat(out) ** 2).sum()

    for _ in range(2):  # gradients accumulate over backward passes
        run(cell, key).backward()
        run(step_cell, step_key).backward()
    for (name, a), b in zip(list(cell.named_parameters()) + list(key.named_parameters()),
                            list(step_cell.parameters()) + list(step_key.parameters())):
        torch.testing.assert_close(b.grad, a.grad, atol=1e-5, rtol=1e-5, msg=name)


def test_image_encoder_table_lookup_is_the_convolution():
    from babyai.model.layers import ImageEncoder

    torch.manual_seed(5)
    encoder = ImageEncoder()
    images = torch.stack([torch.randint(0, 11, (6, 7, 7)), torch.randint(0, 6, (6, 7, 7)), torch.randint(0, 3, (6, 7, 7))], -1)
    images = images.to(torch.uint8)
    fast, direct = encoder(images), encoder.reference_forward(images)
    torch.testing.assert_close(fast, direct, atol=1e-4, rtol=1e-4)
    fast.square().sum().backward()
    grads = [p.grad.clone() for p in encoder.parameters()]
    encoder.zero_grad()
    direct.square().sum().backward()
    for (name, p), g in zip(encoder.named_parameters(), grads):
        torch.testing.assert_close(g, p.grad, atol=1e-3, rtol=1e-3, msg=name)


def _loss_and_grads(model, batch, recurrence, forced):
    """Loss and parameter gradients of the batch: the model called on windows of ``recurrence`` steps."""
    from babyai.train.losses import action_entropy, action_nll

    model.zero_grad(set_to_none=True)
    memory, total = model.initial_memory(int(batch.counts[0])), 0.0
    for rows, counts in batch.windows(recurrence):
        out = model(**batch.window_inputs(rows, counts), memory=memory, teacher_forcing=forced)
        loss = action_nll(out.action_logits, batch.actions[rows]) - 0.01 * action_entropy(out.action_logits)
        if out.thought_logits is not None:
            loss = loss + 2 * thought_nll(out.thought_logits, batch.thoughts[batch.thought_ids[rows], 1:])
        total = total + loss / batch.num_frames
        memory = out.memory  # gradients flow across windows: the same function as one long window
    total.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return float(total.detach()), grads


@pytest.fixture(scope="module")
def lanes():
    """Six episodes in three lanes of two (as training lays them out)."""
    rng = np.random.default_rng(5)
    episodes = [synthetic_episode(n, seed, rng) for seed, n in enumerate([7, 3, 5, 1, 4, 2])]
    return make_batch(episodes, Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=2)


@pytest.mark.parametrize("agent", [ThoughtCloningAgent, BCAgent])
@pytest.mark.parametrize("forced", [True, False])
@pytest.mark.parametrize("layout", ["one episode per row", "lanes"])
def test_batched_window_has_the_loss_and_gradients_of_a_step_by_step_pass(batch, lanes, agent, forced, layout):
    """The training step's batching over a window (image encoder, decoder and weight gradients computed once
    for all steps) gives the loss and gradients of calling the model one time step at a time (eval mode:
    BatchNorm statistics and dropout are the only things batching would change)."""
    batch = lanes if layout == "lanes" else batch
    torch.manual_seed(0)
    model = agent(TINY).eval()
    whole_loss, whole = _loss_and_grads(model, batch, 100, forced)
    step_loss, steps = _loss_and_grads(model, batch, 1, forced)
    assert math.isclose(whole_loss, step_loss, rel_tol=1e-5)
    assert whole.keys() == steps.keys() and len(whole) > 10
    for name in whole:
        torch.testing.assert_close(whole[name], steps[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("agent", [ThoughtCloningAgent, BCAgent])
@pytest.mark.parametrize("forced", [True, False])
def test_episodes_sharing_a_lane_are_played_as_if_alone(lanes, agent, forced):
    """Packing episodes one after the other in a lane (memory zeroed at each start, each frame reading its
    own episode's mission) gives every frame the outputs it has with one row per episode."""
    torch.manual_seed(4)
    model = agent(TINY).eval()
    rng = np.random.default_rng(5)  # the same six episodes, one row each
    alone = make_batch([synthetic_episode(n, seed, rng) for seed, n in enumerate([7, 3, 5, 1, 4, 2])],
                       Tokenizer(Vocabulary.babyai(), 15), episodes_per_lane=1)
    assert lanes.counts.tolist() == [3] * 7 + [1] and alone.counts.tolist() == [6, 5, 4, 3, 2, 1, 1]
    outs = {}
    with torch.no_grad():
        for name, b in (("lanes", lanes), ("alone", alone)):
            memory, logits = model.initial_memory(int(b.counts[0])), []
            for rows, counts in b.windows(3):  # windows cut lanes in the middle of episodes
                out = model(**b.window_inputs(rows, counts), memory=memory, teacher_forcing=forced)
                memory = out.memory
                logits.append(out.action_logits)
            outs[name] = (torch.cat(logits), b)
    for e in range(6):  # frames of episode e, in time order, in both layouts
        (x, bx), (y, by) = outs["lanes"], outs["alone"]
        torch.testing.assert_close(x[bx.episode_ids == e], y[by.episode_ids == e], atol=1e-5, rtol=1e-5)
        assert torch.equal(bx.actions[bx.episode_ids == e], by.actions[by.episode_ids == e])


def test_hand_written_backward_passes_match_autograd():
    """KeyedAttention's and StepLSTMCell's own backward passes give autograd's gradients (float64 gradcheck),
    dropout included (the same mask drawn)."""
    from babyai.model.layers import KeyedAttention, StepLSTMCell

    torch.manual_seed(0)
    q = torch.randn(3, 8, dtype=torch.double, requires_grad=True)
    v = torch.randn(3, 5, 8, dtype=torch.double, requires_grad=True)
    pad = torch.zeros(3, 5, dtype=torch.bool)
    pad[0, 3:] = pad[2, 1:] = True
    attention = KeyedAttention(8, 0.0).double()
    assert torch.autograd.gradcheck(lambda q, v: attention(q, v, pad), (q, v))
    torch.testing.assert_close(attention(q, v, pad), attention.reference_forward(q, v, pad))
    dropping = KeyedAttention(8, 0.5).double().train()
    torch.manual_seed(3)
    x = dropping(q, v, pad)
    gx = torch.autograd.grad(x.square().sum(), (q, v))
    torch.manual_seed(3)
    weights = (torch.bmm(v, q.unsqueeze(2)).squeeze(2) * dropping.scale).masked_fill(pad, float("-inf")).softmax(1)
    y = torch.bmm(torch.native_dropout(weights, 0.5, True)[0].unsqueeze(1), v).squeeze(1)
    gy = torch.autograd.grad(y.square().sum(), (q, v))
    torch.testing.assert_close(x, y)
    for a, b in zip(gx, gy):
        torch.testing.assert_close(a, b)
    cell = StepLSTMCell(4, 6).double()
    x, h, c = (torch.randn(3, k, dtype=torch.double, requires_grad=True) for k in (4, 6, 6))
    assert torch.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))


def test_sequence_encoder_is_the_packed_bidirectional_gru():
    """SequenceEncoder steps both directions together: the outputs and gradients of nn.GRU on packed sequences."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from babyai.model.layers import SequenceEncoder

    torch.manual_seed(0)
    encoder = SequenceEncoder(16)
    x = torch.randn(5, 9, 16, requires_grad=True)
    lengths = torch.tensor([9, 1, 4, 7, 3])
    packed, _ = encoder.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    expected = pad_packed_sequence(packed, batch_first=True, total_length=9)[0]
    got = encoder(x, lengths)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    params = [x, *encoder.parameters()]
    for a, b in zip(torch.autograd.grad(got.square().sum(), params), torch.autograd.grad(expected.square().sum(), params)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
