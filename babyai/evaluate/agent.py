"""The one adapter between evaluation and the trained networks of ``babyai.model`` / ``babyai.train``.

Every call into a model, its checkpoint or its vocabulary goes through this file, so a change of
their API costs one edit here. ``ModelPolicy`` steps a batch of episodes one time step at a time:
the Thought Generator speaks a thought (greedy decoding) and the Action Generator acts on it, or,
for the rows given an injected thought, the Action Generator and the thought history read that
sentence instead of the decoded one (teacher forcing of the model's ``forward`` on those rows).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np
import torch


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

    def __init__(self, model: torch.nn.Module, vocab, name: str = "model", device: str | torch.device = "cpu",
                 amp: bool | None = None):
        self.model = model.to(device)
        self.vocab = vocab
        self.name = name
        self.device = torch.device(device)
        self.amp = self.device.type == "cuda" if amp is None else amp
        from babyai.model import ThoughtCloningAgent

        self.thinks = isinstance(model, ThoughtCloningAgent)
        self.max_thought_len = int(model.cfg.max_thought_len)
        self._mission = self._lengths = self._memory = None

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
        except ValueError as e:
            raise ModelError(f"model {self.name}: {e}") from None

    def check_thought(self, sentence: str) -> None:
        """A ModelError if ``sentence`` cannot be fed to the Action Generator."""
        if not self.thinks:
            raise ModelError(f"model {self.name} is a Behavioral Cloning model: it has no thoughts to replace")
        self.check_missions([sentence], f"the thought {sentence!r}")
        if len(self.vocab.encode_thought(sentence)) - 1 > self.max_thought_len:
            raise ModelError(f"the thought {sentence!r} is longer than the model's {self.max_thought_len} tokens")

    def _tokens(self, texts: list[str], thought: bool) -> torch.Tensor:
        ids = [self.vocab.encode_thought(t) if thought else self.vocab.encode(t) for t in texts]
        out = np.zeros((len(ids), max(1, max(len(i) for i in ids))), dtype=np.int64)  # 0 = padding
        for k, row in enumerate(ids):
            out[k, : len(row)] = row
        return torch.from_numpy(out).to(self.device)

    def _decode(self, ids: list[int]) -> str:
        """The decoded words up to "eos"; an id the network may emit beyond the vocabulary's words reads <unk>."""
        from babyai.model import EOS_ID, PAD_ID, SOS_ID

        known = len(self.vocab)
        if all(i < known for i in ids):
            return self.vocab.decode(ids)
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, SOS_ID):
                words.append(self.vocab.decode([i]) if i < known else "<unk>")
        return " ".join(words)

    # ---------------------------------------------------------------- stepping
    def begin(self, missions: list[str]) -> None:
        self.check_missions(missions, "the missions")
        self._mission = self._tokens(missions, thought=False)  # (B, Lm)
        self._lengths = (self._mission != 0).sum(1)  # (B,)
        self._memory = self.model.initial_memory(len(missions), self.device)

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

    def _forward(self, rows: np.ndarray, images: np.ndarray, sentences: list[str] | None):
        index = torch.from_numpy(rows).to(self.device)
        memory = tuple(m[index] for m in self._memory)
        kwargs = {"teacher_forcing": False}
        if sentences is not None:  # the injected thoughts replace the decoded ones
            distinct = sorted(set(sentences))
            kwargs = {"thoughts": self._tokens(distinct, thought=True), "teacher_forcing": True,
                      "thought_ids": torch.tensor([distinct.index(s) for s in sentences], device=self.device)}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            out = self.model(torch.from_numpy(images).to(self.device), [len(rows)], self._mission[index],
                             self._lengths[index], memory, **kwargs)
        for m, new in zip(self._memory, out.memory):
            m[index] = new.to(m.dtype)
        thoughts = None
        if sentences is None and out.thought_tokens is not None:
            thoughts = [self._decode(t) for t in out.thought_tokens.tolist()]
        return out.action_logits.float().cpu(), thoughts


# -------------------------------------------------------------------- loading
def find_checkpoint(model: str, storage: str | None = None, group: str = "", which: str = "best") -> str:
    """The checkpoint file of ``model``: a .pt path, a run folder, or a run name under <storage>[/GROUP]/models.

    ``which`` = best (falling back to last) or last.
    """
    from babyai.storage import group_root, model_dir

    if model.endswith(".pt") and os.path.isfile(model):
        return model
    folder = model if os.path.isdir(model) else model_dir(model, group_root(group, storage))
    order = ("best.pt", "last.pt") if which == "best" else ("last.pt",)
    for name in order:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise ModelError(f"no model {model!r}: no {' or '.join(order)} in {folder}")


def load_policy(model: str, storage: str | None = None, group: str = "", device: str = "cpu",
                which: str = "best") -> ModelPolicy:
    """A trained model by name (or path), checked against its vocabulary, ready to step."""
    from babyai.model import TCConfig
    from babyai.train.checkpoint import load_checkpoint
    from babyai.train.trainer import make_model
    from babyai.train.vocab import Vocabulary

    path = find_checkpoint(model, storage, group, which)
    try:
        ckpt = load_checkpoint(path)
        config = TCConfig.from_dict(ckpt["model_config"])
        vocab = Vocabulary.from_dict(ckpt["vocab"])
        net = make_model(ckpt["algo"], config)
        weights = ckpt["model"]
        if not isinstance(weights, dict):
            raise TypeError("its 'model' entry is not a state dict")
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"model {model}: cannot use {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if vocab.size != config.vocab_size:
        raise ModelError(f"model {model}: its vocabulary has {vocab.size} entries but the network {config.vocab_size}")
    _check_vocab_file(os.path.join(os.path.dirname(path), "vocab.json"), vocab, model)
    try:
        net.load_state_dict(weights)
    except RuntimeError as e:
        first = next((line.strip() for line in str(e).splitlines()[1:] if line.strip()), str(e).splitlines()[0])
        raise ModelError(f"model {model}: the weights in {path} do not fit its config ({first})") from None
    return ModelPolicy(net, vocab, os.path.basename(model.rstrip("/")).removesuffix(".pt"), device)


def _check_vocab_file(path: str, vocab, model: str) -> None:
    """The run folder's vocab.json, when there is one, must be the checkpoint's vocabulary."""
    import json

    from babyai.train.vocab import Vocabulary

    if not os.path.isfile(path):
        return
    try:
        with open(path) as f:
            other = Vocabulary.from_dict(json.load(f))
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"model {model}: unreadable vocabulary {path}: {e}") from None
    if other != vocab:
        raise ModelError(f"model {model}: {path} is not the vocabulary the checkpoint was trained with")


def untrained_policy(kind: str = "tc", memory_dim: int = 32, instr_dim: int = 32, seed: int = 0,
                     device: str = "cpu") -> ModelPolicy:
    """A freshly initialised small network with the project's vocabulary (tests, smoke runs)."""
    from babyai.model import BCAgent, TCConfig, ThoughtCloningAgent
    from babyai.train.vocab import Vocabulary

    torch.manual_seed(seed)
    cfg = TCConfig(memory_dim=memory_dim, instr_dim=instr_dim)
    net = ThoughtCloningAgent(cfg) if kind == "tc" else BCAgent(cfg)
    return ModelPolicy(net, Vocabulary.babyai(cfg.vocab_size), f"untrained-{kind}", device)


def save_untrained(folder: str, kind: str = "tc", memory_dim: int = 32, instr_dim: int = 32, seed: int = 0) -> str:
    """Write an untrained small model as a run folder (best.pt + vocab.json), as training would (tests)."""
    from babyai.train.checkpoint import atomic_write_text, save_checkpoint

    policy = untrained_policy(kind, memory_dim, instr_dim, seed)
    os.makedirs(folder, exist_ok=True)
    save_checkpoint(os.path.join(folder, "best.pt"), {
        "algo": kind, "model_config": policy.model.cfg.to_dict(), "vocab": policy.vocab.to_dict(),
        "model": policy.model.state_dict(), "seed": seed,
    })
    atomic_write_text(os.path.join(folder, "vocab.json"), policy.vocab.to_json() + "\n")
    return folder


def training_seed_ranges(model: str, storage: str | None = None, group: str = "") -> list[tuple[str, int, int]]:
    """[(what, first, last)]: the level seeds a run trained and validated on, from its config.json
    (its demos' seeds, read from the datasets when they are at hand, and its validation levels)."""
    import json
    import math

    from babyai.storage import demos_path, storage_dir

    folder = os.path.dirname(find_checkpoint(model, storage, group))
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        return []
    try:
        with open(path) as f:
            train = json.load(f)["train"]
        ranges = []
        root = train.get("storage") or storage_dir(storage)
        names = list(train["demos"]) + list(train.get("valid_demos") or [f"{n}_valid" for n in train["demos"]])
        for name in names:
            seeds = _dataset_seeds(demos_path(name, root)) or _dataset_seeds(demos_path(name, storage_dir(storage)))
            if seeds is not None:
                ranges.append((f"the demos {name}", *seeds))
        if train.get("val_episodes"):
            validations = math.ceil(train["epochs"] / max(1, train["val_interval"]))
            last = train["val_seed"] + validations * len(train["envs"]) * train["val_episodes"] - 1
            ranges.append(("the validation levels", train["val_seed"], last))
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"model {model}: unreadable {path}: {e}") from None
    return ranges


def _dataset_seeds(path: str) -> tuple[int, int] | None:
    """(first, last) seed of a dataset, or None when it is not there."""
    from babyai.demos import open_demos

    if not os.path.isdir(path):
        return None
    try:
        reader = open_demos(path, allow_incomplete=True)
    except (OSError, ValueError):
        return None
    seeds = reader.seeds
    if len(seeds) == 0:
        return None
    return int(seeds.min()), int(seeds.max())
