"""Teach an agent: at every step approve its action, override it, or rewrite its thought, while it trains online.

    scripts/teach.py --env BabyAI-GoToLocal-v0 --model me          # then open the URL it prints (with ?token=)
    scripts/teach.py --env BabyAI-GoToLocal-v0 --model dagger --teacher oracle --episodes 200

The teaching data goes to <storage>/demos/NAME_teaching/ (scripts/show_demos.py NAME_teaching --jsonl), the
per-episode table to <storage>/models/NAME/teaching.csv, the snapshots to <storage>/models/NAME/snapshots/.
Re-running the same command resumes the session (its data and its trainer).
"""

from __future__ import annotations

import argparse
import os
import signal

from babyai.cli import DefaultsHelpFormatter, run
from babyai.errors import UserError
from babyai.log import setup_logging
from babyai.commands.train import add_training_flags

TRAINING_FLAGS = ["--pretrained-model", "--seed", "--storage-dir", "--seeding", "--lr", "--beta1", "--beta2",
                  "--optim-eps", "--recurrence", "--batch-size", "--entropy-coef", "--sg-coef", "--image-dim",
                  "--memory-dim", "--instr-dim", "--instr-arch", "--arch"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level to teach on, e.g. BabyAI-GoToLocal-v0")
    p.add_argument("--model", required=True, help="session name: <storage>/models/NAME and demos/NAME_teaching")
    p.add_argument("--algo", default="tc", choices=["tc", "bc"], help="Thought Cloning or Behavioral Cloning")
    p.add_argument("--teacher", default="human", choices=["human", "oracle"],
                   help="human: the web page (default); oracle: the BabyAI bot, no browser (a Thought-DAgger)")
    p.add_argument("--episodes", type=int, default=None,
                   help="end after this many episodes in total (human default: until you end it; oracle: 100)")
    p.add_argument("--port", type=int, default=8000,
                   help="port of the page on 127.0.0.1 (default: 8000); open the URL printed, with its token")
    p.add_argument("--train-on", default="all", choices=["all", "overridden"],
                   help="labels trained on: every performed step (default), or only the teacher's corrections")
    p.add_argument("--level-seed", type=int, default=0, help="level seed of the first episode (default: 0)")
    p.add_argument("--snapshot-every", type=int, default=10, help="K: trainer updates per snapshot (default: 10)")
    p.add_argument("--updates-per-episode", type=int, default=10,
                   help="most trainer updates per recorded episode (default: 10)")
    p.add_argument("--sync", default=None, choices=["yes", "no"],
                   help="each episode waits for the snapshot of its updates (default: yes for the oracle, no "
                        "for a person): reproducible sessions")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the trainer (default: 1)")
    add_training_flags(p, TRAINING_FLAGS, defaults=dict(batch_size=16, lr=5e-4, recurrence=20))  # online: few,
    # short episodes per update
    return p.parse_args(argv)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a kill ends the session as Ctrl-C does: what was taught is kept
    from babyai.agent.loading import CheckpointError
    from babyai.agent.policy import ModelError
    from babyai.model.config import TCConfig
    from babyai.teach import OnlineConfig, SessionError, TeachConfig, teach
    from babyai.teach.online import TrainerStopped
    from babyai.teach.data import quarter_rates
    from babyai.teach.server import ServerError

    setup_logging()
    try:
        episodes = args.episodes if args.episodes is not None else (100 if args.teacher == "oracle" else 0)
        model = TCConfig(image_dim=args.image_dim, memory_dim=args.memory_dim, instr_dim=args.instr_dim,
                         instr_arch=args.instr_arch, arch=args.arch)
        online = OnlineConfig("", "", train_on=args.train_on, batch_size=args.batch_size, recurrence=args.recurrence,
                              lr=args.lr, beta1=args.beta1, beta2=args.beta2, optim_eps=args.optim_eps,
                              entropy_coef=args.entropy_coef, sg_coef=args.sg_coef if args.algo == "tc" else 0.0,
                              updates_per_episode=args.updates_per_episode, snapshot_every=args.snapshot_every,
                              seed=args.seed, threads=args.threads)
        cfg = TeachConfig(args.env, args.model, algo=args.algo, teacher=args.teacher, episodes=episodes,
                          pretrained_model=args.pretrained_model, model=model, storage=args.storage_dir,
                          first_seed=args.level_seed, seeding=args.seeding, port=args.port,
                          sync=None if args.sync is None else args.sync == "yes", online=online)
    except ValueError as e:  # a bad flag value
        raise UserError(str(e)) from None
    try:
        rows = teach(cfg)
    except (SessionError, ServerError, CheckpointError, ModelError) as e:
        raise UserError(str(e)) from None
    except TrainerStopped as e:
        raise UserError(str(e), code=1) from None
    if rows:
        steps = sum(r["steps"] for r in rows)
        print(f"{len(rows)} episodes, {steps} steps: {sum(r['action_overrides'] for r in rows)} action overrides, "
              f"{sum(r['thought_overrides'] for r in rows)} thought overrides, "
              f"{sum(r['success'] for r in rows)} successes")
        if len(rows) >= 4:
            for key in ("action_overrides", "thought_overrides"):
                rates = " ".join(f"{100 * r:.1f}%" for r in quarter_rates(rows, key))
                print(f"{key.replace('_overrides', '')} override rate per quarter of the session: {rates}")
    return 0


if __name__ == "__main__":
    run(main)
