"""The vocabulary: a fixed, sorted word list built from the BabyAI grammar, saved with every model.

Ids 0, 1, 2 are padding, "sos" and "eos"; the words follow in sorted order. The word list is the
union of the words BabyAI missions are made of (minigrid's verifier grammar) and the words of the
oracle's thoughts (DESIGN.md section 3, and the noise thought "open {} door" of the original data),
so every model trained on any level shares one vocabulary and the ids never depend on data order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from babyai.model.config import EOS_ID, PAD_ID, SOS_ID

SPECIALS = ("<pad>", "sos", "eos")
COLORS = ("blue", "green", "grey", "purple", "red", "yellow")
OBJECT_TYPES = ("ball", "box", "door", "key")
MISSION_WORDS = (
    "a after and behind front go in next object of on open pick put right left the then to up you your"
).split()
THOUGHT_WORDS = (
    "area blocking carrying close complete drop explore find goto it mission pickup previous putnext remove "
    "resume temporary unlock unseen wall {}"
).split()
GRAMMAR_WORDS = tuple(sorted(set(COLORS) | set(OBJECT_TYPES) | set(MISSION_WORDS) | set(THOUGHT_WORDS)))

assert SPECIALS.index("<pad>") == PAD_ID and SPECIALS.index("sos") == SOS_ID and SPECIALS.index("eos") == EOS_ID


def pad_ids(rows: Iterable[np.ndarray]) -> torch.Tensor:
    """(n, L) int64 token ids, each row padded with the padding id to the longest (L >= 1)."""
    out = pad_sequence([torch.as_tensor(r, dtype=torch.long) for r in rows], batch_first=True, padding_value=PAD_ID)
    return out if out.shape[1] else torch.full((len(out), 1), PAD_ID, dtype=torch.long)


class VocabularyError(ValueError):
    """Text with words the model's vocabulary does not hold."""


def tokenize(text: str) -> list[str]:
    """Lowercase words separated by spaces (commas separate too, as in "..., then ...")."""
    return text.lower().replace(",", " ").split()


class Vocabulary:
    """Word <-> id. ``encode`` gives a mission's ids; ``encode_thought`` wraps a thought in sos ... eos."""

    def __init__(self, words: Iterable[str], size: int = 100):
        words = list(words)
        if words != sorted(set(words)):
            raise ValueError("vocabulary words must be unique and sorted")
        if set(words) & set(SPECIALS):
            raise ValueError(f"vocabulary words must not include the reserved tokens {SPECIALS}")
        if len(SPECIALS) + len(words) > size:
            raise ValueError(f"{len(words)} words do not fit a vocabulary of size {size}")
        self.size = size
        self.itos = list(SPECIALS) + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def babyai(cls, size: int = 100) -> "Vocabulary":
        """The grammar vocabulary every model of this project uses."""
        return cls(GRAMMAR_WORDS, size)

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos and self.size == other.size

    def unknown_words(self, texts: Iterable[str]) -> list[str]:
        return sorted({w for text in texts for w in tokenize(text) if w not in self.stoi or w in SPECIALS})

    def check(self, texts: Iterable[str], where: str) -> None:
        """Raise a VocabularyError naming the words of ``texts`` that are not in the vocabulary."""
        unknown = self.unknown_words(texts)
        if unknown:
            raise VocabularyError(
                f"{where} uses words that are not in the model's vocabulary: {', '.join(repr(w) for w in unknown)}"
            )

    def encode(self, text: str) -> np.ndarray:
        """A mission's token ids (int64)."""
        words = tokenize(text)
        try:
            return np.array([self.stoi[w] for w in words], dtype=np.int64)
        except KeyError:
            self.check([text], f"the text {text!r}")
            raise

    def encode_thought(self, text: str) -> np.ndarray:
        """A thought's token ids between "sos" and "eos" (int64)."""
        return np.concatenate([[SOS_ID], self.encode(text), [EOS_ID]]).astype(np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """The words of a token sequence, skipping "sos" and padding and stopping at "eos"."""
        words = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i not in (PAD_ID, SOS_ID):
                words.append(self.itos[i] if i < len(self.itos) else "<unk>")
        return " ".join(words)

    def to_dict(self) -> dict:
        return {"size": self.size, "words": self.itos[len(SPECIALS):]}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        return cls(d["words"], d["size"])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)
