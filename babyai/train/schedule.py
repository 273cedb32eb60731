"""The learning-rate and teacher-forcing schedules of the original Thought Cloning training, and the levels
each validation plays."""

from __future__ import annotations


def learning_rate(epoch: int, lr: float, warm_start: bool, stop_tf: int) -> float:
    """The lr of epoch ``epoch`` (0-based).

    With warm start the first 5 epochs use lr / 5 * (epoch + 1); the lr is halved, for good, once
    teacher forcing is being phased out and either 40 epochs have passed since stop_tf or epoch > 120.
    """
    rate = lr
    if warm_start and epoch < 5:
        rate = lr / 5 * (epoch + 1)
    if epoch >= stop_tf and (epoch - stop_tf + 1 > 40 or epoch > 120):
        rate = lr * 0.5
    return rate


def teacher_forcing_ratio(epoch: int, epochs: int, stop_tf: int) -> float:
    """The probability that a batch of epoch ``epoch`` is teacher-forced.

    1 before stop_tf, then decreasing linearly to 0 at the last epoch: 1 - (epoch - stop_tf + 1) / (epochs - stop_tf).
    """
    if epoch < stop_tf:
        return 1.0
    return max(0.0, 1.0 - (epoch - stop_tf + 1) / max(1, epochs - stop_tf))


def validation_seed(val_seed: int, validation: int, level: int, levels: int, episodes: int, fixed: bool = False) -> int:
    """The first level seed of level ``level`` (of ``levels``) at validation ``validation`` (0-based).

    By default every validation plays new levels: validation v plays seeds val_seed + v * levels * episodes
    on (the original's choice); with ``fixed`` (--val-fixed) every validation plays those of the first.
    """
    return val_seed + ((0 if fixed else validation) * levels + level) * episodes


def validation_count(epochs: int, val_interval: int, fixed: bool = False) -> int:
    """How many distinct level sets the validations of a run of ``epochs`` epochs play."""
    return 1 if fixed else max(1, epochs // val_interval)
