"""BCO(0): label the demonstrations' actions with an inverse dynamics model, then imitate as usual.

``IDMLabelledReader`` wraps a demonstration dataset: its episodes carry the IDM's actions and the
demonstrations' own actions (and noise flags) are never used. An episode's last action has no
observed consequence (the datasets hold the observation before each action, none after the last),
so a labelled episode is its first T - 1 steps, and episodes of one step are left out.

For training, the labelled episodes are written once as a dataset of their own (the project's
format, ``<storage>/demos/observed-IDM/NAME``, with ``NAME_valid`` beside it when the demos have
one) and the run is pointed at it: the trainer is unchanged, a resumed run reads the same labels,
and ``scripts/show_demos.py`` shows what the IDM inferred.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time

import numpy as np

from babyai.atomic import atomic_folder
from babyai.locks import LockError, acquire, release
from babyai.demos.format import Episode, encode_episode, read_meta, shard_name, write_meta, write_shard
from babyai.observe.idm import IDMError, file_digest, idm_path, load_idm, load_transitions, predict

log = logging.getLogger(__name__)
SHARD = 1000


class IDMLabelledReader:
    """A demonstration reader whose episodes carry the actions an IDM infers from the observations."""

    def __init__(self, reader, model):
        self.reader, self.model = reader, model
        self._keep = np.flatnonzero(np.asarray(reader.lengths) >= 2)
        self.lengths = np.asarray(reader.lengths)[self._keep] - 1
        self.seeds = np.asarray(reader.seeds)[self._keep]
        self.meta = dict(reader.meta)
        self.vocabulary = list(getattr(reader, "vocabulary", []))

    def __len__(self) -> int:
        return len(self._keep)

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    def episodes(self, start: int, stop: int) -> list[Episode]:
        """Episodes [start, stop), labelled in one batch."""
        source = [self.reader[int(i)] for i in self._keep[start:stop]]
        data = load_transitions(_Listed(source), with_actions=False)  # the true actions are not read
        labels = predict(self.model, data)
        out, offset = [], 0
        for ep in source:
            n = len(ep.images) - 1
            out.append(Episode(level=ep.level, seed=ep.seed, mission=ep.mission, images=ep.images[:n],
                               directions=np.asarray(ep.directions)[:n], actions=labels[offset : offset + n],
                               thoughts=list(ep.thoughts[:n]), noise=np.zeros(n, dtype=bool), success=ep.success,
                               seeding=ep.seeding, reset_index=ep.reset_index, generator=ep.generator))
            offset += n
        return out

    def __getitem__(self, i: int) -> Episode:
        i = range(len(self))[i]
        return self.episodes(i, i + 1)[0]


class _Listed:
    """A list of episodes seen as a reader (len, [i])."""

    def __init__(self, episodes):
        self._episodes = episodes

    def __len__(self):
        return len(self._episodes)

    def __getitem__(self, i):
        return self._episodes[i]


def check_idm(ckpt: dict, name: str, level: str, vocab: dict, image_values: int) -> None:
    """IDMError unless the IDM ``name`` was trained on ``level`` with this vocabulary and image encoding."""
    if ckpt.get("level") != level:
        raise IDMError(f"the inverse dynamics model {name} was trained on level {ckpt.get('level')}, not {level}")
    if ckpt.get("vocab") != vocab:
        raise IDMError(f"the inverse dynamics model {name} was made with another vocabulary than the agent's")
    if ckpt.get("image_values") != image_values:
        raise IDMError(f"the inverse dynamics model {name} reads images of {ckpt.get('image_values')} values per "
                       f"channel, the agent {image_values}")


def write_labelled(source: str, target: str, idm: str, storage: str | None, level: str, vocab: dict,
                   image_values: int) -> str:
    """Write the IDM-labelled copy of the dataset ``source`` at ``target`` (once; atomically); ``target``."""
    from babyai.train.data import open_dataset

    path = idm_path(idm, storage)
    model, ckpt = load_idm(idm, storage)
    reader = open_dataset(source)
    demo_level = reader.meta.get("level")
    if demo_level != ckpt.get("level"):
        raise IDMError(f"the inverse dynamics model {idm} was trained on level {ckpt.get('level')}, but the demos "
                       f"{source} are of level {demo_level}")
    check_idm(ckpt, idm, level, vocab, image_values)
    digest = file_digest(path)
    with _labelling(os.path.dirname(target)):
        if os.path.exists(os.path.join(target, "meta.json")):
            meta = read_meta(target)
            if meta.get("labelled_by", {}).get("sha256") != digest:
                raise IDMError(f"{target} was labelled by another version of the IDM {idm}; delete it to relabel")
            return target
        shutil.rmtree(target, ignore_errors=True)  # an incomplete copy (no meta.json)
        labelled = IDMLabelledReader(reader, model)
        with atomic_folder(target) as tmp:
            _write_copy(labelled, tmp, reader.meta, {"idm": idm, "sha256": digest, "source": os.path.abspath(source)})
    log.info("labelled %d demonstrations of %s with the IDM %s: %s", len(labelled), source, idm, target)
    return target


def _write_copy(labelled: IDMLabelledReader, folder: str, source_meta: dict, labelled_by: dict) -> None:
    shards = 0
    for start in range(0, len(labelled), SHARD):
        episodes = labelled.episodes(start, min(start + SHARD, len(labelled)))
        write_shard(os.path.join(folder, shard_name(shards)),
                    [(encode_episode(ep), ep.seed, len(ep)) for ep in episodes])
        shards += 1
    keep = {k: v for k, v in source_meta.items() if k not in ("format", "format_version")}
    write_meta(folder, {**keep, "num_shards": shards, "num_episodes": len(labelled), "num_frames": labelled.num_frames,
                        "complete": True, "labelled_by": labelled_by})


@contextlib.contextmanager
def _labelling(folder: str):
    """The labelled copies under ``folder`` are written one at a time: another writer waits for its turn."""
    waited = False
    while True:
        try:
            fd = acquire(folder, "labelled demos folder")
            break
        except LockError as error:
            if not waited:
                log.info("%s", error)
            waited = True
            time.sleep(0.2)
    try:
        yield
    finally:
        release(folder, fd)


def from_observation(cfg, idm: str):
    """The TrainConfig ``cfg`` with its demonstrations (and validation demos) replaced by their IDM-labelled
    copies: BCO(0) with the trainer unchanged. Errors (ValueError) on an IDM of another level or vocabulary."""
    from babyai.levels import resolve_level_id
    from babyai.storage import demos_path, storage_dir
    from babyai.agent.vocab import Vocabulary

    root = storage_dir(cfg.storage)
    vocab = Vocabulary.babyai(cfg.model.vocab_size).to_dict()
    if len(cfg.envs) != 1:
        raise IDMError("--from-observation labels the demos of one level: use --env and --demos")
    level = resolve_level_id(cfg.envs[0])
    labelled = []
    valid = cfg.valid_demos or [f"{n}_valid" for n in cfg.demos]
    for name in cfg.demos:
        labelled.append(_labelled_path(root, idm, name))
        write_labelled(demos_path(name, root), labelled[-1], idm, root, level, vocab, cfg.model.image_values)
    labelled_valid = []
    for name in valid:
        if os.path.exists(demos_path(name, root)):
            labelled_valid.append(_labelled_path(root, idm, name))
            write_labelled(demos_path(name, root), labelled_valid[-1], idm, root, level, vocab,
                           cfg.model.image_values)
    return dataclasses.replace(cfg, demos=labelled, valid_demos=labelled_valid or None)


def _labelled_path(root: str, idm: str, name: str) -> str:
    base = os.path.basename(os.path.normpath(name))
    return os.path.join(root, "demos", f"observed-{os.path.basename(idm).removesuffix('.pt')}", base)
