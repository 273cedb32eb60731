"""Result files: written to a temporary name and renamed, so a file that exists is complete."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence

from babyai.atomic import atomic_write_text


def write_json(path: str, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def write_jsonl(path: str, rows: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def write_csv(path: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def results_dir(storage: str | None, group: str = "", out_dir: str | None = None) -> str:
    """Where evaluation results go: --out-dir, else <storage>[/GROUP] (the original's place for zeroshot CSVs)."""
    from babyai.storage import group_root

    if out_dir:
        return out_dir
    return group_root(group, storage)


def safe_name(name: str) -> str:
    """A model name usable in a file name (a path given as --model keeps its last part)."""
    return os.path.basename(name.rstrip("/")).removesuffix(".pt") or "model"


def level_short_name(level: str) -> str:
    """``BabyAI-GoToLocal-v0`` -> ``GoToLocal`` (the original scripts' short form); other ids as they are."""
    if level.startswith("BabyAI-") and level.endswith("-v0"):
        return level.removeprefix("BabyAI-").removesuffix("-v0")
    return level


def evaluation_stem(name: str, level: str, first_seed: int, episodes: int, checkpoint: str = "",
                    argmax: bool = False) -> str:
    """``evaluate_<model>_<Level>_s<first seed>_n<episodes>[_<best|last>][_argmax]``: the result files of
    one evaluation named by what it played, so that another level, seed, count, checkpoint or action choice
    adds files instead of replacing them."""
    tags = "".join(f"_{t}" for t in (checkpoint, "argmax" if argmax else "") if t)
    return f"evaluate_{name}_{level_short_name(level)}_s{first_seed}_n{episodes}{tags}"
