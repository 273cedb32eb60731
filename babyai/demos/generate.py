"""Generate thought-annotated demonstrations with the oracle, in parallel, resumably.

Episode ``k`` of a dataset starting at seed ``s`` is played on level seed ``s + k``. If the
oracle fails there (an error, or the step limit), the level's random stream continues to the
next level (``reset_index`` counts these retries), as the original program did; only
successful episodes are kept. Episodes are written in shards of ``shard_size``: a killed run
resumes at the first missing shard and produces the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass

import numpy as np

import babyai
from babyai.atomic import remove_stale_folders
from babyai.bars import progress_bar
from babyai.bot import Bot, BotError
from babyai.demos.format import (
    DemoFormatError,
    Episode,
    Shard,
    decode_episode,
    encode_episode,
    read_meta,
    shard_name,
    write_meta,
    write_shard,
)
from babyai.demos.noise import EpisodeNoise, NoiseInjector, OriginalNoise
from babyai.levels import make_env, reset_env
from babyai.locks import LOCK_NAME, TEMP_NAME, hold, remove_temp_files
from babyai.workers import process_context

logger = logging.getLogger(__name__)
VALID_FIRST_SEED = 10**9  # BabyAI's validation demos start here
MAX_RETRIES = 1000


class GenerationError(RuntimeError):
    """The oracle failed and --on-exception crash was asked for, or retries ran out."""


@dataclass(frozen=True)
class DemoSpec:
    """Everything that determines a dataset's content (stored in its meta.json)."""

    level: str
    episodes: int
    first_seed: int
    seeding: str = "legacy"
    noise_rate: float = 0.0
    original_rng: bool = False
    filter_steps: int = 0
    shard_size: int = 1000


def play(env, obs, injector) -> tuple:
    """One episode of the oracle from ``obs``: (steps, reward, error). steps: per-step tuples."""
    bot = Bot(env)
    steps, action, reward, done = [], None, 0.0, False
    while not done:
        try:
            action, thought = bot.replan(action, obs["image"])
        except BotError as error:
            return steps, 0.0, str(error)
        action, thought, noisy = injector(action, thought)
        steps.append((obs["image"], obs["direction"], action, thought, noisy))
        obs, reward, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    return steps, float(reward), None


class EpisodeMaker:
    """Plays episode indices of one spec; keeps one env per process."""

    def __init__(self, spec: DemoSpec, crash_on_failure: bool = False):
        self.spec = spec
        self.crash = crash_on_failure
        self.env = make_env(spec.level, seeding=spec.seeding)
        self.noise = OriginalNoise() if spec.original_rng else None

    def replay_levels(self, last_level) -> None:
        """Regenerate the last level a previous run made, so this env's history is the same."""
        seed, resets = last_level
        reset_env(self.env, seed, fresh=False)
        for _ in range(resets):
            reset_env(self.env, None)

    def make(self, index: int) -> tuple:
        """(Episode, failed attempts) for episode ``index``."""
        spec, env = self.spec, self.env
        seed = spec.first_seed + index
        src = self.noise or EpisodeNoise(seed)
        fresh = not spec.original_rng  # the original walked seeds with one env (its history)
        obs, reset_index, failures, after_failure = reset_env(env, seed, fresh), 0, 0, False
        while True:
            steps, reward, error = play(env, obs, NoiseInjector(spec.noise_rate, src))
            self.last_level = [seed, reset_index]
            too_long = spec.filter_steps and len(steps) > spec.filter_steps
            if reward > 0 and not too_long:
                images, directions, actions, thoughts, noise = zip(*steps)
                return Episode(level=spec.level, seed=seed, mission=env.mission,
                               images=np.stack(images).astype(np.uint8),
                               directions=np.array(directions), actions=np.array(actions),
                               thoughts=list(thoughts), noise=np.array(noise, dtype=bool),
                               seeding=spec.seeding, reset_index=reset_index), failures
            failures += 1
            reason = error or ("too long" if reward > 0 else "step limit reached")
            if self.crash:
                raise GenerationError(f"the oracle failed on seed {seed} (reset {reset_index}): "
                                      f"{reason}")
            logger.info("seed %d reset %d: oracle failed (%s); trying the next level", seed,
                        reset_index, reason)
            if failures > MAX_RETRIES:
                raise GenerationError(f"episode {index}: {MAX_RETRIES} failed attempts in a row")
            if spec.original_rng and reward > 0 and not after_failure:
                obs, reset_index = reset_env(env, seed, fresh), 0  # the original re-seeded here
            else:
                obs, reset_index = reset_env(env, None), reset_index + 1
            after_failure = after_failure or reward == 0


def episode_words(ep: Episode) -> set:
    """The words of an episode's mission and thoughts."""
    words = set(ep.mission.split())
    for sentence in set(ep.thoughts):
        words.update(sentence.split())
    return words


def make_chunk(maker: EpisodeMaker, indices) -> list:
    """The encoded episodes ``indices`` (with seed, length, failed attempts and words of each)."""
    out = []
    for index in indices:
        ep, failures = maker.make(index)
        out.append((encode_episode(ep), ep.seed, len(ep), failures, sorted(episode_words(ep))))
    return out


# ---------------------------------------------------------------------------- worker side
# A pool's initializer is the one way to give each worker process state built once (its levels, its
# oracle): the worker's maker lives in this module global, set only inside pool workers.
_WORKER_MAKER: EpisodeMaker | None = None


def _init_worker(spec, crash: bool, maker_class: type = EpisodeMaker) -> None:
    global _WORKER_MAKER
    _WORKER_MAKER = maker_class(spec, crash)


def _worker_chunk(indices) -> list:
    return make_chunk(_WORKER_MAKER, indices)


# ---------------------------------------------------------------------------- driver
def _existing_shards(folder: str) -> int:
    """Number of leading shards on disk that open cleanly (format-1 shards, whose footer is not
    checksummed, are made again); the shards after them and temporary files of killed runs go
    (the caller holds the dataset's lock: no other writer is using them)."""
    k = 0
    while os.path.exists(os.path.join(folder, shard_name(k))):
        try:
            Shard(os.path.join(folder, shard_name(k)), legacy=False)
        except DemoFormatError:
            break
        k += 1
    keep = {shard_name(i) for i in range(k)}
    remove_temp_files(folder)
    for name in os.listdir(folder):
        if name.startswith("shard-") and name not in keep:
            os.remove(os.path.join(folder, name))
    return k


def _check_not_other(folder: str) -> None:
    """Refuse a path that holds something else than a dataset (a lock or temp files are fine)."""
    if os.path.exists(folder) and not os.path.exists(os.path.join(folder, "meta.json")):
        names = os.listdir(folder) if os.path.isdir(folder) else [folder]
        if any(name != LOCK_NAME and not TEMP_NAME.search(name) for name in names):
            raise DemoFormatError(f"{folder} exists and is not a dataset; choose another "
                                  "--demos name")


def _prepare(folder: str, spec: DemoSpec) -> int:
    """Create the dataset folder or check it holds the same spec; the shards already done."""
    spec_dict = {**asdict(spec), "generator": f"babyai {babyai.__version__}"}
    if os.path.exists(os.path.join(folder, "meta.json")):
        meta = read_meta(folder)
        old = {key: meta.get(key) for key in spec_dict}
        if old != spec_dict:
            diff = ", ".join(f"{k}: {old[k]!r} -> {v!r}" for k, v in spec_dict.items()
                             if old[k] != v)
            raise DemoFormatError(f"{folder} holds a different dataset ({diff}); choose another "
                                  "--demos name or delete it")
        if meta.get("complete"):
            return -1
        return _existing_shards(folder)
    _check_not_other(folder)
    remove_temp_files(folder)
    write_meta(folder, {**spec_dict, "complete": False})
    return 0


def generate_dataset(folder: str, spec: DemoSpec, workers: int = 1, crash: bool = False,
                     progress: bool = True, on_episode=None, maker_class: type = EpisodeMaker) -> dict:
    """Generate (or finish) the dataset ``spec`` in ``folder``; returns its meta.

    ``on_episode(Episode)`` is called for each new episode in order (e.g. to print it).
    ``maker_class(spec, crash)`` plays the episodes (``.make(index) -> (Episode, failures)``); the
    default is the oracle's, ``babyai.observe.embodiment`` plugs in other players with their own
    spec dataclass (which needs the fields ``episodes``, ``first_seed``, ``shard_size`` and
    ``original_rng``).
    The folder is locked meanwhile: a second generator on it gets a LockError naming this one.
    """
    if spec.original_rng and workers != 1:
        raise ValueError("--original-rng replays one global random stream: use --workers 1")
    if spec.episodes < 1 or spec.shard_size < 1:
        raise ValueError(f"a dataset needs at least one episode and one per shard, got "
                         f"{spec.episodes} and {spec.shard_size}")
    _check_not_other(folder)
    remove_stale_folders(os.path.dirname(os.path.abspath(folder)))  # NAME.tmpPID of killed imports
    with hold(folder, "dataset"):
        return _generate(folder, spec, workers, crash, progress, on_episode, maker_class)


def _generate(folder: str, spec: DemoSpec, workers: int, crash: bool, progress: bool,
              on_episode, maker_class: type) -> dict:
    done_shards = _prepare(folder, spec)
    if done_shards < 0:
        logger.info("%s is already complete: nothing to do", folder)
        return read_meta(folder)
    num_shards = -(-spec.episodes // spec.shard_size)
    start = done_shards * spec.shard_size
    maker = None  # the maker of this process (one worker)
    if spec.original_rng:
        if done_shards:
            prev = Shard(os.path.join(folder, shard_name(done_shards - 1)))
            OriginalNoise.set_state(prev.extra["rng"])
            maker = EpisodeMaker(spec, crash)
            maker.replay_levels(prev.extra["last_level"])
        else:
            OriginalNoise.seed(spec.first_seed)
            maker = EpisodeMaker(spec, crash)
    if start:
        logger.info("resuming %s at episode %d (%d shards done)", folder, start, done_shards)

    # work units never straddle shards; with the global stream, one episode at a time so the
    # stream's state saved with a shard is the state right after its last episode
    chunk = 1 if spec.original_rng else 8
    chunks = [range(i, min(i + chunk, shard_end))
              for shard_start in range(start, spec.episodes, spec.shard_size)
              for shard_end in [min(shard_start + spec.shard_size, spec.episodes)]
              for i in range(shard_start, shard_end, chunk)]
    if workers > 1:
        pool = process_context().Pool(workers, _init_worker, (spec, crash, maker_class))
        results = pool.imap(_worker_chunk, chunks)
    else:
        pool = None
        maker = maker or maker_class(spec, crash)
        results = (make_chunk(maker, c) for c in chunks)
    bar = progress_bar(total=spec.episodes, initial=start, unit="ep", desc=os.path.basename(folder),
                       disable=not progress, dynamic_ncols=True)
    shard, buffer, failures, words = done_shards, [], 0, set()
    try:
        for records in results:
            for record, seed, length, fails, ep_words in records:
                buffer.append((record, seed, length))
                failures += fails
                words.update(ep_words)
                if on_episode is not None:
                    on_episode(decode_episode(record))
                bar.update(1)
                if len(buffer) == spec.shard_size or start + len(buffer) == spec.episodes:
                    extra = {"failures": failures, "words": sorted(words)}
                    if spec.original_rng:
                        extra["rng"] = OriginalNoise.get_state()
                        extra["last_level"] = maker.last_level
                    write_shard(os.path.join(folder, shard_name(shard)), buffer, extra)
                    start, shard = start + len(buffer), shard + 1
                    buffer, failures, words = [], 0, set()
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
    return _finish(folder, spec, num_shards)


def _finish(folder: str, spec: DemoSpec, num_shards: int) -> dict:
    """Summarise the shards' footers into meta.json and mark the dataset complete."""
    meta = read_meta(folder)
    shards = [Shard(os.path.join(folder, shard_name(k))) for k in range(num_shards)]
    meta.update(
        num_shards=num_shards,
        num_episodes=sum(s.count for s in shards),
        num_frames=sum(int(s.lengths.sum()) for s in shards),
        failed_attempts=sum(s.extra.get("failures", 0) for s in shards),
        vocabulary=sorted(set().union(*(s.extra.get("words", []) for s in shards))),
        complete=True,
    )
    write_meta(folder, {k: v for k, v in meta.items() if k not in ("format", "format_version")})
    return read_meta(folder)
