"""Run folders of the imitation-from-observation scripts: settings written once, a finished run kept."""

from __future__ import annotations

import contextlib
import json
import os

from babyai.locks import hold, remove_temp_files
from babyai.atomic import atomic_write_text
from babyai.train.run import check_run_kind


class RunSettingsError(ValueError):
    """A run folder that holds a run made with other settings."""


@contextlib.contextmanager
def locked_run(folder: str):
    """One command at a time on the run ``folder`` (another gets a one-line LockError naming the holder); the
    temporary files a killed one left there go."""
    with hold(folder, "run"):
        remove_temp_files(folder)
        yield folder


def prepare_run(folder: str, settings: dict, checkpoint: str, kind: str) -> bool:
    """Check (or write) ``folder``/config.json, which records the run's ``kind`` (a run of another kind is
    refused); True when ``checkpoint`` is already there (the run is done)."""
    check_run_kind(folder, kind, os.path.basename(folder))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "config.json")
    settings = json.loads(json.dumps({"kind": kind, **settings}))
    if os.path.isfile(path):
        with open(path) as f:
            saved = {"kind": kind, **json.load(f)}  # runs saved before the kind was recorded
        if saved != settings and os.path.isfile(os.path.join(folder, checkpoint)):
            diff = ", ".join(sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k)))
            raise RunSettingsError(f"{folder} holds a run made with other settings ({diff}); choose another --model")
    atomic_write_text(path, json.dumps(settings, indent=1) + "\n")
    return os.path.isfile(os.path.join(folder, checkpoint))


def write_json(path: str, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")


def success(agent, level: str, episodes: int, first_seed: int, seeding: str = "legacy", argmax: bool = False) -> dict:
    """Success rate, mean return and length of ``agent`` on ``episodes`` levels from seed ``first_seed``."""
    from babyai.agent.rollout import evaluate, success_rate

    records = evaluate(agent, level, range(first_seed, first_seed + episodes), argmax=argmax, seeding=seeding,
                       workers=0)
    return {"success_rate": success_rate(records), "episodes": episodes, "first_seed": first_seed,
            "mean_return": float(sum(r.reward for r in records) / len(records)),
            "mean_length": float(sum(r.length for r in records) / len(records))}


def open_demonstrations(path: str, level: str, episodes: int = 0):
    """The demonstration reader at ``path`` (a ValueError unless it is of ``level`` and has ``episodes``)."""
    from babyai.train.data import open_dataset

    reader = open_dataset(path)
    if reader.meta.get("level") != level:
        raise ValueError(f"the demos {path} are of level {reader.meta.get('level')}, not {level}")
    if episodes > len(reader):
        raise ValueError(f"the demos {path} hold {len(reader)} episodes, not {episodes}")
    return reader
