"""The command line of training (``babyai.commands.train_tc`` / ``train_il``), with the original flag names."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys

from babyai.cli import DefaultsHelpFormatter
from babyai.model.config import TCConfig
from babyai.threads import add_threads_flag, use_threads

VAL_SEED = 10**9  # the default --val-seed: BabyAI's validation range (babyai.demos.generate.VALID_FIRST_SEED)


class _HelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every flag's default; the epilog (the log legend) as written."""


PROGS = {"tc": "train_tc.py", "bc": "train_il.py"}


def build_parser(algo: str) -> argparse.ArgumentParser:
    """The flags of train_tc.py (``algo`` "tc") or train_il.py ("bc"); train_il.py accepts TC's --sg-coef (ignored)
    without listing it, so that one command line serves both."""
    what = "Thought Cloning (--sg-coef 0: TC without imitating thought)" if algo == "tc" else "Behavioral Cloning"
    from babyai.train.logger import legend_text

    p = argparse.ArgumentParser(prog=PROGS[algo], description=f"Train a {what} agent by imitating demonstrations.",
                                formatter_class=_HelpFormatter,
                                epilog="Every log row (console and train.log; log.csv has the full names):\n"
                                       + legend_text(thoughts=algo == "tc"))
    tc = algo == "tc"
    a = p.add_argument
    # base
    a("--env", default=None, help="level to validate on, e.g. BabyAI-BossLevel-v0 (REQUIRED unless --multi-env)")
    a("--model", default=None, help="run name: <storage>/models/NAME (default: ENV_ALGO_seedSEED)")
    a("--pretrained-model", default=None, help="start from the weights (and vocabulary) of this run")
    a("--seed", type=int, default=1, help="random seed; 0 draws one, which is logged and saved (default: 1)")
    a("--task-id-seed", action="store_true", help="use $SLURM_ARRAY_TASK_ID as the seed")
    a("--tb", action="store_true", default=False, help="also log to TensorBoard (<run>/tb)")
    a("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    a("--procs", type=int, default=64, help="ignored (an RL setting of the original)")
    # training
    a("--log-interval", type=int, default=1, help="epochs between two log rows (default: 1)")
    a("--frames", type=int, default=int(9e10), help="stop after this many training frames (default: 9e10)")
    a("--patience", type=int, default=100, help="stop after this many validations without a better success rate (default: 100)")
    a("--epochs", type=int, default=1000000,
      help="number of epochs (default: 1000000, the original's: until --patience or --frames stops the run; the "
           "paper: 160)")
    a("--epoch-length", type=int, default=0, help="episodes per epoch; 0: the whole dataset")
    a("--frames-per-proc", type=int, default=40, help="ignored (an RL setting of the original)")
    a("--lr", type=float, default=1e-4, help="learning rate (default: 1e-4)")
    a("--beta1", type=float, default=0.9, help="Adam beta1 (default: 0.9)")
    a("--beta2", type=float, default=0.999, help="Adam beta2 (default: 0.999)")
    a("--recurrence", type=int, default=20, help="time steps of truncated backpropagation (default: 20)")
    a("--episodes-per-lane", type=int, default=3,
      help="episodes played one after the other in each row of a batch, so that every time step normalises "
           "(BatchNorm) over many frames; 1: one row per episode (default: 3)")
    a("--optim-eps", type=float, default=1e-5, help="Adam epsilon (default: 1e-5)")
    a("--optim-alpha", type=float, default=0.99, help="ignored (an RMSprop setting of the original)")
    a("--batch-size", type=int, default=1280,
      help="episodes per batch, over all processes (default: 1280, the original's; the paper: 180)")
    a("--entropy-coef", type=float, default=0.01, help="entropy bonus coefficient (default: 0.01)")
    a("--checkpoint-minutes", type=float, default=10.0, help="also checkpoint within an epoch this often (default: 10)")
    a("--device", default=None, help="cpu, cuda, cuda:N or a GPU index (default: the GPU if there is one)")
    add_threads_flag(p)
    # model
    a("--image-dim", type=int, default=128, help="channels of the image encoder and FiLM blocks: a multiple of 8 from 16 up (the paper: 128; 32 makes CPU studies 5-10x faster)")
    a("--memory-dim", type=int, default=128, help="width of each LSTM memory (paper: 2048)")
    a("--instr-dim", type=int, default=128, help="word embedding width (paper: 256)")
    a("--no-instr", action="store_true", default=False, help="not supported: the agents always read the mission")
    a("--instr-arch", default="attgru", help="mission encoder; only attgru (the paper's) is supported")
    a("--no-mem", action="store_true", default=False, help="not supported: the agents always have memory")
    a("--arch", default="bow_endpool_res", help="image architecture; only bow_endpool_res is supported")
    # validation
    a("--val-seed", type=int, default=VAL_SEED,
      help="first seed of the validation levels (default: 10^9, BabyAI's validation range, so that the default demos "
           "of make_agent_demos.py, from seed 2023, are not validated on; the original's default was 2023)")
    a("--val-interval", type=int, default=1, help="epochs between two validations (default: 1)")
    a("--val-fixed", action="store_true", help="every validation plays the same levels (those of the first), so that "
      "best.pt is chosen on one set (default: each validation plays new levels, as the original did: the k-th, "
      "from 0, from seed VAL_SEED + k * VAL_EPISODES * levels)")
    a("--val-episodes", type=int, default=512, help="validation levels, and validation demos for accuracy (default: 512)")
    a("--seeding", default="legacy", choices=["legacy", "gymnasium"], help="level seeding (default: legacy, the paper's)")
    # data
    a("--demos", default=None, help="demos name (in <storage>/demos) or path (REQUIRED unless --multi-demos)")
    a("--demos-origin", default=None, help="ignored (the original's demos naming)")
    a("--valid", default=None, help="validation demos name or path (default: DEMOS_valid)")
    a("--episodes", type=int, default=0, help="number of demo episodes to use (default: 0, all)")
    a("--multi-env", nargs="*", default=None, help="levels to validate on, when training on several")
    a("--multi-demos", nargs="*", default=None, help="demos to train on, one per --multi-env level")
    a("--multi-episodes", type=int, nargs="*", default=None, help="episodes to use from each --multi-demos dataset")
    a("--save-interval", type=int, default=1, help="epochs between two checkpoints (default: 1; 0: only at the end)")
    a("--sg-coef", type=float, default=2.0,
      help="thought loss coefficient (default: 2; 0: TC without imitating thought)" if tc else argparse.SUPPRESS)
    a("--warm-start", action="store_true", default=False, help="5 warm-up epochs of increasing lr")
    a("--expr-group-name", default="", help="group runs under <storage>/GROUP/models")
    a("--stop-tf", type=int, default=10, help="epoch from which teacher forcing is phased out (default: 10)" if tc else
      "the learning rate halves 40 epochs after this one, or after epoch 120 (TC's schedule, whose teacher "
      "forcing fades from this epoch; default: 10)")
    a("--tf-until-nll", type=float, default=0.0, metavar="NATS",
      help="a departure from the paper, off by default (0): teacher forcing is phased out only once the thoughts have "
           "formed, i.e. from the first validation (at or after --stop-tf) whose teacher-forced thought NLL per frame "
           "on the validation demos is below NATS, then linearly to the last epoch" if tc else argparse.SUPPRESS)
    a("--best-ties-by-thoughts", action="store_true",
      help="a departure from the paper, off by default: best.pt is also replaced when a validation's success equals "
           "the best and its thoughts, played free, name the oracle's object more often (on levels where success "
           "saturates early, the paper's rule keeps a model whose thoughts have not formed yet)" if tc else argparse.SUPPRESS)
    a("--thought-history-noise", type=float, default=0.0, metavar="P",
      help="a departure from the paper, off by default (0): in teacher-forced batches, each frame's thought history "
           "reads, with probability P, a random thought of the batch instead of the demonstrated one, so that the "
           "Thought Generator learns not to copy its previous thought (against exposure bias)" if tc else argparse.SUPPRESS)
    a("--thought-history-sampling", type=float, default=0.0, metavar="P",
      help="a departure from the paper, off by default (0): scheduled sampling of the history input; in "
           "teacher-forced batches each frame's thought history reads, with probability P, the thought the model "
           "itself decodes greedily there (no gradient through it) instead of the demonstrated one" if tc else argparse.SUPPRESS)
    a("--history-sampling-steps", type=int, default=0, metavar="N",
      help="--thought-history-sampling's probability rises linearly from 0 to P over the first N optimizer steps "
           "(0: P from the start)" if tc else argparse.SUPPRESS)
    a("--dagger-rounds", type=int, default=0, metavar="R",
      help="a departure from the paper, off by default (0): after this run, R rounds of oracle Thought-DAgger: the "
           "agent plays --dagger-levels new levels, the oracle labels the states it reached with its thoughts and "
           "actions, and training goes on (runs MODEL_daggerK) on the demos and every round's labels "
           "(babyai.train.dagger)" if tc else argparse.SUPPRESS)
    a("--dagger-levels", type=int, default=200, metavar="K",
      help="levels the agent plays per DAgger round" if tc else argparse.SUPPRESS)
    a("--dagger-seed", type=int, default=5 * 10**8,
      help="first level seed the DAgger rounds play" if tc else argparse.SUPPRESS)
    a("--dagger-epochs", type=int, default=0, metavar="E",
      help="epochs of each DAgger round's training (0: --epochs)" if tc else argparse.SUPPRESS)
    a("--dagger-label-steps", type=int, default=0, metavar="N",
      help="label at most the first N steps of each episode the agent plays in a DAgger round (0: every step the "
           "oracle can label); the rounds are then named MODEL_daggerK_firstN" if tc else argparse.SUPPRESS)
    a("--thought-aux-only", action="store_true",
      help="an ablation, not the paper's agent: the Action Generator reads the mission and the image only, and the "
           "Thought Generator is trained as in Thought Cloning beside it (thought as an auxiliary loss, the "
           "'instruction prediction' of Hejna, Abbeel & Pinto 2023)" if tc else argparse.SUPPRESS)
    a("--wandb-id", default=None, help="ignored (Weights & Biases is not used)")
    # imitation from observation (babyai.observe)
    a("--from-observation", default=None, metavar="IDM",
      help="BCO: train on the actions this inverse dynamics model (scripts/train_idm.py) infers from the demos' "
           "observations; the demos' own actions are not used")
    return p


def add_training_flags(parser: argparse.ArgumentParser, names: list[str], algo: str = "tc",
                       defaults: dict | None = None) -> None:
    """Give ``parser`` the flags ``names`` of the training command line (same names, types, defaults, help),
    so other scripts (e.g. scripts/teach.py) share them instead of retyping them; ``defaults`` (dest -> value)
    replaces some defaults, in the help text too."""
    source = build_parser(algo)
    known = {flag for action in source._actions for flag in action.option_strings}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"no training flags {', '.join(missing)}")
    for action in source._actions:
        if set(action.option_strings) & set(names):
            if defaults and action.dest in defaults:
                action.default = defaults[action.dest]
                action.help = re.sub(r"\(default: [^)]*\)", f"(default: {action.default:g})", action.help or "")
            parser._add_action(action)


def default_model_name(envs: list[str], algo: str, seed: int, sg_coef: float, pretrained: str | None) -> str:
    """A name fixed by the command line, so that re-running a command resumes its run."""
    tag = {"tc": "TC", "bc": "BC"}[algo] + ("-nothought" if algo == "tc" and sg_coef == 0 else "")
    name = f"{'-'.join(envs)}_{tag}_seed{seed}"
    return f"{pretrained}_pretrained_{name}" if pretrained else name


def config_from_args(args: argparse.Namespace, algo: str, command: str):
    """The typed TrainConfig of parsed flags; bad combinations raise ValueError with the flag's name."""
    from babyai.train.run import TrainConfig

    if args.no_instr:
        raise ValueError("--no-instr is not supported: the agents always read the mission")
    if args.no_mem:
        raise ValueError("--no-mem is not supported: the agents always have memory")
    if args.task_id_seed:
        if "SLURM_ARRAY_TASK_ID" not in os.environ:
            raise ValueError("--task-id-seed needs $SLURM_ARRAY_TASK_ID")
        args.seed = int(os.environ["SLURM_ARRAY_TASK_ID"])
    if args.multi_env or args.multi_demos:
        if not (args.multi_env and args.multi_demos):
            raise ValueError("--multi-env and --multi-demos go together")
        envs, demos = list(args.multi_env), list(args.multi_demos)
        episodes = list(args.multi_episodes) if args.multi_episodes else [0] * len(demos)
        if len(episodes) != len(demos):
            raise ValueError("give one --multi-episodes count per --multi-demos dataset")
    else:
        if not args.env:
            raise ValueError("--env is required (or --multi-env)")
        if not args.demos:
            raise ValueError("--demos is required (or --multi-demos)")
        envs, demos, episodes = [args.env], [args.demos], [args.episodes]
    model = TCConfig(image_dim=args.image_dim, memory_dim=args.memory_dim, instr_dim=args.instr_dim,
                     instr_arch=args.instr_arch, arch=args.arch,
                     action_reads_thought=not args.thought_aux_only)
    name = args.model or default_model_name(envs, algo, args.seed, args.sg_coef, args.pretrained_model)
    return TrainConfig(
        algo=algo, model_name=name, envs=envs, demos=demos, episodes=episodes,
        valid_demos=[args.valid] if args.valid else None, model=model, storage=args.storage_dir,
        group=args.expr_group_name, pretrained_model=args.pretrained_model, seed=args.seed, lr=args.lr,
        beta1=args.beta1, beta2=args.beta2, optim_eps=args.optim_eps, batch_size=args.batch_size,
        recurrence=args.recurrence, episodes_per_lane=args.episodes_per_lane, epochs=args.epochs,
        epoch_length=args.epoch_length, frames=args.frames,
        patience=args.patience, entropy_coef=args.entropy_coef, sg_coef=args.sg_coef if algo == "tc" else 0.0,
        warm_start=args.warm_start, stop_tf=args.stop_tf, tf_until_nll=args.tf_until_nll,
        history_noise=args.thought_history_noise, history_sampling=args.thought_history_sampling,
        history_sampling_steps=args.history_sampling_steps, best_ties_by_thoughts=args.best_ties_by_thoughts,
        val_interval=args.val_interval,
        val_episodes=args.val_episodes, val_seed=args.val_seed, val_fixed=args.val_fixed,
        log_interval=args.log_interval,
        save_interval=args.save_interval, checkpoint_minutes=args.checkpoint_minutes, tb=args.tb,
        seeding=args.seeding, device=args.device, command=command,
    )


USER_ERRORS = (ValueError, OSError)  # what training raises on bad flags, data or run folders: one line each


def main(argv: list[str] | None = None, algo: str = "tc", prog: str | None = None) -> int:
    """Parse the flags and train (run it with ``babyai.cli.run(main, extra=USER_ERRORS)``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or PROGS[algo]
    parser = build_parser(algo)
    args = parser.parse_args(argv)
    cfg = config_from_args(args, algo, shlex.join([prog, *argv]))
    dagger = None
    if args.dagger_rounds:
        from babyai.train.dagger import DaggerPlan

        if algo != "tc" or args.from_observation:
            raise ValueError("--dagger-rounds trains a Thought Cloning agent on oracle demos (train_tc.py, without "
                             "--from-observation)")
        dagger = DaggerPlan(args.dagger_rounds, args.dagger_levels, args.dagger_seed, args.dagger_epochs,
                            args.dagger_label_steps)
    from babyai.train.datasets import check_demos_exist

    check_demos_exist(cfg)  # before the run folder and the model are made
    use_threads(args.threads)  # logged by the trainer
    from babyai.train.trainer import train

    if args.from_observation:  # BCO: train on an IDM-labelled copy of the demos (babyai.observe)
        from babyai.observe.bco import from_observation

        cfg = from_observation(cfg, args.from_observation)
    if dagger is not None:
        from babyai.train.dagger import run_dagger

        run_dagger(cfg, dagger)
        return 0
    train(cfg)
    return 0
