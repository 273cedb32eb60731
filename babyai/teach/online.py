"""Online training during a teaching session: a separate process trains on the growing teaching data and
publishes a snapshot every K updates; the session plays each new episode with the newest one.

Files in ``<storage>/models/NAME/``::

    snapshots/snapshot-000012.pt   published snapshots (state dict + config + vocabulary + version);
                                   any evaluation script reads them (--model PATH.pt); the last few are kept
    trainer.pt                     the trainer's state (network, optimizer, updates) in one file, saved
                                   (atomically) at every snapshot
    best.pt, vocab.json            the newest snapshot that loads when the trainer stops (so --model NAME
                                   evaluates it); a snapshot that does not load is skipped, never published
    trainer.log                    the trainer's log

Update ``u`` samples its batch (seeded by the seed and ``u``) from the first ``u // updates_per_episode
+ 1`` episodes, so at most ``updates_per_episode`` updates are made per recorded episode and a run is the
same whatever the speed of the two processes. With ``sync`` (the oracle teacher) the session waits at
the start of episode n for the snapshot of update ``n * updates_per_episode``: the whole session is then
reproducible, and a killed one resumes to the same data (the trainer from its state, redoing the
updates after it).
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import multiprocessing as mp
import os
import re
import shutil
import signal
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from babyai.agent.loading import CheckpointError, save_checkpoint
from babyai.atomic import atomic_write_bytes, atomic_write_text
from babyai.checks import MAX_RNG_SEED, check_imitation_numbers, check_seed
from babyai.demos.format import DemoFormatError, open_demos
from babyai.errors import disk_full, disk_full_message
from babyai.teach.agent import (
    LossSettings,
    backward,
    load_snapshot_policy,
    make_tokenizer,
    read_checkpoint,
    save_network,
)

logger = logging.getLogger(__name__)
SNAPSHOT = re.compile(r"^snapshot-(\d{6})\.pt$")
KEEP = 3  # snapshots kept on disk
TRAIN_ON = ("all", "overridden")


@dataclass
class OnlineConfig:
    model_dir: str
    demos_dir: str
    train_on: str = "all"  # all: every performed step is a label; overridden: only the teacher's corrections
    batch_size: int = 16  # episodes per update
    recurrence: int = 20
    lr: float = 5e-4
    beta1: float = 0.9
    beta2: float = 0.999
    optim_eps: float = 1e-5
    entropy_coef: float = 0.01
    sg_coef: float = 2.0
    updates_per_episode: int = 10
    snapshot_every: int = 10  # K: updates between two snapshots
    seed: int = 1
    threads: int = 1
    poll_seconds: float = 0.05

    def __post_init__(self):
        if self.train_on not in TRAIN_ON:
            raise ValueError(f"--train-on must be one of {', '.join(TRAIN_ON)}, got {self.train_on!r}")
        for name in ("batch_size", "recurrence", "updates_per_episode", "snapshot_every", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        check_seed("--seed", self.seed, limit=MAX_RNG_SEED)
        check_imitation_numbers(self.lr, self.beta1, self.beta2, self.optim_eps, self.entropy_coef, self.sg_coef)

    def required_version(self, episode: int) -> int:
        """The snapshot that has made every update allowed before episode ``episode``."""
        return episode * self.updates_per_episode // self.snapshot_every


# ---------------------------------------------------------------------------- snapshots
class SnapshotStore:
    """The published snapshots of a session's agent."""

    def __init__(self, model_dir: str):
        self.folder = os.path.join(model_dir, "snapshots")
        self.bad: set[int] = set()  # versions that failed to load

    def path(self, version: int) -> str:
        return os.path.join(self.folder, f"snapshot-{version:06d}.pt")

    def versions(self) -> list[int]:
        if not os.path.isdir(self.folder):
            return []
        return sorted(int(m.group(1)) for m in map(SNAPSHOT.match, os.listdir(self.folder)) if m)

    def publish(self, version: int, model, vocab, **extra) -> None:
        os.makedirs(self.folder, exist_ok=True)
        save_network(self.path(version), model, vocab, version=version, **extra)
        for old in self.versions()[:-KEEP]:
            if old != 0:  # the starting point stays
                os.remove(self.path(old))

    def discard_after(self, version: int) -> None:
        """Remove snapshots newer than ``version`` (left by a killed trainer that will redo them)."""
        for v in self.versions():
            if v > version:
                os.remove(self.path(v))

    def usable(self) -> list[int]:
        """The versions on disk, less those that failed to load."""
        return [v for v in self.versions() if v not in self.bad]

    def load_latest(self):
        """(version, policy) of the newest snapshot that loads; one that does not is skipped (logged once)."""
        for _ in range(20):  # the trainer may prune a file between listing and reading
            versions = self.usable()
            if not versions:
                raise CheckpointError(f"no usable snapshot in {self.folder}")
            path = self.path(versions[-1])
            try:
                return versions[-1], load_snapshot_policy(path)
            except (CheckpointError, ValueError) as e:
                if not os.path.exists(path):  # pruned meanwhile: list again
                    time.sleep(0.05)
                    continue
                self.bad.add(versions[-1])
                logger.warning("snapshot %d cannot be loaded and is skipped: %s", versions[-1], e)
        raise CheckpointError(f"cannot read the newest snapshot in {self.folder}")

    def publish_best(self, model_dir: str) -> int | None:
        """best.pt and vocab.json of ``model_dir``: the newest snapshot that loads (its version; None if none)."""
        try:
            version, policy = self.load_latest()
        except CheckpointError:
            return None
        with open(self.path(version), "rb") as snapshot:
            atomic_write_bytes(os.path.join(model_dir, "best.pt"), lambda f: shutil.copyfileobj(snapshot, f))
        atomic_write_text(os.path.join(model_dir, "vocab.json"), policy.vocab.to_json() + "\n")
        return version


class Snapshots:
    """What the session asks at each episode start: the newest snapshot (waiting, with ``sync``, for the
    one of that episode), reusing the loaded policy while the version is the same."""

    def __init__(self, store: SnapshotStore, cfg: OnlineConfig, sync: bool, trainer: "TrainerProcess | None"):
        self.store, self.cfg, self.sync, self.trainer = store, cfg, sync, trainer
        self._version, self._policy = None, None

    def latest_policy(self, episode: int):
        if self.sync:
            need = self.cfg.required_version(episode)
            while (self.store.versions() or [-1])[-1] < need:
                if self.trainer is not None:
                    self.trainer.check()
                time.sleep(self.cfg.poll_seconds)
        if (self.store.usable() or [None])[-1] != self._version:
            self._version, self._policy = self.store.load_latest()
        return self._version, self._policy


# ---------------------------------------------------------------------------- the trainer process
class EpisodeCache:
    """The teaching episodes on disk, decoded once each (the dataset is reopened when it has grown)."""

    def __init__(self, folder: str):
        self.folder, self.episodes, self.available = folder, {}, 0
        self._reader = None

    def refresh(self) -> int:
        if not os.path.exists(os.path.join(self.folder, "meta.json")):
            return 0
        try:
            reader = open_demos(self.folder, allow_incomplete=True)
        except DemoFormatError:  # caught between a shard and its meta.json: next time
            return self.available
        if len(reader) > self.available:
            if self._reader is not None:
                self._reader.close()
            self._reader, self.available = reader, len(reader)
        else:
            reader.close()
        return self.available

    def __getitem__(self, i: int):
        if i not in self.episodes:
            self.episodes[i] = self._reader[i]
        return self.episodes[i]


def _labels(ep, train_on: str, vocab):
    """(episode, action mask, thought mask): the steps whose performed action / thought are labels.

    A thought the agent spoke with ids beyond the vocabulary's words ("<unk>", an untrained decoder) is no
    label; the Action Generator reads it without those words.
    """
    n = len(ep)
    if train_on == "all":
        action_mask, thought_mask = np.ones(n, bool), np.ones(n, bool)
    else:
        action_mask = np.array(ep.teaching["action_overridden"], bool)
        thought_mask = np.array(ep.teaching["thought_overridden"], bool)
    bad = {t for t in set(ep.thoughts) if vocab.unknown_words([t])}
    if bad:
        clean = {t: " ".join(w for w in t.split() if not vocab.unknown_words([w])) for t in bad}
        thought_mask &= np.array([t not in bad for t in ep.thoughts])
        ep = dataclasses.replace(ep, thoughts=[clean.get(t, t) for t in ep.thoughts])
    return ep, action_mask, thought_mask


def _restore(cfg: OnlineConfig, store: SnapshotStore, log):
    """(model, vocab, optimizer, updates): from the trainer's state, else from snapshot 0."""
    state_path = os.path.join(cfg.model_dir, "trainer.pt")
    start = read_checkpoint(state_path) if os.path.exists(state_path) else read_checkpoint(store.path(0))
    policy = load_snapshot_policy(store.path(0))  # builds the network of the session's config
    model, vocab = policy.model, policy.vocab
    model.load_state_dict(start["model"])
    optimizer = torch.optim.Adam(model.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.optim_eps)
    updates = 0
    if "optimizer" in start:
        optimizer.load_state_dict(start["optimizer"])
        updates = int(start["updates"])
        log.info("resuming the online trainer at update %d", updates)
    return model, vocab, optimizer, updates


def _update(cfg, model, optimizer, cache, tokenizer, settings, u: int) -> bool:
    """Update ``u``: one optimizer step on a batch of the episodes it may use; False if none had labels."""
    m = u // cfg.updates_per_episode + 1
    pool = np.arange(m)
    if cfg.train_on == "overridden":
        pool = np.array([i for i in pool if any(cache[i].teaching["action_overridden"])
                         or any(cache[i].teaching["thought_overridden"])], dtype=np.int64)
        if len(pool) == 0:
            return False
    rng = np.random.default_rng([cfg.seed, u])
    chosen = rng.choice(pool, size=min(cfg.batch_size, len(pool)), replace=False)
    labelled = [_labels(cache[int(i)], cfg.train_on, tokenizer.vocab) for i in chosen]
    episodes = [ep for ep, _, _ in labelled]
    masks = [(a, t) for _, a, t in labelled]
    if all(a.all() and t.all() for a, t in masks):
        masks = None  # every step is a label: the project's backward step
    torch.manual_seed(cfg.seed * 1_000_003 + u)  # dropout: the same on a resumed run
    model.train()
    optimizer.zero_grad(set_to_none=True)
    backward(model, episodes, tokenizer, settings, masks)
    optimizer.step()
    return True


def run_trainer(cfg: OnlineConfig, stop, drain) -> None:
    """The trainer process: train while there are updates to make, until ``stop`` is set (then, with ``drain``
    set, after the updates the data allows) or the session died."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the session, which stops this process
    torch.set_num_threads(cfg.threads)
    log = logging.getLogger("babyai.teach.trainer")
    handler = logging.FileHandler(os.path.join(cfg.model_dir, "trainer.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        _train_loop(cfg, stop, drain, log)
    except BaseException as error:
        if disk_full(error):  # trainer.log says so if it can; the session says the trainer stopped, on one line
            logging.raiseExceptions = False
            log.error("the online trainer stopped: %s", disk_full_message(disk_full(error)))
            raise SystemExit(1) from None
        log.exception("the online trainer failed")
        raise


def _train_loop(cfg: OnlineConfig, stop, drain, log) -> None:
    with open(os.path.join(cfg.model_dir, "trainer.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a trainer of a killed session finishes before this one starts
        store = SnapshotStore(cfg.model_dir)
        model, vocab, optimizer, updates = _restore(cfg, store, log)
        tokenizer = make_tokenizer(vocab, model)
        settings = LossSettings(cfg.recurrence, cfg.entropy_coef, cfg.sg_coef)  # a BC network has no thought loss
        cache = EpisodeCache(cfg.demos_dir)
        parent = mp.parent_process()
        while True:
            if (stop.is_set() and not drain.is_set()) or (parent is not None and not parent.is_alive()):
                break  # a person ended the session, or the session died: the updates left wait for the next one
            if updates >= cache.refresh() * cfg.updates_per_episode:
                if stop.is_set():
                    break
                time.sleep(cfg.poll_seconds)
                continue
            _update(cfg, model, optimizer, cache, tokenizer, settings, updates)
            updates += 1
            if updates % cfg.snapshot_every == 0:
                store.publish(updates // cfg.snapshot_every, model, vocab, updates=updates, episodes=cache.available)
                _save_state(cfg, model, optimizer, updates)
                log.info("update %d: published snapshot %d (%d episodes)", updates, updates // cfg.snapshot_every,
                         cache.available)
        _save_state(cfg, model, optimizer, updates)
        log.info("stopped after %d updates; best.pt = snapshot %s", updates, store.publish_best(cfg.model_dir))


def _save_state(cfg: OnlineConfig, model, optimizer, updates: int) -> None:
    """The trainer's whole state in one file, written atomically (its update count cannot disagree with it)."""
    save_checkpoint(os.path.join(cfg.model_dir, "trainer.pt"), {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(), "updates": updates, "config": asdict(cfg)})


def saved_updates(model_dir: str) -> int:
    """Updates the trainer's saved state has made (0 when there is none), once a trainer still running from a
    killed session has stopped and saved it."""
    with open(os.path.join(model_dir, "trainer.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = os.path.join(model_dir, "trainer.pt")
        return int(read_checkpoint(path)["updates"]) if os.path.exists(path) else 0


class TrainerStopped(RuntimeError):
    """The trainer process ended before the session (killed, or failed: its log says why)."""


class TrainerProcess:
    """The trainer in a process of its own (spawned: a clean interpreter, whatever the session runs)."""

    def __init__(self, cfg: OnlineConfig):
        self.model_dir = cfg.model_dir
        ctx = mp.get_context("spawn")
        self.stop_event, self.drain_event = ctx.Event(), ctx.Event()
        self.proc = ctx.Process(target=run_trainer, args=(cfg, self.stop_event, self.drain_event), name="teach-trainer",
                                daemon=False)
        self.proc.start()

    def failed(self) -> bool:
        return self.proc.exitcode not in (0, None)

    def check(self) -> None:
        if not self.proc.is_alive():
            code = self.proc.exitcode
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            raise TrainerStopped(f"the online trainer stopped ({how}): what was taught is kept; see "
                                 f"{self.model_dir}/trainer.log, then run the same command again to resume")

    def stop(self, drain: bool, timeout: float = 600) -> None:
        """Stop it after its current update (``drain``: after the updates the data allows); it saves its state."""
        if drain:
            self.drain_event.set()
        self.stop_event.set()
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
