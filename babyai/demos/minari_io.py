"""Datasets in Farama's Minari: export ours (with thoughts), import BabyAI ones (without).

Minari (``pip install -e ".[minari]"``) is where gymnasium users look for offline datasets; it
ships BabyAI bot datasets (``minigrid/BabyAI-*/optimal-v0``) that have no thoughts.

Export (:func:`export_minari`) writes one Minari episode per demonstration, in Minari's layout:
``observations`` (``image`` (T+1, 7, 7, 3), ``direction`` (T+1,), ``mission`` T+1 strings),
``actions`` (T,), ``rewards``, ``terminations``, ``truncations`` (T,), and ``infos`` aligned with
the observations (T+1): ``thought`` (the oracle's thought on seeing observation t, "" on the
last) and ``noise`` (the step's action and thought were noise). Our datasets keep only the
observations an action was taken on, so each episode is replayed from its level seed to get the
final observation, the rewards and the end flags, and the replay is checked against every stored
observation. The dataset's metadata holds the level, the seeding mode (``legacy`` seeds are the
paper's levels, not those of ``env.reset(seed=...)``), the seeds, the generation settings and
the generator version.

Import (:func:`import_minari`) reads any Minari BabyAI dataset (Dict observations with image,
direction and mission; Discrete(7) actions) into our format. Its thoughts are kept only when the
dataset is one of our exports (which comes back with its shards and its generation settings, see
:func:`import_minari`); otherwise it is an observation-and-action dataset (``thoughts`` false in
meta.json): Behavioral Cloning trains on it, Thought Cloning refuses it.

Minari's HDF5 reader returns the text in ``infos`` as bytes although it is stored as UTF-8 text:
:func:`thoughts_of` gives an episode's thoughts as ``str``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import string
import warnings
from collections.abc import Iterator

import gymnasium
import numpy as np

import babyai
from babyai.atomic import atomic_folder
from babyai.bars import progress_bar
from babyai.demos.format import (
    DemoFormatError,
    DemoReader,
    Episode,
    encode_episode,
    shard_name,
    write_meta,
    write_shard,
)
from babyai.demos.generate import episode_words
from babyai.demos.validate import episode_checker
from babyai.levels import make_env, reset_env

CHUNK = 256  # episodes handed to Minari at a time
MAX_MISSION = 512
ACTIONS = 7
# keys of our export's dataset metadata, and of those the import restores in meta.json (with their types)
EXPORT_KEYS = ("level", "seeding", "first_seed", "episodes", "noise_rate", "original_rng", "filter_steps",
               "shard_size", "failed_attempts", "generator")
RESTORED = {"first_seed": int, "episodes": int, "noise_rate": float, "original_rng": bool, "filter_steps": int,
            "shard_size": int, "failed_attempts": int}


def _minari():
    try:
        import minari
    except ImportError:
        raise DemoFormatError('Minari is not installed: pip install -e ".[minari]"') from None
    return minari


def observation_space():
    """The Minari observation space of a BabyAI level (minigrid's, with a plain Text mission)."""
    from gymnasium import spaces

    return spaces.Dict({
        "direction": spaces.Discrete(4),
        "image": spaces.Box(0, 255, (7, 7, 3), np.uint8),
        "mission": spaces.Text(MAX_MISSION, charset=string.ascii_letters + string.digits + " ,"),
    })


# ---------------------------------------------------------------------------------- export
def replay(env, ep: Episode, fresh: bool = True):
    """Play ``ep``'s actions on its level again: (final observation, rewards, terminated, truncated).

    Raises DemoFormatError where the level does not give the stored observations back.
    """
    where = f"episode of {ep.level} seed {ep.seed}"
    if ep.seed < 0:
        raise DemoFormatError(f"{where}: no level seed is recorded, so it cannot be replayed")
    obs = reset_env(env, int(ep.seed), fresh)
    for _ in range(ep.reset_index):
        obs = reset_env(env, None)
    rewards, terminated, truncated = [], False, False
    for t, action in enumerate(ep.actions):
        if terminated or truncated or obs["mission"] != ep.mission or not (
                np.array_equal(obs["image"], ep.images[t]) and obs["direction"] == ep.directions[t]):
            raise DemoFormatError(f"{where}: its level does not replay the stored observation of step "
                                  f"{t} (made by another version, or on a history-dependent level)")
        obs, reward, terminated, truncated, _ = env.step(int(action))
        rewards.append(float(reward))
    if not (terminated or truncated):
        raise DemoFormatError(f"{where}: the replayed episode does not end where the stored one does")
    return obs, rewards, terminated, truncated


def episode_buffer(ep: Episode, final_obs: dict, rewards: list, terminated: bool, truncated: bool):
    """One Minari EpisodeBuffer of ``ep`` (see the module docstring for the layout)."""
    from minari.data_collector import EpisodeBuffer

    steps = len(ep)
    images = np.concatenate([ep.images, final_obs["image"][None]]).astype(np.uint8)
    directions = np.append(ep.directions, int(final_obs["direction"])).astype(np.int64)
    return EpisodeBuffer(
        seed=int(ep.seed),
        observations={"direction": directions, "image": images, "mission": [ep.mission] * (steps + 1)},
        actions=np.asarray(ep.actions, np.int64),
        rewards=rewards,
        terminations=[False] * (steps - 1) + [bool(terminated)],
        truncations=[False] * (steps - 1) + [bool(truncated and not terminated)],
        infos={"thought": list(ep.thoughts) + [""], "noise": np.append(ep.noise, False).astype(bool)},
    )


def _seed_runs(seeds) -> list:
    """[[first, last], ...]: the seeds as runs of consecutive values."""
    runs = []
    for seed in map(int, seeds):
        if runs and seed == runs[-1][1] + 1:
            runs[-1][1] = seed
        else:
            runs.append([seed, seed])
    return runs


def export_minari(reader: DemoReader, dataset_id: str, author: str | None = None,
                  description: str | None = None, progress: bool = True) -> str:
    """Write the demonstrations of ``reader`` as the Minari dataset ``dataset_id``; its folder.

    The dataset goes to Minari's storage ($MINARI_DATASETS_PATH, else ~/.minari/datasets); an
    existing id is refused. It is written aside (``FOLDER.tmpPID`` next to it) and moved into place
    only when complete, so a failed or killed export leaves no dataset that Minari opens, and an
    export never removes a folder it did not write (another export's, finished meanwhile, is kept).
    """
    from minari.dataset.minari_dataset import parse_dataset_id
    from minari.storage.datasets_root_dir import get_dataset_path

    _minari()
    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise DemoFormatError(f"bad Minari dataset id {dataset_id!r}: it must look like "
                              "NAMESPACE/NAME-v0 (e.g. thought-cloning/BabyAI-GoToLocal/oracle-v0)") from None
    folder = str(get_dataset_path(dataset_id))
    if os.path.exists(folder):
        raise DemoFormatError(f"a Minari dataset {dataset_id} already exists at {folder}; choose another id")
    if len(reader) == 0:
        raise DemoFormatError(f"{reader.folder} holds no episodes")
    with atomic_folder(folder) as tmp:  # FileExistsError if another export's arrived meanwhile
        scratch = os.path.join(tmp, "minari")  # a Minari storage of its own: the dataset lands in it
        _write_dataset(reader, dataset_id, scratch, author, description, progress)
        written = os.path.join(scratch, dataset_id)
        for name in os.listdir(written):
            os.rename(os.path.join(written, name), os.path.join(tmp, name))
        shutil.rmtree(scratch)
    return folder


@contextlib.contextmanager
def _minari_storage(root: str):
    """Minari's datasets folder set to ``root`` for the block."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = root
    try:
        yield
    finally:
        if old is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def _write_dataset(reader: DemoReader, dataset_id: str, root: str, author: str | None, description: str | None,
                   progress: bool) -> None:
    """Write the Minari dataset ``dataset_id`` in the Minari storage ``root``."""
    meta = reader.meta
    level, seeding = meta.get("level") or reader[0].level, meta.get("seeding", "legacy")
    env = make_env(level, seeding=seeding)
    fresh = not meta.get("original_rng", False)  # history mode walked the seeds with one env
    metadata = {key: meta[key] for key in EXPORT_KEYS if key in meta}
    metadata.update(level=level, seeding=seeding, thoughts=meta.get("thoughts", True),
                    seeds=_seed_runs(reader.seeds[: len(reader)]), exported_by=f"babyai {babyai.__version__}",
                    shards=[[s.count, int(s.extra.get("failures", 0))] for s in reader.shards])
    resets, dataset = [], None
    with progress_bar(total=len(reader), unit="ep", desc=f"export {dataset_id}", disable=not progress) as bar:
        for start in range(0, len(reader), CHUNK):
            buffers = []
            for i in range(start, min(start + CHUNK, len(reader))):
                ep = reader[i]
                buffers.append(episode_buffer(ep, *replay(env, ep, fresh)))
                if ep.reset_index:
                    resets.append([i, int(ep.reset_index)])
            if dataset is None:
                with warnings.catch_warnings(), _minari_storage(root):  # Minari warns of every optional field
                    warnings.simplefilter("ignore", UserWarning)
                    dataset = _minari().create_dataset_from_buffers(
                        dataset_id, buffers, env=level if level in gymnasium.envs.registry else None,
                        algorithm_name="BabyAI bot (Thought Cloning oracle)",
                        author=author, description=description or _description(level, seeding),
                        observation_space=observation_space(), action_space=_action_space())
            else:
                dataset.update_dataset_from_buffer(buffers)
            bar.update(len(buffers))
    dataset.storage.update_metadata({**metadata, "reset_indices": resets})


def _action_space():
    from gymnasium import spaces

    return spaces.Discrete(ACTIONS)


def _description(level: str, seeding: str) -> str:
    return (f"Thought-annotated demonstrations of the BabyAI oracle on {level} ({seeding} seeding): "
            "infos hold per step the oracle's thought and whether the step was noise.")


# ---------------------------------------------------------------------------------- import
def _text(values) -> list:
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def thoughts_of(episode) -> list:
    """The thoughts of one episode of our export as read by ``minari.load_dataset`` (``str``, one per observation,
    "" at the last): they are stored as UTF-8 text, but Minari's HDF5 reader returns text in ``infos`` as bytes."""
    return _text(episode.infos["thought"])


def _number_ok(value, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        return False
    return 0 <= value <= 1 if kind is float else value >= 0


def _generation(dataset_id: str, info: dict, episodes: int, shard_size: int | None) -> tuple:
    """What our export kept of how its episodes were generated: (meta.json settings, shards as [episodes,
    failed attempts] pairs). For another's dataset: none, and shards of ``shard_size`` (1000 by default)."""
    settings = {key: info[key] for key in RESTORED if key in info}
    for key, value in settings.items():
        if not _number_ok(value, RESTORED[key]):
            raise DemoFormatError(f"{dataset_id}: its metadata {key} is {str(value)[:30]!r}, expected "
                                  f"{'a number in [0, 1]' if RESTORED[key] is float else RESTORED[key].__name__}")
    shards = info.get("shards")
    if shard_size is not None or shards is None:
        size = shard_size or settings.get("shard_size") or 1000
        settings.update({"shard_size": shard_size} if shard_size else {})
        return settings, [[min(size, episodes - start), 0] for start in range(0, episodes, size)]
    if not (isinstance(shards, list) and all(isinstance(pair, list) and len(pair) == 2 and _number_ok(pair[0], int)
                                             and pair[0] > 0 and _number_ok(pair[1], int) for pair in shards)
            and sum(pair[0] for pair in shards) == episodes):
        raise DemoFormatError(f"{dataset_id}: its metadata shards are not [episodes, failures] pairs "
                              f"adding up to its {episodes} episodes")
    return settings, shards


def _write_shards(folder: str, episodes: Iterator[Episode], shards: list, bar) -> tuple:
    """Write ``episodes`` into shards of the sizes ``shards`` names, their footers as generation writes them;
    (words, frames)."""
    everything, frames = set(), 0
    for index, (count, failures) in enumerate(shards):
        records, words = [], set()
        for ep in itertools.islice(episodes, count):
            records.append((encode_episode(ep), ep.seed, len(ep)))
            words.update(episode_words(ep))
            frames += len(ep)
            bar.update(1)
        write_shard(os.path.join(folder, shard_name(index)), records, {"failures": failures, "words": sorted(words)})
        everything |= words
    return everything, frames


def minari_episodes(dataset, level: str, seeding: str, seeds: Iterator, generator: str, resets: dict) -> Iterator[Episode]:
    """Our Episodes of a Minari BabyAI dataset (thoughts and noise flags only where it has them), each checked
    against the level's spaces (a DemoFormatError names the first field that is not)."""
    check = episode_checker(level, seeding)
    for i, (ep, seed) in enumerate(zip(dataset.iterate_episodes(), seeds)):
        obs, steps = ep.observations, len(ep.actions)
        if not isinstance(obs, dict) or not {"image", "direction", "mission"} <= set(obs):
            raise DemoFormatError(f"Minari episode {ep.id} has no BabyAI observations (image, direction, "
                                  "mission)")
        images = np.asarray(obs["image"])
        if images.shape[1:] != (7, 7, 3) or len(images) < steps or steps == 0:
            raise DemoFormatError(f"Minari episode {ep.id}: images of shape {images.shape} for {steps} actions")
        infos = ep.infos or {}
        thoughts = _text(infos["thought"][:steps]) if "thought" in infos else [""] * steps
        noise = np.asarray(infos["noise"][:steps]) if "noise" in infos else np.zeros(steps, bool)
        yield check(Episode(level=level, seed=-1 if seed is None else seed, mission=_text(obs["mission"][:1])[0],
                            images=images[:steps], directions=np.asarray(obs["direction"][:steps]),
                            actions=np.asarray(ep.actions).reshape(-1), thoughts=thoughts,
                            noise=noise, success=bool(np.sum(ep.rewards) > 0), seeding=seeding,
                            reset_index=resets.get(i, 0), generator=generator), f"Minari episode {ep.id}")


def import_minari(dataset_id: str, folder: str, level: str | None = None, shard_size: int | None = None,
                  progress: bool = True) -> dict:
    """Read the local Minari dataset ``dataset_id`` into a new dataset folder; its meta.

    One of our exports comes back as it was exported: its episodes, shards (unless ``shard_size`` is given) and
    generation settings in meta.json; the only loss is a history-mode (``original_rng``) dataset's saved noise
    stream, which only resuming its generation needs."""
    minari = _minari()
    if os.path.exists(folder):
        raise FileExistsError(f"{folder} already exists; choose another --demos name")
    try:
        dataset = minari.load_dataset(dataset_id)
    except FileNotFoundError:
        from minari.storage.datasets_root_dir import get_dataset_path

        raise DemoFormatError(f"no Minari dataset {dataset_id} in {get_dataset_path()} (download it "
                              "first with `minari download`, or set $MINARI_DATASETS_PATH)") from None
    except ValueError as error:
        raise DemoFormatError(f"cannot open the Minari dataset {dataset_id}: {error}") from None
    info = dataset.storage.metadata
    level = level or info.get("level") or (dataset.env_spec.id if dataset.env_spec else None)
    if not level:
        raise DemoFormatError(f"{dataset_id} does not name its level: give it with --env")
    seeding = info.get("seeding", "gymnasium")  # Minari's collectors seed with env.reset(seed=...)
    episode_checker(level, seeding)  # an unknown level or seeding: a clear error before anything is written
    ours = bool(info.get("thoughts")) and info.get("exported_by", "").startswith("babyai")
    # an export of ours keeps the version that generated the episodes, and how they were generated
    generator = info["generator"] if ours and "generator" in info else f"minari {dataset_id} (imported)"
    settings, shards = _generation(dataset_id, info if ours else {}, len(dataset), shard_size)
    seeds = (m.get("seed") for m in dataset.storage.get_episode_metadata(dataset.episode_indices))
    try:
        resets = {int(i): r for i, r in info.get("reset_indices", [])}
    except (TypeError, ValueError):
        raise DemoFormatError(f"{dataset_id}: its reset_indices are not [episode, resets] pairs") from None
    with atomic_folder(folder) as tmp:  # complete or absent, whoever else imports to the same name
        with progress_bar(total=len(dataset), unit="ep", desc=f"import {dataset_id}", disable=not progress) as bar:
            episodes = minari_episodes(dataset, level, seeding, seeds, generator, resets)
            words, frames = _write_shards(tmp, episodes, shards, bar)
        write_meta(tmp, {
            "episodes": len(dataset), "failed_attempts": 0, **settings,
            "level": level, "seeding": seeding, "imported_from": f"minari:{dataset_id}",
            "thoughts": ours, "noise_flags_known": ours, "num_shards": len(shards),
            "num_episodes": len(dataset), "num_frames": frames, "vocabulary": sorted(words), "complete": True,
            "generator": generator,
        })
    return DemoReader(folder).meta
