"""What the evaluation scripts share: their common flags, and bad input turned into one-line errors."""

from __future__ import annotations

import argparse
import contextlib
import logging

EVAL_FIRST_SEED = 3_000_000_000  # fresh in-distribution levels: above demos, validation and the suites (2e9+)

logger = logging.getLogger("babyai.evaluate")


def add_model_args(p: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        p.add_argument("--model", nargs="+", required=True, help="model name(s) (run folders under "
                       "<storage>[/GROUP]/models), run folder or .pt path; several give one line each in the plot")
    else:
        p.add_argument("--model", required=True, help="model name (run folder under <storage>[/GROUP]/models), "
                       "run folder or .pt path")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best",
                   help="best.pt (the best validation success; falls back to last.pt) or last.pt")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--expr-group-name", default="", help="group folder: models in <storage>/GROUP/models, "
                   "results in <storage>/GROUP")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")


def add_rollout_args(p: argparse.ArgumentParser, episodes: int | None = 512, seed: int = EVAL_FIRST_SEED,
                     env: str | None = "BabyAI-BossLevel-v0",
                     seed_help: str = "first level seed, and seed of the sampled actions") -> None:
    if env is not None:
        p.add_argument("--env", default=env, help=f"level (default: {env})")
    if episodes is not None:
        p.add_argument("--episodes", type=int, default=episodes, help=f"episodes (default: {episodes})")
    p.add_argument("--seed", type=int, default=seed,
                   help=f"{seed_help} (default: {seed})")
    p.add_argument("--argmax", action="store_true", help="take the most likely action (default: sample)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes stepping the levels (default: one per spare core for 64+ levels; 0 or 1: "
                        "in this process)")
    p.add_argument("--batch-size", type=int, default=512, help="levels run together (default: 512)")
    p.add_argument("--seeding", default="legacy", choices=["legacy", "gymnasium"],
                   help="level seeding (default: legacy, the paper's)")
    p.add_argument("--out-dir", default=None, help="results folder (default: <storage>[/GROUP])")


def check_counts(episodes: int | None = None, batch_size: int | None = None, workers: int | None = None) -> None:
    from babyai.cli import UserError

    if episodes is not None and episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {episodes}")
    if batch_size is not None and batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    if workers is not None and workers < 0:
        raise UserError(f"--workers must not be negative, got {workers}")


def check_seed_and_device(seed: int | None = None, count: int = 1, device: str | None = None) -> None:
    """--seed (levels seed .. seed + count - 1) and --device, refused up front when unusable."""
    from babyai.checks import check_device, check_seed
    from babyai.cli import UserError

    try:
        if seed is not None:
            check_seed("--seed", seed, count)
        check_device("--device", device)
    except ValueError as e:
        raise UserError(str(e)) from None


@contextlib.contextmanager
def user_errors():
    """Turn the errors bad input causes (model, suites, vocabulary, datasets, missing packages) into UserError."""
    from babyai.cli import UserError
    from babyai.evaluate.agent import ModelError
    from babyai.evaluate.render import MissingDependency
    from babyai.evaluate.suites import SuiteError
    from babyai.train.data import DatasetError
    from babyai.train.vocab import VocabularyError

    try:
        yield
    except MissingDependency as e:
        raise UserError(str(e), 3) from None
    except (ModelError, SuiteError, VocabularyError, DatasetError) as e:
        raise UserError(str(e).splitlines()[0], 2) from None


def log_setup() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")


ORACLE_NAME = "BOT"  # --model BOT: the oracle plays (as in make_agent_demos.py); a calibration agent


def open_policy(model: str, storage: str | None, group: str, device: str, which: str = "best"):
    """The ModelPolicy of ``model``, or None for the oracle (``BOT``)."""
    from babyai.evaluate.agent import load_policy

    if model == ORACLE_NAME:
        return None
    return load_policy(model, storage, group, device, which)


def policy_name(model: str) -> str:
    from babyai.evaluate.io import safe_name

    return ORACLE_NAME if model == ORACLE_NAME else safe_name(model)


def percent(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.2f}%"


class Evaluation:
    """What a one-model evaluation script starts from: the level, the model's policy (None for ``BOT``),
    its name in result files, the results folder and the fresh level seeds (checked against the seeds
    the model trained and validated on)."""

    def __init__(self, args: argparse.Namespace, needs_thoughts: str = ""):
        from babyai.cli import UserError
        from babyai.evaluate.io import results_dir
        from babyai.evaluate.suites import check_disjoint
        from babyai.levels import make_env, resolve_level_id

        check_counts(args.episodes, args.batch_size, args.workers)
        check_seed_and_device(args.seed, args.episodes, args.device)
        self.level = resolve_level_id(args.env)
        make_env(self.level)
        self.name = policy_name(args.model)
        self.out = results_dir(args.storage_dir, args.expr_group_name, args.out_dir)
        self.policy = open_policy(args.model, args.storage_dir, args.expr_group_name, args.device, args.checkpoint)
        if needs_thoughts and self.policy is not None and not self.policy.thinks:
            raise UserError(f"model {self.name} is a Behavioral Cloning model: {needs_thoughts}")
        self.seeds = range(args.seed, args.seed + args.episodes)
        self.training_seeds = []
        if self.policy is not None:
            from babyai.evaluate.agent import training_seed_ranges

            self.training_seeds = training_seed_ranges(args.model, args.storage_dir, args.expr_group_name)
            check_disjoint(self.seeds, self.training_seeds)
        self.common = dict(argmax=args.argmax, sample_seed=args.seed, seeding=args.seeding, workers=args.workers,
                           batch_size=args.batch_size, progress=True)
