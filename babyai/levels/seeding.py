"""The random generator of gym 0.9.6, as seen by minigrid's level code.

gym 0.9.6 seeded a ``numpy.random.RandomState`` with the first 8 bytes of sha512(str(seed)),
read as two little-endian 32-bit words, and gym-minigrid 1.0.0 drew from it with ``randint`` and
``uniform``. minigrid 3 draws with ``Generator.integers``/``uniform``; ``LegacyRandom`` answers
those calls from such a RandomState, so a minigrid level replays the original level exactly.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np


def legacy_seed_words(seed: int) -> list[int]:
    """The 32-bit words gym 0.9.6's ``seeding.np_random(seed)`` seeded its RandomState with."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    seed = int(seed) % 2**64
    digest = hashlib.sha512(str(seed).encode("utf8")).digest()[:8]
    big = sum(word << (32 * k) for k, word in enumerate(struct.unpack("<2I", digest)))
    words = []
    while big > 0:
        big, word = divmod(big, 2**32)
        words.append(word)
    return words or [0]


class LegacyRandom:
    """A stand-in for ``numpy.random.Generator`` drawing as gym-minigrid 1.0.0 did."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._state = np.random.RandomState()
        self._state.seed(legacy_seed_words(seed))

    def integers(self, low, high=None, size=None):
        return self._state.randint(low, high, size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._state.uniform(low, high, size)

    def random(self, size=None):
        return self._state.random_sample(size)
