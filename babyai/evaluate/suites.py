"""Zero-shot out-of-distribution suites: levels binned by the difficulty of the oracle's solution.

Behavioral difficulty (``demo``, as the original's key) is the length of the oracle's noise-free
solution, in bins of 50 steps labelled by their centre: 25 (0-49 steps), 75, ..., 375, and 425
for 400 steps or more. Cognitive difficulty (``mission``) is the number of distinct thoughts other
than "explore unseen area" in that solution, bins 1..9, 9 meaning 9 or more (the paper gives no
formula; this is ours). Levels come from seeds tried in increasing order from ``first_seed``; a level
joins each suite whose bin is not yet full, so the result does not depend on the number of workers.

Suites are saved as JSON (seeds and measured difficulty). The original's pickle
(``{'demo': {bin: {seed: ...}}, 'mission': {...}}``) can be read with an explicit opt-in.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from babyai.atomic import atomic_write_text
from babyai.bars import progress_bar
from babyai.workers import process_context

FORMAT = "thought-cloning-testing-levels"
VERSION = 1
SUITE_FIRST_SEED = 2_000_000_000  # above training demos (2023 + ~1e6), validation demos (1e9 + ...)
DIFF_TYPES = ("demo", "mission")  # behavioral, cognitive (the original's keys)
DIFF_NAMES = {"demo": "behavioral", "mission": "cognitive"}
BEHAVIORAL_BINS = tuple(range(25, 426, 50))  # 25, 75, ..., 425 (425: 400 steps or more)
COGNITIVE_BINS = tuple(range(1, 10))  # 1..9 (9: nine or more)
EXPLORE = "explore unseen area"
CHUNK = 32  # seeds per task sent to a worker


class SuiteError(ValueError):
    """A testing-levels file that is missing, corrupt or of another format, or seeds that collide."""


def behavioral_bin(length: int) -> int:
    return min(length // 50, 8) * 50 + 25


def cognitive_bin(distinct_thoughts: int) -> int | None:
    return min(distinct_thoughts, 9) if distinct_thoughts >= 1 else None


@dataclass
class Difficulty:
    """A level's seed and its oracle solution: length and distinct non-exploration thoughts."""

    seed: int
    length: int | None = None
    cognitive: int | None = None


def oracle_solution(env, obs) -> tuple[int, list[str]] | None:
    """(length, thoughts) of the oracle's noise-free solution from ``obs``; None when it fails."""
    from babyai.bot import Bot, BotError

    bot, action, thoughts, done, reward = Bot(env), None, [], False, 0.0
    try:
        while not done:
            action, thought = bot.replan(action, obs["image"])
            thoughts.append(thought)
            obs, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    except BotError:
        return None
    return (len(thoughts), thoughts) if reward > 0 else None


@functools.lru_cache(maxsize=4)
def _level(level: str, seeding: str):
    """One level object per process and kind, reset for every seed measured."""
    from babyai.levels import make_env

    return make_env(level, seeding=seeding)


def measure(level: str, seeding: str, seeds: Sequence[int]) -> list[Difficulty | None]:
    """The difficulty of each seed's level (None where the oracle fails)."""
    from babyai.levels import reset_env

    env = _level(level, seeding)
    out = []
    for seed in seeds:
        solution = oracle_solution(env, reset_env(env, int(seed)))
        if solution is None:
            out.append(None)
        else:
            length, thoughts = solution
            out.append(Difficulty(int(seed), length, len({t for t in thoughts if t != EXPLORE})))
    return out


def _measure_task(args) -> list[Difficulty | None]:
    return measure(*args)


@dataclass
class Suites:
    level: str
    seeding: str
    first_seed: int
    levels_per_bin: int
    max_seeds: int  # the budget: seeds that could be tried
    seeds_tried: int = 0
    oracle_failures: int = 0
    seconds: float = 0.0
    bins: dict = field(default_factory=lambda: {"demo": {b: [] for b in BEHAVIORAL_BINS},
                                                "mission": {b: [] for b in COGNITIVE_BINS}})
    source: str = "generated"
    interrupted: bool = False  # generation stopped by the user: the bins hold what was found until then

    def add(self, d: Difficulty) -> None:
        for diff_type, label in (("demo", behavioral_bin(d.length)), ("mission", cognitive_bin(d.cognitive))):
            group = self.bins[diff_type].get(label)
            if group is not None and len(group) < self.levels_per_bin:
                group.append(d)

    def full(self) -> bool:
        return all(len(g) >= self.levels_per_bin for bins in self.bins.values() for g in bins.values())

    def shortfall(self) -> dict:
        """{diff_type: {bin: missing levels}} for the bins that are not full."""
        return {t: {b: self.levels_per_bin - len(g) for b, g in bins.items() if len(g) < self.levels_per_bin}
                for t, bins in self.bins.items()}

    def seeds(self) -> list[int]:
        return sorted({d.seed for bins in self.bins.values() for g in bins.values() for d in g})

    def seed_bins(self, per_bin: int | None = None) -> dict[str, dict[int, list[int]]]:
        """{diff_type: {bin: level seeds}}, the first ``per_bin`` of each bin (None: all)."""
        return {t: {b: [d.seed for d in g][:per_bin] for b, g in self.bins[t].items()} for t in DIFF_TYPES}

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "level": self.level, "seeding": self.seeding,
            "first_seed": self.first_seed, "levels_per_bin": self.levels_per_bin, "max_seeds": self.max_seeds,
            "seeds_tried": self.seeds_tried, "oracle_failures": self.oracle_failures,
            "seconds": round(self.seconds, 1), "source": self.source, "interrupted": self.interrupted,
            "definitions": {"demo": "behavioral difficulty: oracle solution length, bins of 50 steps by centre, "
                                    "425 = 400 or more",
                            "mission": "cognitive difficulty: distinct non-exploration oracle thoughts, 9 = 9 or more"},
            "shortfall": {t: {str(b): n for b, n in s.items()} for t, s in self.shortfall().items()},
            "suites": {t: {str(b): [d.__dict__ for d in g] for b, g in bins.items()} for t, bins in self.bins.items()},
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "testing levels") -> "Suites":
        try:
            if d.get("format") != FORMAT:
                raise SuiteError(f"{where} is not a testing-levels file (format {d.get('format')!r})")
            if d.get("version") != VERSION:
                raise SuiteError(f"{where} has version {d.get('version')!r}; this code reads version {VERSION}")
            suites = cls(d["level"], d["seeding"], int(d["first_seed"]), int(d["levels_per_bin"]), int(d["max_seeds"]),
                         int(d["seeds_tried"]), int(d["oracle_failures"]), float(d["seconds"]), source=d.get("source", ""),
                         interrupted=bool(d.get("interrupted", False)))
            suites.bins = {t: {int(b): [Difficulty(**e) for e in entries] for b, entries in d["suites"][t].items()}
                           for t in DIFF_TYPES}
            _check_seeds(suites, where)
        except SuiteError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise SuiteError(f"{where} is corrupt: {type(e).__name__}: {e}") from None
        return suites


def bin_seeds(bins: dict[str, dict[int, list[int]]]) -> list[int]:
    """The distinct seeds of ``Suites.seed_bins``, sorted."""
    return sorted({s for t in bins.values() for g in t.values() for s in g})


def bins_of_seed(bins: dict[str, dict[int, list[int]]]) -> dict[int, dict[str, int]]:
    """{seed: {diff_type: bin}} for the seeds of ``Suites.seed_bins``."""
    out: dict[int, dict[str, int]] = {s: {} for s in bin_seeds(bins)}
    for t, groups in bins.items():
        for b, g in groups.items():
            for s in g:
                out[s][t] = b
    return out


def success_by_bin(by_seed: dict, bins: dict[str, dict[int, list[int]]]) -> list[tuple[str, int, float]]:
    """[(diff_type, bin, success rate)] of the episodes ``by_seed`` (seed -> record), non-empty bins only:
    the rows of zeroshot_<model>.csv."""
    from babyai.agent.rollout import success_rate

    return [(t, b, success_rate([by_seed[s] for s in g])) for t in DIFF_TYPES for b, g in bins[t].items() if g]


def build_suites(level: str, levels_per_bin: int, max_seeds: int, first_seed: int = SUITE_FIRST_SEED,
                 workers: int = 1, seeding: str = "legacy", progress: bool = True) -> Suites:
    """Try seeds first_seed, first_seed + 1, ... until every bin holds ``levels_per_bin`` levels or
    ``max_seeds`` seeds were tried. Interrupted (Ctrl-C), it returns what it found, marked ``interrupted``."""
    if levels_per_bin < 1:
        raise ValueError(f"--levels-per-bin must be at least 1, got {levels_per_bin}")
    if max_seeds < 1:
        raise ValueError(f"--max-seeds must be at least 1, got {max_seeds}")
    suites = Suites(level, seeding, first_seed, levels_per_bin, max_seeds)
    tasks = ((level, seeding, range(s, min(s + CHUNK, first_seed + max_seeds)))
             for s in range(first_seed, first_seed + max_seeds, CHUNK))
    start = time.time()
    bar = progress_bar(total=max_seeds, unit="seed", desc="testing levels", disable=not progress, mininterval=1)
    pool = process_context().Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(_measure_task, tasks) if pool else map(_measure_task, tasks)
        for chunk in results:
            for d in chunk:
                suites.seeds_tried += 1
                if d is None:
                    suites.oracle_failures += 1
                else:
                    suites.add(d)
                if suites.full():
                    break
            bar.update(len(chunk))
            bar.set_postfix_str(_fill(suites), refresh=False)
            if suites.full():
                break
    except KeyboardInterrupt:
        suites.interrupted = True
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    suites.seconds = time.time() - start
    return suites


def _fill(suites: Suites) -> str:
    missing = sum(n for s in suites.shortfall().values() for n in s.values())
    return f"{missing} levels missing"


# ------------------------------------------------------------------ files
def save_suites(suites: Suites, path: str) -> None:
    atomic_write_text(path, json.dumps(suites.to_dict(), indent=1) + "\n")


def load_suites(path: str, trust_pickle: bool = False) -> Suites:
    """A suites file: our JSON, or with ``trust_pickle`` the original's pickle."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as e:
        raise SuiteError(f"cannot read the testing levels {path}: {e.strerror or e}") from None
    if head[:1] == b"\x80":  # a pickle (protocol 2+)
        if not trust_pickle:
            raise SuiteError(f"{path} is a pickle, which can run code when loaded; pass --trust-pickle if you trust it")
        return suites_from_original_pickle(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise SuiteError(f"{path} is not a testing-levels JSON file: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path} is not a testing-levels file")
    return Suites.from_dict(data, path)


def suites_from_original_pickle(path: str, level: str = "BabyAI-BossLevel-v0") -> Suites:
    """The original's testing levels: {'demo': {bin: {seed: ...}}, 'mission': {bin: {seed: ...}}} (seeds kept,
    the values dropped). Unpickling runs code from the file: only for trusted files."""
    import pickle

    try:
        with open(path, "rb") as f:
            data = pickle.load(f)  # noqa: S301 - explicit --trust-pickle opt-in
        bins = {t: {int(b): [Difficulty(int(s)) for s in data[t][b]] for b in data[t]} for t in DIFF_TYPES}
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError, ImportError) as e:
        raise SuiteError(f"{path} is not the original's testing levels: {type(e).__name__}: {e}") from None
    per_bin = max((len(g) for b in bins.values() for g in b.values()), default=0)
    suites = Suites(level, "legacy", min((d.seed for b in bins.values() for g in b.values() for d in g), default=0),
                    per_bin, 0, source=f"original pickle {path}")
    suites.bins = bins
    _check_seeds(suites, path)
    return suites


def _check_seeds(suites: Suites, where: str) -> None:
    """Every level seed of the suites is an integer in [0, 2**63 - 1]."""
    for bins in suites.bins.values():
        for entries in bins.values():
            for e in entries:
                if not isinstance(e.seed, int) or isinstance(e.seed, bool) or not 0 <= e.seed < 2**63:
                    raise SuiteError(f"{where}: the level seed {e.seed!r} is not a seed (an integer "
                                     "from 0 to 2**63 - 1)")


def check_disjoint(suite_seeds: Iterable[int], ranges: Sequence[tuple[str, int, int]]) -> None:
    """A SuiteError when a suite seed falls in one of the named seed ranges [lo, hi] (demos, validation)."""
    seeds = sorted(suite_seeds)
    if not seeds:
        return
    for name, lo, hi in ranges:
        import bisect

        k = bisect.bisect_left(seeds, lo)
        if k < len(seeds) and seeds[k] <= hi:
            raise SuiteError(f"suite seed {seeds[k]} lies in the seeds of {name} ({lo}..{hi}): the test levels "
                             f"would not be out of sample; choose another --first-seed")


def training_seed_ranges(model: str, storage: str | None = None, group: str = "") -> list[tuple[str, int, int]]:
    """[(what, first, last)]: the level seeds a run trained and validated on, from its config.json
    (its demos' seeds, read from the datasets when they are at hand, and its validation levels)."""
    from babyai.agent.loading import find_checkpoint
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
            ranges.append(("the validation levels", train["val_seed"], _last_validation_seed(train, folder)))
    except (ValueError, KeyError, TypeError) as e:
        raise SuiteError(f"model {model}: unreadable {path}: {e}") from None
    return ranges


def _last_validation_seed(train: dict, folder: str) -> int:
    """The last level seed the run's validations played: from its log.csv (the first seed of every validation
    logged), else every validation its schedule allows (a run's folder without its log, e.g. a shipped agent)."""
    size = len(train["envs"]) * train["val_episodes"]  # levels one validation plays
    log = os.path.join(folder, "log.csv")
    if os.path.isfile(log):
        with open(log, newline="") as f:
            firsts = [int(r["validation_seed"]) for r in csv.DictReader(f) if r.get("validation_seed")]
        if firsts:
            return max(firsts) + size - 1
    validations = 1 if train.get("val_fixed") else math.ceil(train["epochs"] / max(1, train["val_interval"]))
    return train["val_seed"] + validations * size - 1


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
