"""The one adapter between teaching and the agent, its loading and its training step.

The teaching steps that need ``babyai.agent`` (the policy stepped in batches, loading, the vocabulary),
``babyai.model`` and ``babyai.train`` (making a network, batches, the backward step) are functions of this
file; names teaching only uses as they are (errors, the model's config, checkpoint writing) are imported from
their own modules.

``Proposer`` steps one episode of a policy one time step at a time and can *re-propose* a step: the
memory at the start of the step is kept, so when the teacher rewrites the thought the Action Generator
acts again on the new sentence from the same state (the policy's thought injection).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from babyai.agent.loading import build_agent, load_checkpoint, load_policy, save_checkpoint
from babyai.agent.policy import ModelPolicy
from babyai.agent.vocab import Vocabulary, tokenize
from babyai.model import TCConfig, ThoughtCloningAgent
from babyai.train.data import Tokenizer, make_batch
from babyai.train.losses import imitation_loss
from babyai.train.run import TrainConfig
from babyai.train.trainer import backward_batch

__all__ = ["LossSettings", "Proposer", "algo_of", "backward", "fresh_network", "load_network", "load_snapshot_policy",
           "make_tokenizer", "normalize_thought", "read_checkpoint", "save_network"]


def normalize_thought(sentence: str) -> str:
    """A sentence as the agent reads and speaks it (lowercase words: the oracle's "GoTo" is "goto")."""
    return " ".join(tokenize(sentence))


def algo_of(model: torch.nn.Module) -> str:
    return "tc" if isinstance(model, ThoughtCloningAgent) else "bc"


def fresh_network(algo: str, config: TCConfig, seed: int) -> tuple[torch.nn.Module, Vocabulary]:
    """A newly initialised network of ``algo`` (tc or bc) with the project's vocabulary."""
    torch.manual_seed(seed)
    return build_agent(algo, config), Vocabulary.babyai(config.vocab_size)


def load_network(model: str, storage: str | None) -> tuple[torch.nn.Module, Vocabulary]:
    """A trained model (a run name under <storage>/models, a run folder or a .pt file): (network, vocabulary)."""
    policy = load_policy(model, storage)
    return policy.model, policy.vocab


def save_network(path: str, model: torch.nn.Module, vocab: Vocabulary, **extra) -> None:
    """A checkpoint ``load_policy`` (and so every evaluation script) reads, written atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_checkpoint(path, {"algo": algo_of(model), "model_config": model.cfg.to_dict(), "vocab": vocab.to_dict(),
                           "model": state, **extra})


def load_snapshot_policy(path: str) -> ModelPolicy:
    """A published snapshot as a policy (eval mode) ready to step."""
    policy = load_policy(path)
    policy.model.eval()
    return policy


def read_checkpoint(path: str) -> dict:
    return load_checkpoint(path)


class Proposer:
    """One episode of a policy, one step at a time: ``propose(image[, thought])`` gives the agent's
    (thought, action) for the current state, from the memory at the start of the step (so it may be
    called again with another thought); ``commit()`` keeps the memory of the last proposal."""

    def __init__(self, policy: ModelPolicy, mission: str):
        self.policy = policy
        self.thinks = policy.thinks
        policy.begin([mission])
        self._start = policy.memory_state()

    def propose(self, image: np.ndarray, thought: str | None = None) -> tuple[str | None, int]:
        """image: (7, 7, 3) uint8; thought: a sentence to inject, or None for the agent's own."""
        self.policy.restore_memory(self._start)
        out = self.policy.step(np.array([0]), image[None], [thought])
        return out.thoughts[0], int(out.logits[0].argmax())

    def commit(self) -> None:
        self._start = self.policy.memory_state()

    def unknown_words(self, sentence: str) -> list[str]:
        return self.policy.vocab.unknown_words([sentence])

    def too_long(self, sentence: str) -> bool:
        return len(self.policy.vocab.encode_thought(sentence)) - 1 > self.policy.max_thought_len


def make_tokenizer(vocab: Vocabulary, model: torch.nn.Module) -> Tokenizer:
    return Tokenizer(vocab, model.cfg.max_thought_len)


@dataclass
class LossSettings:
    """The part of a training config the backward step reads."""

    recurrence: int
    entropy_coef: float
    sg_coef: float
    history_noise: float = 0.0  # teaching trains on the thoughts as recorded: no noise on the history input
    episodes_per_lane: int = TrainConfig.episodes_per_lane  # the batch layout of the project's training


def backward(model, episodes: list, tokenizer: Tokenizer, settings: LossSettings, masks: list | None = None) -> float:
    """Accumulate the gradients of the imitation loss on ``episodes`` (teacher forcing), the mean over their
    labelled frames: the project's backward step on a batch laid out as its training lays them. Returns the loss.

    masks: None (every step's performed action and thought are labels), or per episode a pair (action_mask,
    thought_mask) of (T,) bools: only those steps' labels count.
    """
    batch = make_batch(episodes, tokenizer, settings.episodes_per_lane, masks)
    frames = max(1, batch.labelled_frames)
    policy_loss, entropy, thought_loss, _ = backward_batch(model, batch, settings, True, 1.0 / frames).tolist()
    return imitation_loss(policy_loss, entropy, thought_loss, settings.entropy_coef, settings.sg_coef) / frames
