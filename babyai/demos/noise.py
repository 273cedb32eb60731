"""Noise injection (``--noise-rate``): segments of random moves with a random thought.

At each step that is not already noisy, with probability ``rate`` a segment starts: it lasts
1..5 steps, the action of each of its steps is uniformly left/right/forward and the recorded
thought is one random sentence drawn for the whole segment. The step after a segment is the
oracle's own. The oracle keeps replanning from the actions actually taken.

Two random streams: ``EpisodeNoise`` (default) derives the stream from the episode's seed, so a
dataset is the same whatever the number of workers; ``OriginalNoise`` draws from Python's and
NumPy's global generators in the original program's order (single worker), which regenerates
the original datasets exactly, including its "open {} door" sentences (the original formatted
the colour into a string it then threw away), on every level where the original itself is
deterministic: on Synth, SynthLoc and SynthSeq it replays one run of the original's history
(see ``babyai.levels.compat``).
"""

from __future__ import annotations

import random

import numpy as np

from babyai.bot.subgoals import FORWARD, LEFT, RIGHT

COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
ITEMS = ("key", "ball", "box")
DROP_REASONS = ("temporary to find the key", "temporary to remove blocking object",
                "to complete PutNext mission")
PICKUP_REASONS = ("to complete PutNext mission", "to complete pickup mission")
NOISE_ACTIONS = (LEFT, RIGHT, FORWARD)
NOISE_SALT = 0x7C0FFEE  # separates the noise stream from anything else seeded by the episode


class EpisodeNoise:
    """Noise draws from a generator derived from the episode's seed."""

    original_sentences = False

    def __init__(self, episode_seed: int):
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            [int(episode_seed), NOISE_SALT])))

    def random(self) -> float:
        return float(self.rng.random())

    def integers(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]


class OriginalNoise:
    """Noise draws from the global ``numpy.random`` and ``random`` streams, as the original."""

    original_sentences = True

    @staticmethod
    def seed(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed)

    @staticmethod
    def get_state() -> dict:
        version, words, gauss = random.getstate()
        name, keys, pos, has_gauss, cached = np.random.get_state()
        return {"python": [version, list(words), gauss],
                "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    @staticmethod
    def set_state(state: dict) -> None:
        version, words, gauss = state["python"]
        random.setstate((version, tuple(words), gauss))
        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))

    def random(self) -> float:
        return np.random.random()

    def integers(self, low: int, high: int) -> int:
        return int(np.random.randint(low, high))

    def choice(self, options):
        return random.choice(options)


def noise_thought(src) -> str:
    """A random sentence of the shapes the oracle says (draw order as in the original)."""
    if src.random() < 2 / 7:
        verb = "unlock" if src.random() < 1 / 10 else "open"
        color = src.choice(COLORS)
        return f"{verb} {{}} door" if src.original_sentences else f"{verb} {color} door"
    if src.random() < 2 / 7:
        color, item = src.choice(COLORS), src.choice(ITEMS)
        return f"drop {color} {item} {src.choice(DROP_REASONS)}"
    if src.random() < 1 / 7:
        color, item = src.choice(COLORS), src.choice(ITEMS)
        return f"remove blocking object {color} {item}"
    color, item = src.choice(COLORS), src.choice(ITEMS)
    return f"pickup {color} {item} {src.choice(PICKUP_REASONS)}"


class NoiseInjector:
    """Replaces the oracle's (action, thought) by noise segments, step by step."""

    def __init__(self, rate: float, src):
        self.rate, self.src = rate, src
        self.active, self.length, self.done, self.thought = False, 0, 0, ""
        # the original drew at every step even at rate 0; only its stream needs those draws
        self.draws = rate > 0 or isinstance(src, OriginalNoise)

    def __call__(self, action: int, thought: str):
        """(action, thought, is_noise) for this step."""
        if not self.active and self.draws and self.src.random() < self.rate:
            self.active, self.done = True, 0
            self.length = self.src.integers(1, 6)
            self.thought = noise_thought(self.src)
        if self.active:
            self.done += 1
            if self.done > self.length:
                self.active, self.length, self.done = False, 0, 0
            else:
                return self.src.choice(NOISE_ACTIONS), self.thought, True
        return action, thought, False
