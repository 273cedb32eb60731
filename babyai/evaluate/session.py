"""What a one-model evaluation starts from: the level, the model's policy (None for the oracle ``BOT``), its
name in result files, the results folder and fresh level seeds checked against the seeds the model
trained and validated on. Typed settings (``EvalSpec``) in, no argparse namespace."""

from __future__ import annotations

from dataclasses import dataclass

from babyai.checks import check_device, check_seed

EVAL_FIRST_SEED = 3_000_000_000  # fresh in-distribution levels: above demos, validation and the suites (2e9+)
ORACLE_NAME = "BOT"  # --model BOT: the oracle plays (as in make_agent_demos.py); a calibration agent


@dataclass
class EvalSpec:
    """The settings every evaluation command shares (the flags of babyai.commands.common)."""

    model: str  # run name, run folder, .pt path, or BOT
    level: str
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


class Evaluation:
    """The level (checked), the policy, its name, the results folder, the seeds and the rollout settings."""

    def __init__(self, spec: EvalSpec, needs_thoughts: str = ""):
        from babyai.agent.policy import ModelError
        from babyai.evaluate.io import results_dir
        from babyai.evaluate.suites import check_disjoint, training_seed_ranges
        from babyai.levels import make_env, resolve_level_id

        self.spec = spec
        self.level = resolve_level_id(spec.level)
        make_env(self.level)
        self.name = policy_name(spec.model)
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
