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
