"""A network of ``babyai.model`` acting in levels: the one policy of validation, evaluation and teaching.

Every step of a model in a level goes through ``ModelPolicy``, so a change of the model's API costs
one edit here. It steps a batch of episodes one time step at a time:
the Thought Generator speaks a thought (greedy decoding) and the Action Generator acts on it, or,
for the rows given an injected thought, the Action Generator and the thought history read that
sentence instead of the decoded one (teacher forcing of the model's ``forward`` on those rows).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from babyai.agent.vocab import Vocabulary, VocabularyError, pad_ids
from babyai.model import ThoughtCloningAgent


class ModelError(ValueError):
    """A model that cannot be found, read or used (one line for the user)."""


@dataclass
class StepOutput:
    logits: torch.Tensor  # (n, A) float32 action logits on the CPU
    thoughts: list[str | None]  # per row: the thought the Action Generator read (None for a BC model)


class ModelPolicy:
    """A trained (or untrained) Thought Cloning or Behavioral Cloning network, stepped in batches.

    ``begin(missions)`` starts a batch of episodes (zero memories); ``step(rows, images, inject)``
    advances the episodes ``rows`` (indices into the batch) by one step.
    """

    def __init__(self, model: torch.nn.Module, vocab: Vocabulary, name: str = "model",
                 device: str | torch.device = "cpu", amp: bool | torch.dtype | None = None):
        """``amp``: the autocast dtype (True: bfloat16; None: bfloat16 on CUDA, none on the CPU; False: none)."""
        self.model = model.to(device)
        self.vocab = vocab
        self.name = name
        self.device = torch.device(device)
        if amp is None:
            amp = self.device.type == "cuda"
        self.amp_dtype = (torch.bfloat16 if amp is True else amp) or None
        self.thinks = isinstance(model, ThoughtCloningAgent)
        self.max_thought_len = int(model.cfg.max_thought_len)
        self._mission = self._lengths = self._memory = self._mission_enc = None

    @contextlib.contextmanager
    def evaluating(self):
        """The network in eval mode (no dropout, BatchNorm running statistics) for the block, then as it was."""
        was_training = self.model.training
        self.model.eval()
        try:
            yield self
        finally:
            self.model.train(was_training)

    # ---------------------------------------------------------------- language
    def check_missions(self, missions: list[str], where: str) -> None:
        """A ModelError naming the words of ``missions`` the model's vocabulary lacks."""
        try:
            self.vocab.check(missions, where)
        except VocabularyError as e:
            raise ModelError(f"model {self.name}: {e}") from None

    def check_thought(self, sentence: str) -> None:
        """A ModelError if ``sentence`` cannot be fed to the Action Generator."""
        if not self.thinks:
            raise ModelError(f"model {self.name} is a Behavioral Cloning model: it has no thoughts to replace")
        self.check_missions([sentence], f"the thought {sentence!r}")
        if len(self.vocab.encode_thought(sentence)) - 1 > self.max_thought_len:
            raise ModelError(f"the thought {sentence!r} is longer than the model's {self.max_thought_len} tokens")

    def _tokens(self, texts: list[str], thought: bool) -> torch.Tensor:
        """(n, L) int64 token ids, padded with 0 (an empty text gives one padding column)."""
        return pad_ids([self.vocab.encode_thought(t) if thought else self.vocab.encode(t) for t in texts]).to(self.device)

    # ---------------------------------------------------------------- stepping
    def begin(self, missions: list[str]) -> None:
        self.check_missions(missions, "the missions")
        self._mission = self._tokens(missions, thought=False)  # (B, Lm)
        self._lengths = (self._mission != 0).sum(1)  # (B,)
        self._memory = self.model.initial_memory(len(missions), self.device)
        # the missions' encodings, once per batch of episodes (the model reads them at every step)
        with torch.no_grad(), self._autocast():
            self._mission_enc = self.model.encode_mission(self._mission, self._lengths)  # (B, Lm, D)

    def memory_state(self) -> tuple[torch.Tensor, ...]:
        """A copy of the memories of the episodes begun, to give ``restore_memory`` later (the steps taken
        meanwhile leave it as it is)."""
        if self._memory is None:
            raise RuntimeError("no episodes begun: call begin() first")
        return tuple(m.clone() for m in self._memory)

    def restore_memory(self, state: tuple[torch.Tensor, ...]) -> None:
        """Set the memories of the episodes begun to ``state`` (from ``memory_state``; it stays unchanged, so
        it can be restored again): the next step acts from there."""
        if self._memory is None:
            raise RuntimeError("no episodes begun: call begin() first")
        if [m.shape for m in state] != [m.shape for m in self._memory]:
            raise ValueError("a memory state of other episodes or another model")
        self._memory = tuple(m.to(old.device, old.dtype, copy=True) for m, old in zip(state, self._memory))

    @torch.no_grad()
    def step(self, rows: np.ndarray, images: np.ndarray, inject: list[str | None] | None = None) -> StepOutput:
        """One step for the episodes ``rows``; images: (n, 7, 7, 3) uint8; inject: per row a sentence or None."""
        n = len(rows)
        inject = inject if inject is not None and self.thinks else [None] * n
        logits = torch.empty(n, self.model.cfg.num_actions)
        thoughts: list[str | None] = list(inject)
        forced = np.array([s is not None for s in inject], dtype=bool)
        for group in (np.flatnonzero(~forced), np.flatnonzero(forced)):
            if len(group) == 0:
                continue
            sentences = [inject[k] for k in group] if forced[group[0]] else None
            out_logits, out_thoughts = self._forward(np.asarray(rows)[group], images[group], sentences)
            logits[torch.from_numpy(group)] = out_logits
            if sentences is None and out_thoughts is not None:
                for k, t in zip(group, out_thoughts):
                    thoughts[k] = t
        return StepOutput(logits, thoughts)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.bfloat16, enabled=self.amp_dtype is not None)

    def _forward(self, rows: np.ndarray, images: np.ndarray, sentences: list[str] | None):
        index = torch.from_numpy(rows).to(self.device)
        memory = tuple(m[index] for m in self._memory)
        kwargs = {"teacher_forcing": False}
        if sentences is not None:  # the injected thoughts replace the decoded ones
            distinct = sorted(set(sentences))
            kwargs = {"thoughts": self._tokens(distinct, thought=True), "teacher_forcing": True,
                      "thought_ids": torch.tensor([distinct.index(s) for s in sentences], device=self.device)}
        with self._autocast():
            out = self.model(torch.from_numpy(images).to(self.device), [len(rows)], self._mission[index],
                             self._lengths[index], memory, mission_enc=self._mission_enc[index], **kwargs)
        for m, new in zip(self._memory, out.memory):
            m[index] = new.to(m.dtype)
        thoughts = None
        if sentences is None and out.thought_tokens is not None:
            thoughts = [self.vocab.decode(t) for t in out.thought_tokens.tolist()]
        return out.action_logits.float().cpu(), thoughts
