"""The flags the evaluation commands share, and their typed settings (``EvalSpec``)."""

from __future__ import annotations

import argparse
import sys

from babyai.checks import check_device, check_seed
from babyai.errors import UserError
from babyai.evaluate.session import EVAL_FIRST_SEED, EvalSpec, check_counts
from babyai.threads import add_threads_flag, describe, use_threads


def add_model_args(p: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        p.add_argument("--model", nargs="+", required=True, help="model name(s) (run folders under "
                       "<storage>[/GROUP]/models), run folder or .pt path (BOT: the oracle); several give one line "
                       "each in the plot")
    else:
        p.add_argument("--model", required=True, help="model name (run folder under <storage>[/GROUP]/models), "
                       "run folder or .pt path (BOT: the oracle)")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best",
                   help="best.pt (the best validation success; falls back to last.pt) or last.pt (default: best)")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--expr-group-name", default="", help="group folder: models in <storage>/GROUP/models, "
                   "results in <storage>/GROUP")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    add_threads_flag(p)


MODEL_LEVEL_HELP = "level (default: the level the model was trained on, from its run's config; required for BOT)"


def add_rollout_args(p: argparse.ArgumentParser, episodes: int | None = 512, seed: int = EVAL_FIRST_SEED,
                     env: str | None = None,
                     seed_help: str = "first level seed, and seed of the sampled actions") -> None:
    """The rollout flags; --env defaults to ``env``, or with None to the model's own level (``Evaluation``)."""
    p.add_argument("--env", default=env, help=f"level (default: {env})" if env else MODEL_LEVEL_HELP)
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


def spec_from_args(args: argparse.Namespace, model: str | None = None, episodes: int | None = None) -> EvalSpec:
    """The typed settings of the parsed flags of ``add_model_args`` + ``add_rollout_args``."""
    try:
        return EvalSpec(model=model or args.model, level=args.env,
                        episodes=args.episodes if episodes is None else episodes, first_seed=args.seed,
                        argmax=args.argmax, workers=args.workers, batch_size=args.batch_size, seeding=args.seeding,
                        storage=args.storage_dir, group=args.expr_group_name, out_dir=args.out_dir,
                        device=args.device, checkpoint=args.checkpoint)
    except ValueError as e:
        raise UserError(str(e)) from None


def check_flags(episodes: int | None = None, batch_size: int | None = None, workers: int | None = None) -> None:
    try:
        check_counts(episodes, batch_size, workers)
    except ValueError as e:
        raise UserError(str(e)) from None


def check_seed_and_device(seed: int | None = None, count: int = 1, device: str | None = None) -> None:
    """--seed (levels seed .. seed + count - 1) and --device, refused up front when unusable."""
    try:
        if seed is not None:
            check_seed("--seed", seed, count)
        check_device("--device", device)
    except ValueError as e:
        raise UserError(str(e)) from None


def percent(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.2f}%"


def set_threads(args: argparse.Namespace) -> None:
    """--threads, applied once when the command starts (0: automatic; see babyai.threads)."""
    use_threads(args.threads)


def note_threads(*notes: str) -> None:
    """Say on stderr ``notes`` (e.g. which level an evaluation plays and why) and how many threads the work about
    to start uses (after the checks of the flags, models and files, so that a bad input still ends in one line)."""
    for note in notes:
        print(note, file=sys.stderr)
    print(f"torch: {describe()}", file=sys.stderr, flush=True)
