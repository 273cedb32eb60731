"""Where a training run stands (saved in every checkpoint) and the statistics of its running epoch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from babyai.train.losses import imitation_loss

OLD_NAMES = {"sg_loss": "thought_loss"}  # checkpoints written before the statistics were typed


@dataclass
class EpochStats:
    """Running sums over the frames (and batches) of the current epoch, on this process."""

    frames: float = 0.0
    policy_loss: float = 0.0  # summed action NLL
    entropy: float = 0.0
    thought_loss: float = 0.0  # summed thought NLL (log.csv column sg_loss)
    correct: float = 0.0  # frames whose most likely action is the demonstrated one
    batches: float = 0.0
    forced: float = 0.0  # batches that were teacher-forced
    seconds: float = 0.0  # time spent in this epoch's batches

    def add_batch(self, sums: list[float], frames: int, teacher_forcing: bool) -> None:
        """Add one batch: ``sums`` = (policy loss, entropy, thought loss, correct actions) over its frames."""
        for name, value in zip(("policy_loss", "entropy", "thought_loss", "correct"), sums):
            setattr(self, name, getattr(self, name) + value)
        self.frames += frames
        self.batches += 1
        self.forced += teacher_forcing

    def values(self) -> list[float]:
        return list(dataclasses.astuple(self))

    @classmethod
    def from_values(cls, values: list[float]) -> "EpochStats":
        return cls(*values)

    @classmethod
    def from_dict(cls, d: dict) -> "EpochStats":
        """From a checkpoint's ``progress.sums`` (also the string-keyed sums of older checkpoints; {}: none)."""
        return cls(**{OLD_NAMES.get(k, k): float(v) for k, v in d.items()})


def best_success_text(best: float) -> str:
    """The log's words for ``Progress.best_success``: it stays -1 while no validation level was played
    (--val-episodes 0, or no validation yet)."""
    return "no validation levels played" if best < 0 else f"best validation success {best:.3f}"


@dataclass
class Progress:
    """Where a run stands; saved in every checkpoint (``dataclasses.asdict``)."""

    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed in the running epoch
    num_frames: int = 0
    duration: float = 0.0  # seconds spent training and validating
    best_success: float = -1.0
    best_thoughts: float = -1.0  # with --best-ties-by-thoughts: the validation right-object share of best.pt
    patience: int = 0  # validations since the best one
    validations: int = 0
    finished: str = ""  # why the run stopped ("" while it runs)
    sums: EpochStats = field(default_factory=EpochStats)  # the running epoch's statistics
    coin: str = ""  # state of the teacher-forcing coin
    steps: int = 0  # optimizer steps taken
    thoughts_formed: int = -1  # with --tf-until-nll: the epochs completed when the thoughts were found formed

    @classmethod
    def from_dict(cls, d: dict) -> "Progress":
        return cls(**{**d, "sums": EpochStats.from_dict(d.get("sums") or {})})


def stop_reason(progress: Progress, epochs: int, frames: int, patience: int) -> str:
    """Why the run stops now ("" while it goes on)."""
    if progress.patience > patience:
        return "patience"
    if progress.num_frames > frames:
        return "frames"
    if progress.epoch >= epochs:
        return "epochs"
    return ""


def epoch_values(progress: Progress, totals: EpochStats, seconds: float, duration: float, lr: float, tf_ratio: float,
                 entropy_coef: float, sg_coef: float, thinks: bool) -> dict:
    """The log row of an epoch from its statistics summed over all processes (means per frame); ``seconds``:
    this process's time in the epoch's batches."""
    frames = max(totals.frames, 1.0)
    loss = imitation_loss(totals.policy_loss, totals.entropy, totals.thought_loss, entropy_coef, sg_coef)
    return {
        "update": progress.epoch, "frames": progress.num_frames, "FPS": totals.frames / max(seconds, 1e-9),
        "duration": int(duration), "entropy": totals.entropy / frames, "policy_loss": totals.policy_loss / frames,
        "sg_loss": totals.thought_loss / frames if thinks else None, "train_accuracy": totals.correct / frames,
        "loss": loss / frames, "lr": lr, "tf_ratio": tf_ratio if thinks else None,
        "teacher_forced_share": totals.forced / max(totals.batches, 1) if thinks else None,
        "epoch": progress.epoch, "optimizer_steps": progress.steps,
    }
