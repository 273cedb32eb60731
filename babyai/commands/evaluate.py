"""Success rate of a trained agent (TC or BC) on fresh levels of one level family.

    python -m babyai.commands.evaluate --model NAME --episodes 512     # on the level NAME was trained on

Prints the success rate, mean return and mean episode length (with the spread over episodes) and
writes <storage>[/GROUP]/evaluate_<model>_<Level>_s<seed>_n<episodes>_<best|last>[_argmax].json (e.g.
evaluate_tc_GoToLocal_s3000000000_n512_best.json; no _best/_last for BOT) and its per-episode records
(the same name ending _episodes.jsonl), so that no evaluation replaces another's. With --out-dir (a folder
per model, as scripts/reproduce.py gives) they are evaluate_<model>.json and evaluate_<model>_episodes.jsonl.
--env plays another level than the model's own (said on stderr); --model BOT runs the oracle (a calibration;
--env required). A Thought Cloning agent plays with the oracle replanning alongside: the result's "thoughts"
holds the share of steps whose thought is the oracle's in the same state ("exact") and names the oracle's
object ("right_object").
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.commands.common import add_model_args, add_rollout_args, note_threads, percent, set_threads, spec_from_args
from babyai.evaluate.io import evaluation_stem, write_json, write_jsonl
from babyai.evaluate.session import Evaluation


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import episode_summary, evaluate
    from babyai.agent.thought_quality import played_agreement

    ev = Evaluation(spec_from_args(args))
    note_threads(ev.note)
    thinks = ev.policy is not None and ev.policy.thinks
    records = evaluate(ev.policy, ev.level, ev.seeds, oracle=thinks, **ev.common)  # the oracle beside a thinker
    name, level = ev.name, ev.level
    report = {"model": name, "level": level, "first_seed": args.seed, "episodes": len(records), "argmax": args.argmax,
              "checkpoint": ev.checkpoint or None, **episode_summary(records)}
    if thinks:  # how often its own thoughts are the oracle's in the same state (babyai.agent.thought_quality)
        report["thoughts"] = played_agreement(records).rates()
    stem = (f"evaluate_{name}" if args.out_dir
            else evaluation_stem(name, level, args.seed, len(records), ev.checkpoint, args.argmax))
    write_jsonl(os.path.join(ev.out, f"{stem}_episodes.jsonl"), (r.to_dict() for r in records))
    write_json(os.path.join(ev.out, f"{stem}.json"), report)
    print(f"{name} on {level}, {len(records)} episodes from seed {args.seed}: success {percent(report['success'])}, "
          f"return {report['return_mean']:.3f} +- {report['return_std']:.3f}, "
          f"length {report['length_mean']:.1f} +- {report['length_std']:.1f}")
    if thinks:
        t = report["thoughts"]
        print(f"its thoughts, against the oracle's in the same state ({t['steps']} steps): exact {percent(t['exact'])}, "
              f"right object {percent(t['right_object'])}")
    print(f"wrote {os.path.join(ev.out, stem + '.json')}")
    return 0


if __name__ == "__main__":
    run(main)
