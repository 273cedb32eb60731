"""Start (or resume) a teaching session: the folders, the starting snapshot, the trainer process, the
session loop with the oracle or behind the web page, and a clean stop."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field

from babyai.agent.policy import ModelError
from babyai.atomic import atomic_write_text
from babyai.checks import check_seed
from babyai.levels import make_env, resolve_level_id
from babyai.model.config import TCConfig
from babyai.storage import model_dir as storage_model_dir
from babyai.storage import storage_dir
from babyai.teach.agent import (
    algo_of,
    fresh_network,
    load_network,
)
from babyai.teach.data import TeachingWriter
from babyai.teach.online import OnlineConfig, Snapshots, SnapshotStore, TrainerProcess, saved_updates
from babyai.teach.session import TeachingSession, run_oracle
from babyai.train.run import check_run_kind

logger = logging.getLogger(__name__)
TEACHERS = ("human", "oracle")


class SessionError(ValueError):
    """A session that cannot start as asked (one line for the user)."""


@dataclass
class TeachConfig:
    level: str
    model_name: str
    algo: str = "tc"
    teacher: str = "human"
    episodes: int = 0  # stop after this many episodes in total (0: until the page ends the session)
    pretrained_model: str | None = None
    model: TCConfig = field(default_factory=TCConfig)
    storage: str | None = None
    first_seed: int = 0  # level seed of the first episode
    seeding: str = "legacy"
    host: str = "127.0.0.1"
    port: int = 8000
    sync: bool | None = None  # wait for each episode's snapshot (default: with the oracle teacher)
    online: OnlineConfig | None = None  # filled from model_dir / demos_dir when None

    def __post_init__(self):
        if self.algo not in ("tc", "bc"):
            raise SessionError(f"--algo must be tc or bc, got {self.algo!r}")
        if self.teacher not in TEACHERS:
            raise SessionError(f"--teacher must be human or oracle, got {self.teacher!r}")
        if not self.model_name or os.sep in self.model_name or self.model_name.startswith("."):
            raise SessionError(f"--model must be a plain name, got {self.model_name!r}")
        if self.episodes < 0:
            raise SessionError(f"--episodes must be >= 0, got {self.episodes}")
        if not 0 <= self.port <= 65535:
            raise SessionError(f"--port must be a port number, 0 to 65535, got {self.port}")
        check_seed("--level-seed", self.first_seed, count=max(self.episodes, 1))
        if self.teacher == "oracle" and self.episodes == 0:
            raise SessionError("--teacher oracle needs --episodes N")
        if self.sync is None:
            self.sync = self.teacher == "oracle"


def _starting_network(cfg: TeachConfig, seed: int):
    """What snapshot 0 holds: the pretrained model's network and vocabulary, or a fresh network."""
    if cfg.pretrained_model:
        try:
            model, vocab = load_network(cfg.pretrained_model, cfg.storage)
        except ModelError as e:
            raise SessionError(str(e)) from None
        if algo_of(model) != cfg.algo:
            raise SessionError(f"--pretrained-model {cfg.pretrained_model} is a {algo_of(model)} model, not --algo "
                               f"{cfg.algo}")
        return model, vocab
    return fresh_network(cfg.algo, cfg.model, seed)


RESUME_SETTINGS = ("train_on", "batch_size", "recurrence", "lr", "beta1", "beta2", "optim_eps", "entropy_coef",
                   "sg_coef", "updates_per_episode", "snapshot_every", "seed")


def session_settings(cfg: TeachConfig, online: OnlineConfig) -> dict:
    """What a session keeps for its whole life (flag: value): its trainer's, its network's and its levels'."""
    flags = {"--algo": cfg.algo, "--seeding": cfg.seeding}
    flags.update({f"--{k.replace('_', '-')}": getattr(online, k) for k in RESUME_SETTINGS})
    flags.update({f"--{k.replace('_', '-')}": v for k, v in cfg.model.to_dict().items()})
    return flags


def _keep_settings(cfg: TeachConfig, online: OnlineConfig, model_dir: str, new: bool) -> None:
    """A new session records its settings (session.json); a resumed one must have the same."""
    path = os.path.join(model_dir, "session.json")
    settings = json.loads(json.dumps(session_settings(cfg, online)))  # as JSON reads them back
    if not new and os.path.exists(path):
        with open(path) as f:
            kept = json.load(f)
        changed = [f"{k} {kept.get(k)} (not {v})" for k, v in settings.items() if kept.get(k) != v]
        if changed:
            raise SessionError(f"the session {cfg.model_name} was taught with {', '.join(changed)}: resume it with "
                               "the same settings, or choose another --model")
        return
    atomic_write_text(path, json.dumps(settings, indent=1) + "\n")


def _check_snapshot(cfg: TeachConfig, store: SnapshotStore) -> None:
    _, policy = store.load_latest()
    if algo_of(policy.model) != cfg.algo:
        raise SessionError(f"model {cfg.model_name} is taught as a {algo_of(policy.model)} agent, not --algo {cfg.algo}")


def teach(cfg: TeachConfig, progress: bool = True, on_ready=None) -> list[dict]:
    """Run the session until its episode count or until the page ends it; returns teaching.csv's rows."""
    cfg.level = resolve_level_id(cfg.level)
    make_env(cfg.level, seeding=cfg.seeding)  # an unknown level: a clear error before anything is written
    sock = None
    if cfg.teacher == "human":
        from babyai.teach.server import bind

        sock = bind(cfg.host, cfg.port)  # a port in use: a clear error before anything is written
    model_dir = storage_model_dir(cfg.model_name, cfg.storage)
    check_run_kind(model_dir, "teach", cfg.model_name)  # another command's run is not taken over
    demos_dir = os.path.join(storage_dir(cfg.storage), "demos", f"{cfg.model_name}_teaching")
    online = cfg.online or OnlineConfig(model_dir, demos_dir)
    online.model_dir, online.demos_dir = model_dir, demos_dir
    start = None
    if not SnapshotStore(model_dir).versions():  # a new session: a bad --pretrained-model fails before any write
        start = _starting_network(cfg, online.seed)
    os.makedirs(model_dir, exist_ok=True)
    lock = open(os.path.join(model_dir, "session.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise SessionError(f"a teaching session of {cfg.model_name} is already running") from None
    try:
        return _teach(cfg, online, model_dir, demos_dir, sock, start, progress, on_ready)
    finally:
        lock.close()
        if sock is not None:
            sock.close()


@contextlib.contextmanager
def _uninterrupted():
    """SIGINT and SIGTERM held off for the block (in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _teach(cfg: TeachConfig, online: OnlineConfig, model_dir: str, demos_dir: str, sock, start, progress: bool,
           on_ready):
    store = SnapshotStore(model_dir)
    _keep_settings(cfg, online, model_dir, new=start is not None)
    if start is not None:
        store.publish(0, *start, updates=0, episodes=0)
    else:
        if cfg.pretrained_model:
            logger.warning("resuming the session of %s: --pretrained-model is ignored", cfg.model_name)
        store.discard_after(saved_updates(model_dir) // online.snapshot_every)
    _check_snapshot(cfg, store)
    writer = TeachingWriter(demos_dir, os.path.join(model_dir, "teaching.csv"), cfg.level, cfg.seeding)
    if writer.num_episodes:
        logger.info("resuming the teaching session of %s at episode %d", cfg.model_name, writer.num_episodes)
    trainer = TrainerProcess(online)
    session = None
    try:
        snapshots = Snapshots(store, online, cfg.sync, trainer)
        session = TeachingSession(cfg.level, writer, snapshots, cfg.teacher, cfg.first_seed, cfg.episodes,
                                  cfg.seeding)
        if cfg.teacher == "oracle":
            run_oracle(session, progress)
        else:
            from babyai.teach.server import serve

            serve(session, sock, trainer, on_ready)
    finally:
        with _uninterrupted():  # a second Ctrl-C must not cut the saving short (it takes an update or so)
            if session is not None and not session.ended:
                session.end(keep_unfinished=cfg.teacher == "human")  # the oracle replays it on resume
            logger.info("stopping the online trainer (it saves its state)")
            trainer.stop(drain=cfg.sync)
            if trainer.failed():  # it could not publish best.pt itself
                store.publish_best(model_dir)
    if trainer.failed():
        trainer.check()
    return writer.rows
