"""The teaching data: a growing dataset in the project's format, and the session's per-episode table.

``<storage>/demos/NAME_teaching/`` is a ``babyai.demos`` dataset (read it with ``open_demos``, show it
with ``scripts/show_demos.py --jsonl``). Each episode records what was *performed* (the usual actions
and thoughts, the observations before each step) and, in ``Episode.teaching``, per step what the agent
*proposed* and whether the teacher overrode the action or rewrote the thought, plus the snapshot that
played it. The dataset grows one episode at a time: the open shard is rewritten whole (to a temporary
file, then renamed) after every episode, and meta.json after it, so what is on disk is always whole
and a killed session loses at most the episode it was playing.

``<storage>/models/NAME/teaching.csv``: one row per episode (episode, snapshot, steps,
action_overrides, thought_overrides, success), rebuilt from the dataset when a session resumes.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

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

SHARD_SIZE = 100  # episodes per shard
CSV_COLUMNS = ("episode", "snapshot", "steps", "action_overrides", "thought_overrides", "success")
KIND = "teaching"


@dataclass
class Step:
    """One step of a teaching session: the observation, the agent's proposal and what was performed."""

    image: np.ndarray  # (7, 7, 3) uint8: the observation the step acted on
    direction: int
    proposed_thought: str  # the agent's own thought ("" for a Behavioral Cloning agent)
    proposed_action: int  # the agent's action when acting on the performed thought
    thought: str  # the thought the Action Generator acted on (the teacher's when rewritten)
    action: int  # the action performed


def make_episode(level: str, seed: int, mission: str, steps: list[Step], success: bool, snapshot: int,
                 teacher: str, ended: str, seeding: str = "legacy") -> Episode:
    """The dataset record of a (possibly unfinished) teaching episode."""
    if not steps:
        raise ValueError("a teaching episode needs at least one step")
    teaching = {
        "snapshot": int(snapshot), "teacher": teacher, "ended": ended,
        "proposed_actions": [int(s.proposed_action) for s in steps],
        "proposed_thoughts": [s.proposed_thought for s in steps],
        "action_overridden": [int(s.action != s.proposed_action) for s in steps],
        "thought_overridden": [int(s.thought != s.proposed_thought) for s in steps],
    }
    return Episode(
        level=level, seed=int(seed), mission=mission, images=np.stack([s.image for s in steps]).astype(np.uint8),
        directions=np.array([s.direction for s in steps], dtype=np.int64),
        actions=np.array([s.action for s in steps], dtype=np.int64), thoughts=[s.thought for s in steps],
        noise=np.zeros(len(steps), dtype=bool), success=bool(success), seeding=seeding, teaching=teaching,
    )


def csv_row(index: int, ep: Episode) -> dict:
    t = ep.teaching
    return {"episode": index, "snapshot": t["snapshot"], "steps": len(ep),
            "action_overrides": sum(t["action_overridden"]), "thought_overrides": sum(t["thought_overridden"]),
            "success": int(ep.success)}


def _words(ep: Episode) -> set:
    """The words of what was performed (the mission and the thoughts acted on), as in oracle datasets."""
    words = set(ep.mission.split())
    for sentence in set(ep.thoughts):
        words.update(sentence.split())
    return words


class TeachingWriter:
    """Appends teaching episodes to ``folder`` and rows to ``csv_path``; reopens (resumes) an existing one."""

    def __init__(self, folder: str, csv_path: str, level: str, seeding: str = "legacy"):
        self.folder, self.csv_path, self.level, self.seeding = folder, csv_path, level, seeding
        self.rows: list[dict] = []
        self._closed: list[Shard] = []  # full shards
        self._open: list[tuple] = []  # (record, seed, length) of the shard being filled
        self._words: set = set()
        self._frames = 0
        if os.path.exists(os.path.join(folder, "meta.json")):
            self._reopen()
        else:
            if os.path.exists(folder) and os.listdir(folder):
                raise DemoFormatError(f"{folder} exists and is not a teaching dataset; choose another --model")
            os.makedirs(folder, exist_ok=True)
            self._write_meta()
        self._write_csv()

    # ------------------------------------------------------------------ state
    @property
    def num_episodes(self) -> int:
        return len(self.rows)

    def next_seed(self, first_seed: int) -> int:
        """The level seed of the next episode: one after the last one played (first_seed to start)."""
        return first_seed if not self.rows else self._last_seed + 1

    def _reopen(self) -> None:
        meta = read_meta(self.folder)
        if meta.get("kind") != KIND:
            raise DemoFormatError(f"{self.folder} is not a teaching dataset; choose another --model")
        if meta.get("level") != self.level:
            raise DemoFormatError(f"{self.folder} holds teaching on {meta.get('level')}, not {self.level}; "
                                  "choose another --model")
        k = 0
        shards = []
        while os.path.exists(os.path.join(self.folder, shard_name(k))):
            shards.append(Shard(os.path.join(self.folder, shard_name(k))))  # a corrupt shard: a clear error
            k += 1
        for name in os.listdir(self.folder):
            if name.endswith(".tmp"):
                os.remove(os.path.join(self.folder, name))
        for s_index, shard in enumerate(shards):
            for i in range(shard.count):
                record = shard.record(i)
                ep = decode_episode(record)
                self.rows.append(csv_row(len(self.rows), ep))
                self._words |= _words(ep)
                self._frames += len(ep)
                self._last_seed = ep.seed
                if s_index == len(shards) - 1 and shard.count < SHARD_SIZE:
                    self._open.append((record, ep.seed, len(ep)))
            if s_index < len(shards) - 1 or shard.count >= SHARD_SIZE:
                self._closed.append(shard)
        self._write_meta()  # meta.json may lag the shards by one episode after a kill

    # ------------------------------------------------------------------ writing
    def add(self, ep: Episode) -> dict:
        """Append one episode (to the dataset, then to the CSV); returns its CSV row."""
        if ep.teaching is None:
            raise ValueError("not a teaching episode")
        records = [*self._open, (encode_episode(ep), ep.seed, len(ep))]
        path = os.path.join(self.folder, shard_name(len(self._closed)))
        words = sorted(set().union(*(_words(decode_episode(r)) for r, _, _ in records)))
        write_shard(path, records, {"words": words})  # a failed write (a full disk) changes nothing
        self._open = records
        if len(self._open) == SHARD_SIZE:
            self._closed.append(Shard(path))
            self._open = []
        self._words |= _words(ep)
        self._frames += len(ep)
        self._last_seed = ep.seed
        row = csv_row(len(self.rows), ep)
        self.rows.append(row)
        self._write_meta()
        with open(self.csv_path, "a", newline="") as f:
            csv.DictWriter(f, CSV_COLUMNS).writerow(row)
        return row

    def _write_meta(self) -> None:
        write_meta(self.folder, {
            "kind": KIND, "level": self.level, "seeding": self.seeding, "complete": True,
            "num_shards": len(self._closed) + (1 if self._open else 0), "num_episodes": len(self.rows),
            "num_frames": self._frames, "vocabulary": sorted(self._words),
        })

    def _write_csv(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.csv_path)), exist_ok=True)
        tmp = self.csv_path + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(tmp, self.csv_path)


def read_csv(path: str) -> list[dict]:
    """teaching.csv as a list of rows of ints."""
    with open(path, newline="") as f:
        return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(f)]


def quarter_rates(rows: list[dict], key: str) -> list[float]:
    """Per quarter of the session's episodes: ``key`` (action_overrides, thought_overrides) per step."""
    q = len(rows) / 4
    parts = [rows[round(k * q):round((k + 1) * q)] for k in range(4)]
    return [sum(r[key] for r in p) / max(1, sum(r["steps"] for r in p)) for p in parts]
