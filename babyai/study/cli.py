"""``python -m babyai.study.cli`` (scripts/reproduce.py): a CPU study of TC vs BC vs TC without thought.

    python scripts/reproduce.py --name minibosslevel_cpu                 # one configuration
    python scripts/reproduce.py --name study_cpu --sweep --seeds 1 2 3 4 5 --noise-variants 0 0.05

Generates the demos, trains the methods for every seed with identical budgets, evaluates each run
(in-distribution success, a zero-shot suite binned by difficulty, and for TC: FADS, Precrime
Intervention, oracle-thought steering) and writes results/NAME/README.md with the table (mean ± std
over seeds), the plots and summary.json. With --sweep, a development sweep (babyai.study.sweep:
development training seed, development validation levels) first chooses the level and settings;
its table (sweep.md) and choice (choice.json) are written before the confirmation runs. Run the
same command again after a kill: finished stages and runs are kept, interrupted training resumes
from its last checkpoint. Models and datasets go to <storage>/reproduce_NAME/ (logs in its logs/
folder); each finished run's results to results/NAME/runs/ (commit them: on another machine, or
after the storage is gone, the study goes on from them).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from babyai.cli import run
from babyai.errors import UserError
from babyai.log import setup_logging
from babyai.study.pipeline import Pipeline, Plan, StageError

DEFAULTS = Plan(name="")
POSITIVE = ("demos", "epochs", "epoch_length", "jobs", "eval_episodes", "tc_eval_episodes", "val_episodes", "val_interval",
            "levels_per_bin", "batch_size", "episodes_per_lane", "recurrence", "suite_max_seeds")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reproduce.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    a("--name", required=True, help="name of the study (its folders; reuse it to resume)")
    a("--env", default=DEFAULTS.env, help="level (with --sweep: the sweep chooses it)")
    a("--demos", type=int, default=DEFAULTS.demos, help="training demonstrations per level and noise rate")
    a("--valid-demos", type=int, default=DEFAULTS.valid_demos, help="validation demonstrations")
    a("--noise-rate", type=float, default=DEFAULTS.noise_rate, help="demonstration noise of the main runs (the paper's)")
    a("--noise-variants", type=float, nargs="*", default=[], help="TC also trained on datasets of these noise rates")
    a("--noise-seeds", type=int, nargs="*", default=[], help="seeds of the noise variants (default: the first three --seeds)")
    a("--seeds", type=int, nargs="+", default=DEFAULTS.seeds, help="training seeds")
    a("--epochs", type=int, default=DEFAULTS.epochs, help="epochs per run")
    a("--epoch-length", type=int, default=DEFAULTS.epoch_length, help="episodes per epoch")
    a("--stop-tf", type=int, default=DEFAULTS.stop_tf, help="epoch from which teacher forcing is phased out")
    a("--tf-until-nll", type=float, default=None, metavar="NATS",
      help="TC: keep teacher forcing on until the validation thought NLL per frame is below NATS, then phase it out "
           "(a departure from the paper; default: the paper's --stop-tf schedule)")
    a("--evaluate-last", action="store_true",
      help="evaluate each run's last model instead of its best by validation success (the paper's choice)")
    a("--best-ties-by-thoughts", action="store_true",
      help="TC: best.pt on equal validation success goes to the validation whose thoughts name the oracle's object "
           "more often (a departure from the paper)")
    a("--thought-history-noise", type=float, default=None, metavar="P",
      help="TC: in teacher-forced batches the thought history reads a random thought at this share of frames "
           "(a departure from the paper; default: none)")
    a("--variants", nargs="*", default=[], metavar="VARIANT",
      help="more TC methods, each a departure from the paper, trained and evaluated like TC: aux (the thought as an "
           "auxiliary loss only), noise=P (--thought-history-noise P), sampling=P (--thought-history-sampling P)")
    a("--history-sampling-steps", type=int, default=0, metavar="N",
      help="the sampling=P variants reach P over their first N optimizer steps")
    a("--batch-size", type=int, default=DEFAULTS.batch_size, help="episodes per batch")
    a("--lr", type=float, default=DEFAULTS.lr, help="learning rate")
    a("--recurrence", type=int, default=DEFAULTS.recurrence, help="truncated BPTT steps")
    a("--memory-dim", type=int, default=DEFAULTS.memory_dim, help="LSTM memory width")
    a("--instr-dim", type=int, default=DEFAULTS.instr_dim, help="word embedding width")
    a("--image-dim", type=int, default=DEFAULTS.image_dim, help="conv width (multiple of 8 from 16)")
    a("--episodes-per-lane", type=int, default=DEFAULTS.episodes_per_lane, help="training batch layout")
    a("--sg-coef", type=float, default=DEFAULTS.sg_coef, help="TC's thought loss coefficient")
    a("--val-episodes", type=int, default=DEFAULTS.val_episodes, help="fresh levels per validation")
    a("--val-interval", type=int, default=DEFAULTS.val_interval, help="epochs between validations")
    a("--eval-episodes", type=int, default=DEFAULTS.eval_episodes, help="fresh levels for the final evaluations")
    a("--tc-eval-episodes", type=int, default=DEFAULTS.tc_eval_episodes, help="fresh levels for FADS, Precrime, steering")
    a("--levels-per-bin", type=int, default=DEFAULTS.levels_per_bin, help="zero-shot suite levels per bin")
    a("--suite-max-seeds", type=int, default=DEFAULTS.suite_max_seeds, help="seeds tried to fill the suite")
    a("--sweep", action="store_true", help="choose level and settings by a development sweep first")
    a("--sweep-levels", nargs="+", default=None, help="candidate levels of the sweep (default: GoToSeq SynthSeq MiniBossLevel)")
    a("--choice", default=None, metavar="CHOICE_JSON",
      help="take level and settings from a finished sweep's choice.json (confirm it without rerunning the sweep)")
    a("--sweep-criterion", default="success", choices=["success", "thoughts"],
      help="how the sweep chooses the level: success (largest TC - BC) or thoughts (TC's own thoughts most often "
           "name the oracle's object; TC probes only)")
    a("--sweep-seed", type=int, default=101, help="the sweep's development training seed")
    a("--sweep-epoch-length", type=int, default=None, help="the probes' episodes per epoch (default: --epoch-length)")
    a("--sweep-alternatives", nargs="*", default=None, metavar="SETTING=V1,V2",
      help="values the sweep tries besides the base, for image_dim, batch_size, stop_tf, sg_coef, history_noise "
           "(default: image_dim=64 batch_size=64 stop_tf=1000 sg_coef=1)")
    a("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once, one thread each (default: one per core)")
    a("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    a("--results-dir", default="results", help="where the report goes")
    return p


def plan_from_args(args: argparse.Namespace, level: str) -> Plan:
    for name in POSITIVE:
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("noise_rate", *(["noise_variants"] if args.noise_variants else [])):
        values = getattr(args, name) if isinstance(getattr(args, name), list) else [getattr(args, name)]
        if any(not 0 <= v <= 1 for v in values):
            raise UserError(f"--{name.replace('_', '-')} must lie in [0, 1]")
    if not args.name or os.sep in args.name or args.name.startswith("."):
        raise UserError(f"--name must be a plain folder name, got {args.name!r}")
    if args.tf_until_nll is not None and not (args.tf_until_nll > 0 and args.tf_until_nll < float("inf")):
        raise UserError(f"--tf-until-nll must be a positive number of nats, got {args.tf_until_nll}")
    if args.thought_history_noise is not None and not 0 <= args.thought_history_noise <= 1:
        raise UserError(f"--thought-history-noise must lie in [0, 1], got {args.thought_history_noise}")
    if args.epoch_length < args.batch_size:
        raise UserError(f"--epoch-length {args.epoch_length} is shorter than --batch-size {args.batch_size}: "
                        "an epoch would make no optimizer step")
    if args.sweep_epoch_length is not None and args.sweep_epoch_length < 1:
        raise UserError(f"--sweep-epoch-length must be at least 1, got {args.sweep_epoch_length}")
    if args.seeds and args.sweep_seed in args.seeds:
        raise UserError(f"--sweep-seed {args.sweep_seed} is one of the confirmation's --seeds: the sweep must use other seeds")
    plan = Plan(name=args.name, env=level, demos=args.demos, valid_demos=args.valid_demos, noise_rate=args.noise_rate,
                seeds=args.seeds, epochs=args.epochs, epoch_length=args.epoch_length, stop_tf=args.stop_tf,
                tf_until_nll=args.tf_until_nll, history_noise=args.thought_history_noise,
                best_ties_by_thoughts=args.best_ties_by_thoughts or None,
                checkpoint="last" if args.evaluate_last else None,
                batch_size=args.batch_size, lr=args.lr, recurrence=args.recurrence, memory_dim=args.memory_dim,
                instr_dim=args.instr_dim, image_dim=args.image_dim, episodes_per_lane=args.episodes_per_lane,
                sg_coef=args.sg_coef, noise_variants=[v for v in args.noise_variants if v != args.noise_rate],
                noise_seeds=args.noise_seeds, variants=args.variants,
                history_sampling_steps=args.history_sampling_steps, val_episodes=args.val_episodes, val_interval=args.val_interval,
                eval_episodes=args.eval_episodes, tc_eval_episodes=args.tc_eval_episodes,
                levels_per_bin=args.levels_per_bin, suite_max_seeds=args.suite_max_seeds, jobs=args.jobs)
    from babyai.checks import MAX_RNG_SEED, check_count, check_number, check_seed
    from babyai.model import TCConfig

    try:  # before any demos are built: a bad value would burn the name
        for flag, seeds in (("--seeds", args.seeds), ("--noise-seeds", args.noise_seeds), ("--sweep-seed", [args.sweep_seed])):
            for seed in seeds:
                check_seed(flag, seed, limit=MAX_RNG_SEED)
        check_number("--lr", args.lr, low=0, low_open=True)
        check_number("--sg-coef", args.sg_coef, low=0)
        check_count("--history-sampling-steps", args.history_sampling_steps)
        plan.methods()  # the variants' names and values
        TCConfig(memory_dim=plan.memory_dim, instr_dim=plan.instr_dim, image_dim=plan.image_dim)
    except ValueError as e:
        raise UserError(str(e)) from None
    return plan


def parse_alternatives(items: list[str]) -> dict[str, list[float]]:
    from babyai.study.sweep import SHARED, TC_ONLY

    out = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in SHARED + TC_ONLY or not values:
            raise UserError(f"--sweep-alternatives: {item!r} is not SETTING=V1,V2 with SETTING one of {', '.join(SHARED + TC_ONLY)}")
        try:
            out[name] = [float(v) if name in ("sg_coef", "history_noise") else int(v) for v in values.split(",")]
        except ValueError:
            raise UserError(f"--sweep-alternatives: bad value in {item!r}") from None
    return out


def apply_choice(plan: Plan, path: str) -> Plan:
    """The plan with the level and settings a sweep chose (its choice.json), recorded as chosen_by."""
    import json

    from babyai.study.sweep import with_choice

    try:
        with open(path) as f:
            return with_choice(plan, json.load(f)["chosen"])
    except FileNotFoundError:
        raise UserError(f"--choice: no such file {path}") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"--choice: {path} is not a sweep's choice.json ({type(e).__name__}: {e})") from None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    from babyai.levels import make_env, resolve_level_id
    from babyai.storage import storage_dir

    level = resolve_level_id(args.env)
    make_env(level)
    plan = plan_from_args(args, level)
    command = "python scripts/reproduce.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    storage = storage_dir(args.storage_dir)
    if args.choice:
        if args.sweep:
            raise UserError("--choice and --sweep exclude each other: --choice confirms a sweep already run")
        plan = apply_choice(plan, args.choice)
        make_env(plan.env)
    try:
        if args.sweep:
            from babyai.study.sweep import Sweep, SweepPlan

            levels = [resolve_level_id(lv) for lv in (args.sweep_levels or SweepPlan().levels)]
            for lv in levels:
                make_env(lv)
            alternatives = parse_alternatives(args.sweep_alternatives) if args.sweep_alternatives is not None else SweepPlan().alternatives
            sweep = Sweep(Pipeline(plan, storage, args.results_dir, command),
                          SweepPlan(levels=levels, alternatives=alternatives, seed=args.sweep_seed,
                                    epoch_length=args.sweep_epoch_length or plan.epoch_length,
                                    criterion=args.sweep_criterion))
            plan = sweep.run()
        path = Pipeline(plan, storage, args.results_dir, command).run()
    except StageError as e:
        raise UserError(str(e)) from None
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run(main, sys.argv[1:])
