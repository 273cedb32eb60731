"""What a one-model evaluation starts from: the level, the model's policy (None for the oracle ``BOT``), its
name in result files, the results folder and fresh level seeds checked against the seeds the model
trained and validated on. Typed settings (``EvalSpec``) in, no argparse namespace."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from babyai.checks import check_device, check_seed

EVAL_FIRST_SEED = 3_000_000_000  # fresh in-distribution levels: above demos, validation and the suites (2e9+)
ORACLE_NAME = "BOT"  # --model BOT: the oracle plays (as in make_agent_demos.py); a calibration agent


@dataclass
class EvalSpec:
    """The settings every evaluation command shares (the flags of babyai.commands.common)."""

    model: str  # run name, run folder, .pt path, or BOT
    level: str | None = None  # None: the level the model was trained on (see choose_level)
    episodes: int = 512
    first_seed: int = EVAL_FIRST_SEED  # first level seed, and seed of the sampled actions
    argmax: bool = False
    workers: int | None = None
    batch_size: int = 512
    seeding: str = "legacy"
    storage: str | None = None
    group: str = ""
    out_dir: str | None = None
    device: str = "cpu"
    checkpoint: str = "best"

    def __post_init__(self):
        check_counts(self.episodes, self.batch_size, self.workers)
        check_seed("--seed", self.first_seed, self.episodes)  # levels first_seed .. + episodes - 1
        check_device("--device", self.device)


def check_counts(episodes: int | None = None, batch_size: int | None = None, workers: int | None = None) -> None:
    """A ValueError naming the flag when a count is out of range (None: not given)."""
    if episodes is not None and episodes < 1:
        raise ValueError(f"--episodes must be at least 1, got {episodes}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    if workers is not None and workers < 0:
        raise ValueError(f"--workers must not be negative, got {workers}")


def open_policy(model: str, storage: str | None, group: str, device: str, which: str = "best"):
    """The ModelPolicy of ``model``, or None for the oracle (``BOT``)."""
    from babyai.agent.loading import load_policy

    if model == ORACLE_NAME:
        return None
    return load_policy(model, storage, group, device, which)


def policy_name(model: str) -> str:
    from babyai.evaluate.io import safe_name

    return ORACLE_NAME if model == ORACLE_NAME else safe_name(model)


def checkpoint_file(model: str, storage: str | None, group: str, which: str = "best") -> str | None:
    """The checkpoint file ``model`` names (None for the oracle ``BOT``)."""
    from babyai.agent.loading import find_checkpoint

    return None if model == ORACLE_NAME else find_checkpoint(model, storage, group, which)


def checkpoint_tag(path: str | None) -> str:
    """"best" or "last" for a run's best.pt / last.pt, "" for the oracle or another .pt file."""
    name = os.path.basename(path or "")
    return name.removesuffix(".pt") if name in ("best.pt", "last.pt") else ""


def trained_levels(path: str) -> list[str]:
    """The levels the run of checkpoint ``path`` trained on (its --env or --multi-env): from the run's
    config.json, else from the checkpoint's train_config; [] when neither records them (an untrained
    network, a teaching session's snapshot)."""
    from babyai.agent.loading import load_checkpoint
    from babyai.agent.policy import ModelError
    from babyai.levels import resolve_level_id

    config = os.path.join(os.path.dirname(path), "config.json")
    try:
        if os.path.isfile(config):
            with open(config) as f:
                envs = json.load(f)["train"]["envs"]
        else:
            envs = (load_checkpoint(path).get("train_config") or {}).get("envs") or []
        return [resolve_level_id(str(env)) for env in envs]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # CheckpointError is a ValueError
        raise ModelError(f"cannot read the levels {path} was trained on: {e}") from None


def choose_level(env: str | None, name: str, checkpoint: str | None) -> tuple[str, str]:
    """(level id, a line saying why): ``env`` (--env) when given, else the first level the model of
    ``checkpoint`` was trained on; a ModelError when neither says which (the oracle, a run without config)."""
    from babyai.agent.policy import ModelError
    from babyai.levels import resolve_level_id

    trained = trained_levels(checkpoint) if checkpoint else []
    listed = ", ".join(trained)
    if env is not None:
        level = resolve_level_id(env)
        if not trained:
            return level, f"level {level} (--env)"
        if level in trained:
            return level, f"level {level} (--env; {name} was trained on it)"
        return level, f"level {level} (--env), not the one {name} was trained on ({listed})"
    if not trained:
        what = "the oracle plays any level" if checkpoint is None else f"{name} records no level it was trained on"
        raise ModelError(f"no --env given and {what}: give --env LEVEL")
    more = f" (the first of {listed}; --env picks another)" if len(trained) > 1 else ""
    return trained[0], f"level {trained[0]}: the one {name} was trained on{more}, as no --env was given"


class Evaluation:
    """The level (checked), the policy, its name, the results folder, the seeds and the rollout settings;
    ``note`` says which level it plays and why; ``checkpoint`` is "best", "last" or ""."""

    def __init__(self, spec: EvalSpec, needs_thoughts: str = ""):
        from babyai.agent.policy import ModelError
        from babyai.evaluate.io import results_dir
        from babyai.evaluate.suites import check_disjoint, training_seed_ranges
        from babyai.levels import make_env

        self.spec = spec
        self.name = policy_name(spec.model)
        path = checkpoint_file(spec.model, spec.storage, spec.group, spec.checkpoint)
        self.checkpoint = checkpoint_tag(path)
        self.level, why = choose_level(spec.level, self.name, path)
        self.note = f"evaluating {self.name} on {why}"
        make_env(self.level)
        self.out = results_dir(spec.storage, spec.group, spec.out_dir)
        self.policy = open_policy(spec.model, spec.storage, spec.group, spec.device, spec.checkpoint)
        if needs_thoughts and self.policy is not None and not self.policy.thinks:
            raise ModelError(f"model {self.name} is a Behavioral Cloning model: {needs_thoughts}")
        self.seeds = range(spec.first_seed, spec.first_seed + spec.episodes)
        self.training_seeds = []
        if self.policy is not None:
            self.training_seeds = training_seed_ranges(spec.model, spec.storage, spec.group)
            check_disjoint(self.seeds, self.training_seeds)
        self.common = dict(argmax=spec.argmax, sample_seed=spec.first_seed, seeding=spec.seeding,
                           workers=spec.workers, batch_size=spec.batch_size, progress=True)
