"""The command lines of the imitation-from-observation scripts (scripts/make_embodiment_data.py,
train_idm.py, train_world_model.py, train_aime.py, train_iidm.py): each ``*_main(argv)`` parses the flags,
then runs ``babyai.observe.mains`` (which prints one JSON line); bad input ends in a one-line ``error:`` (``babyai.cli.run``).
The training commands' flags become their typed settings (``babyai.observe.constants``: WorldModelRun, AimeRun,
IIDMRun), which the report pipeline (``babyai.observe.report``) gives ``babyai.observe.mains`` directly."""

from __future__ import annotations

import argparse

from babyai.checks import MAX_RNG_SEED, check_number, check_seed, check_workers
from babyai.cli import DefaultsHelpFormatter
from babyai.errors import UserError
from babyai.levels import SEEDINGS
from babyai.observe.constants import (AIME_ESTIMATORS, FREE_NATS, KL_BALANCE, POLICIES, AimeRun, IIDMRun,
                                      WorldModelRun)

# The commands themselves (torch, minigrid) are in babyai.observe.mains, imported once the flags are parsed.
DOCS = {
    'embodiment': "Generate embodiment data: the agent's own episodes on a level, with their actions.",
    'idm': 'Train an inverse dynamics model (which action led from one observation to the next) on embodiment data.',
    'world_model': 'Train a latent world model (an RSSM) on embodiment data, for AIME (scripts/train_aime.py).',
    'aime': "AIME: train a policy to maximise the evidence of the demonstrations' observations (not their actions)\nunder a frozen world model (scripts/train_world_model.py), then measure its success.",
    'iidm': "IIDM (AIME's baseline): a one-step forward model trained on embodiment data, then a policy trained on the\ndemonstrations' observations (not their actions) through the frozen forward model; then its success.",
}


def embodiment_args(argv=None):
    p = argparse.ArgumentParser(description=DOCS['embodiment'],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level id (BabyAI-GoToLocal-v0, or GoToLocal)")
    p.add_argument("--episodes", type=int, default=1000, help="number of episodes")
    p.add_argument("--policy", choices=POLICIES, default="random",
                   help="random: uniform actions; noisy-oracle: the oracle with random actions mixed in")
    p.add_argument("--noise-rate", type=float, default=0.25,
                   help="noisy-oracle: probability per step of a uniform random action")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode's level")
    p.add_argument("--demos", default=None,
                   help="dataset name under <storage>/demos/ (default: ENV_POLICY_EPISODES)")
    p.add_argument("--save-interval", type=int, default=1000, help="episodes per shard")
    p.add_argument("--workers", type=int, default=1, help="processes generating episodes")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--seeding", choices=SEEDINGS, default="legacy", help="level seeding")
    args = p.parse_args(argv)
    if args.episodes < 1 or args.save_interval < 1 or args.workers < 1:
        p.error("--episodes, --save-interval and --workers must be >= 1")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    if not 0.0 <= args.noise_rate <= 1.0:
        p.error("--noise-rate must be between 0 and 1")
    try:
        check_workers("--workers", args.workers)
    except ValueError as error:
        p.error(str(error))
    return args


# the real-valued flags of the training commands (where a command has them) and their ranges
NUMBERS = {"lr": dict(low=0, low_open=True), "tau": dict(low=0, low_open=True), "free_nats": dict(low=0),
           "kl_balance": dict(low=0, high=1)}


def checked(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` of a training command, once its --seed and real numbers are checked (finite, in range: a
    one-line UserError otherwise)."""
    try:
        check_seed("--seed", args.seed, limit=MAX_RNG_SEED)
        for name, bounds in NUMBERS.items():
            if hasattr(args, name):
                check_number(f"--{name.replace('_', '-')}", getattr(args, name), **bounds)
    except ValueError as error:
        raise UserError(str(error)) from None
    return args


def run_flags(p: argparse.ArgumentParser, evaluation: bool = False) -> None:
    """The flags every training command here ends with: seed, (evaluation levels,) storage, quiet."""
    p.add_argument("--seed", type=int, default=0, help="random seed of the training")
    if evaluation:
        p.add_argument("--eval-episodes", type=int, default=200, help="levels to measure success on (0: none)")
        p.add_argument("--eval-seed", type=int, default=10**7, help="seed of the first evaluation level")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def idm_args(argv=None):
    p = argparse.ArgumentParser(description=DOCS['idm'],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level of the embodiment data")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--eval-demos", default=None, help="demonstrations whose true actions score the IDM")
    p.add_argument("--episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--epochs", type=int, default=10, help="passes over the transitions")
    p.add_argument("--batch-size", type=int, default=64, help="examples per update")
    p.add_argument("--lr", type=float, default=2e-3, help="learning rate (Adam)")
    p.add_argument("--channels", type=int, default=32, help="width of the convolutions")
    run_flags(p)
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.channels < 1 or args.episodes < 0:
        p.error("--epochs, --batch-size and --channels must be >= 1, --episodes >= 0")
    return checked(args)


def world_model_args(argv=None):
    p = argparse.ArgumentParser(description=DOCS['world_model'],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level of the embodiment data")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--updates", type=int, default=1500, help="optimizer updates")
    p.add_argument("--batch-size", type=int, default=16, help="windows per update")
    p.add_argument("--seq-len", type=int, default=32, help="frames per window")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (Adam)")
    p.add_argument("--deter", type=int, default=128, help="deterministic state width")
    p.add_argument("--stoch", type=int, default=32, help="stochastic state width")
    p.add_argument("--kl-balance", type=float, default=KL_BALANCE,
                   help="share of the KL's gradient that trains the prior (DreamerV2's KL balancing; 0.5: both "
                        "sides alike, the plain KL's gradient halved)")
    p.add_argument("--free-nats", type=float, default=FREE_NATS,
                   help="KL per frame that costs nothing (0: none)")
    p.add_argument("--eval-demos", default=None,
                   help="demonstrations on which to measure (diagnostic) how often the model's one-step evidence "
                        "of the next frame is highest for the true action")
    run_flags(p)
    args = p.parse_args(argv)
    if min(args.updates, args.batch_size, args.seq_len, args.deter, args.stoch) < 1 or args.episodes < 0:
        p.error("--updates, --batch-size, --seq-len, --deter and --stoch must be >= 1, --episodes >= 0")
    return checked(args)


def aime_args(argv=None):
    p = argparse.ArgumentParser(description=DOCS['aime'],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level")
    p.add_argument("--demos", required=True, help="demonstrations (their actions are not used)")
    p.add_argument("--world-model", required=True, help="world-model run (scripts/train_world_model.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="demonstrations to use (0: all)")
    p.add_argument("--updates", type=int, default=600, help="optimizer updates")
    p.add_argument("--batch-size", type=int, default=32, help="demonstrations per update")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (Adam)")
    p.add_argument("--tau", type=float, default=1.0, help="Gumbel-softmax temperature (straight-through)")
    p.add_argument("--estimator", choices=AIME_ESTIMATORS, default="straight-through",
                   help="how the discrete actions pass the ELBO's gradient to the policy: straight-through "
                        "Gumbel-softmax through every later frame, or marginal: each frame's evidence with the "
                        "action summed out exactly (every action's one-step evidence computed)")
    run_flags(p, evaluation=True)
    args = p.parse_args(argv)
    if min(args.updates, args.batch_size) < 1 or min(args.episodes, args.eval_episodes) < 0:
        p.error("--updates and --batch-size must be >= 1, --episodes and --eval-episodes >= 0")
    return checked(args)


def iidm_args(argv=None):
    p = argparse.ArgumentParser(description=DOCS['iidm'],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--demos", required=True, help="demonstrations (their actions are not used)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="demonstrations to use (0: all)")
    p.add_argument("--embodiment-episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--model-epochs", type=int, default=5, help="epochs of the forward model")
    p.add_argument("--policy-epochs", type=int, default=10, help="epochs of the policy")
    p.add_argument("--batch-size", type=int, default=64, help="examples per update")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (Adam)")
    p.add_argument("--tau", type=float, default=1.0, help="Gumbel-softmax temperature")
    run_flags(p, evaluation=True)
    args = p.parse_args(argv)
    if min(args.model_epochs, args.policy_epochs, args.batch_size) < 1 or min(
            args.episodes, args.embodiment_episodes, args.eval_episodes) < 0:
        p.error("epochs and --batch-size must be >= 1, episode counts >= 0")
    return checked(args)



def embodiment_main(argv=None) -> int:
    """scripts/make_embodiment_data.py"""
    args = embodiment_args(argv)
    from babyai.observe.mains import embodiment

    return embodiment(args)


def idm_main(argv=None) -> int:
    """scripts/train_idm.py"""
    args = idm_args(argv)
    from babyai.observe.mains import idm

    return idm(args)


def world_model_main(argv=None) -> int:
    """scripts/train_world_model.py"""
    args = world_model_args(argv)
    from babyai.observe.mains import world_model

    return world_model(WorldModelRun(**vars(args)))


def aime_main(argv=None) -> int:
    """scripts/train_aime.py"""
    args = aime_args(argv)
    from babyai.observe.mains import aime

    return aime(AimeRun(**vars(args)))


def iidm_main(argv=None) -> int:
    """scripts/train_iidm.py"""
    args = iidm_args(argv)
    from babyai.observe.mains import iidm

    return iidm(IIDMRun(**vars(args)))
