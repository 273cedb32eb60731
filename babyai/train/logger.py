"""One logging call feeds the console, ``log.csv`` and TensorBoard."""

from __future__ import annotations

import csv
import logging
import math
import os
import sys

ORIGINAL_COLUMNS = [
    "update",
    "frames",
    "FPS",
    "duration",
    "entropy",
    "policy_loss",
    "sg_loss",
    "train_accuracy",
    "validation_accuracy",
]
EXTRA_COLUMNS = ["loss", "lr", "tf_ratio", "teacher_forced_share", "epoch", "validation_seed"]
# whether a Thought Cloning agent's thoughts have formed (babyai.train.validation measures them)
THOUGHT_COLUMNS = ["validation_thought_exact", "validation_right_object", "validation_thought_nll",
                   "validation_thought_exact_tf", "validation_thought_exact_demos", "validation_right_object_demos"]

_SHORT = {
    "frames": "F", "FPS": "FPS", "duration": "D", "entropy": "H", "policy_loss": "pL", "sg_loss": "sL",
    "train_accuracy": "A", "validation_accuracy": "vA", "lr": "lr", "tf_ratio": "tf",
    "validation_thought_exact": "vTx", "validation_right_object": "vTo", "validation_thought_nll": "vTn",
    "validation_thought_exact_tf": "vTf", "validation_thought_exact_demos": "vDx", "validation_right_object_demos": "vDo",
}
# what the console line's abbreviations mean (train_tc.py --help, the README)
LEGEND = (
    ("U", "update: epochs completed (log.csv update)"), ("F", "training frames so far (frames)"),
    ("FPS", "training frames per second in this epoch"), ("D", "seconds spent training and validating (duration)"),
    ("H", "action entropy per frame (entropy)"), ("pL", "action loss, NLL per frame (policy_loss)"),
    ("sL", "thought loss, NLL per frame summed over its words (sg_loss; TC only)"),
    ("A", "share of training frames whose most likely action is the demonstrated one (train_accuracy)"),
    ("lr", "learning rate"), ("tf", "teacher-forcing ratio of the epoch (tf_ratio; TC only)"),
    ("vS", "success rate on the validation levels (validation_success_rate; vS_LEVEL per level)"),
    ("vA", "action accuracy on the validation demos (validation_accuracy)"),
    ("vTx", "TC playing the validation levels: share of steps whose own thought is the oracle's in the same state, "
            "word for word (validation_thought_exact)"),
    ("vTo", "likewise, share of steps whose thought names the oracle's object, or explores where it explores "
            "(validation_right_object)"),
    ("vTn", "teacher-forced thought NLL per frame on the validation demos (validation_thought_nll)"),
    ("vTf", "teacher-forced: share of validation-demo frames whose greedy thought is the demonstrated one "
            "(validation_thought_exact_tf)"),
    ("vDx", "free-running on the validation demos (own thoughts as history): exact thoughts "
            "(validation_thought_exact_demos)"),
    ("vDo", "free-running on the validation demos: right object (validation_right_object_demos)"),
)


def legend_text(thoughts: bool = True) -> str:
    """The LEGEND as indented lines (without the TC-only ones for an agent without ``thoughts``)."""
    return "\n".join(f"  {short:4s} {meaning}" for short, meaning in LEGEND if thoughts or "TC only" not in meaning)


def csv_columns(envs: list[str]) -> list[str]:
    """The original's columns first (per-level return and success with several levels), extras after, then
    the thought-formation columns (empty for Behavioral Cloning)."""
    if len(envs) == 1:
        validation = ["validation_return", "validation_success_rate"]
    else:
        validation = [f"validation_return_{e}" for e in envs] + [f"validation_success_rate_{e}" for e in envs]
    return ORIGINAL_COLUMNS + validation + EXTRA_COLUMNS + THOUGHT_COLUMNS + ["optimizer_steps"]


def console_logger(run_dir: str | None, enabled: bool) -> logging.Logger:
    """The run's text logger: to stdout and, for a run folder, to ``train.log`` in it."""
    from babyai.log import setup_logging

    return setup_logging(logger="babyai.train", file=os.path.join(run_dir, "train.log") if run_dir else None,
                         stream=sys.stdout, enabled=enabled)


class RunLogger:
    """``log(values)`` writes one CSV row, one console line and, with TensorBoard on, one scalar per value.

    On resume, rows after the checkpoint's last update are dropped (they will be redone) and
    TensorBoard events after it are purged.
    """

    def __init__(self, run_dir: str, columns: list[str], tensorboard: bool, resume_update: int | None,
                 logger: logging.Logger, enabled: bool = True):
        self.columns, self.logger, self.enabled = columns, logger, enabled
        self.path = os.path.join(run_dir, "log.csv")
        self.writer = None
        if not enabled:
            return
        rows = []
        if resume_update is not None and os.path.exists(self.path):
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                saved = list(reader.fieldnames or [])
                if saved and saved != columns[: len(saved)]:  # a log of older code lacks only the newest columns
                    raise ValueError(f"{self.path} has other columns than this run logs; use another --model name")
                rows = [r for r in reader if r.get("update") and int(r["update"]) <= resume_update]
        with open(self.path, "w", newline="") as f:
            w = csv.DictWriter(f, columns)
            w.writeheader()
            w.writerows(rows)
        if tensorboard:
            from tensorboardX import SummaryWriter

            purge = None if resume_update is None else resume_update + 1
            self.writer = SummaryWriter(os.path.join(run_dir, "tb"), purge_step=purge)

    def log(self, values: dict) -> None:
        if not self.enabled:
            return
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"not a column of log.csv: {sorted(unknown)}")
        row = {c: _cell(values.get(c)) for c in self.columns}
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.columns).writerow(row)
        parts = [f"U {values['update']}"]
        for key, value in values.items():
            if key in _SHORT and _is_number(value):
                parts.append(f"{_SHORT[key]} {_fmt(value)}")
            elif key.startswith("validation_success_rate") and _is_number(value):
                parts.append(f"vS{key[len('validation_success_rate'):]} {value:.3f}")
        self.logger.info(" | ".join(parts))
        if self.writer is not None:
            for key, value in values.items():
                if key != "update" and _is_number(value):
                    self.writer.add_scalar(key, float(value), int(values["update"]))
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _cell(x):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _fmt(x) -> str:
    if isinstance(x, int):
        return str(x)
    return f"{x:.3g}" if abs(x) < 1e-2 and x != 0 else f"{x:.3f}"
