"""The study report's account of TC's thoughts: steps counted from the kept episodes, shares pooled over
seeds; thought formation from the evaluation's thought agreement (the steering evaluation's for older runs)
and the validation thought NLL of the best validation."""

import gzip
import json

from babyai.study import thoughts


def _episodes(path, episodes):
    with gzip.open(path, "wt") as f:
        for ts in episodes:
            f.write(json.dumps({"thoughts": ts, "length": len(ts)}) + "\n")


def test_counts_every_step_and_pools_shares_over_seeds(tmp_path):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    _episodes(a, [["explore", "explore", "Open red door"], ["pickup a key"]])
    _episodes(b, [["open door"] * 4])
    ca, cb = thoughts.thought_counts(str(a)), thoughts.thought_counts(str(b))
    assert ca == {"explore": 2, "open red door": 1, "pickup a key": 1} and cb == {"open door": 4}
    steering = lambda agree: {"rows": [{"agent": "TC", "agrees_with_oracle_thought": agree},
                                       {"agent": "oracle thoughts + TC learned control", "agrees_with_oracle_thought": 0.9}]}
    prof = thoughts.profile([{"thoughts": ca, "steering": steering(0.25)}, {"thoughts": cb, "steering": None}])
    assert prof["distinct"] == [3, 1]
    assert prof["declaring"] == [0.5, 0.0]  # "open door" names no colour: it declares nothing
    assert prof["top"] == [["open door", 50.0], ["explore", 25.0], ["open red door", 12.5]]


def test_no_thoughts_no_profile_and_no_line(tmp_path):
    assert thoughts.thought_counts(str(tmp_path / "missing.jsonl.gz")) == {}
    assert thoughts.profile([{"thoughts": {}, "steering": None}]) is None
    assert thoughts.line(None, str) == [] and thoughts.line({"distinct": [1], "top": []}, str) == []


def test_formation_reads_the_evaluation_then_the_steering_and_the_best_validation():
    from babyai.study.report import _stat

    log = [{"validation_success_rate": "0.5", "validation_thought_nll": "2.0"},
           {"validation_success_rate": "0.75", "validation_thought_nll": "0.5"},
           {"validation_success_rate": "0.75", "validation_thought_nll": "0.25"},  # not better: best.pt stays
           {"validation_success_rate": "", "validation_thought_nll": ""}]
    new = {"eval": {"thoughts": {"steps": 10, "exact": 0.5, "right_object": 0.9}}, "steering": None, "log": log}
    old = {"eval": {"success": 0.1}, "log": [],
           "steering": {"rows": [{"agent": "TC", "agrees_with_oracle_thought": 0.25}]}}
    got = thoughts.formation([new, old], _stat)
    assert got["agreement_with_oracle"]["per_seed"] == [50.0, 25.0]
    assert got["right_object"]["per_seed"] == [90.0, None] and got["right_object"]["mean"] == 90.0
    assert got["teacher_forced_nll"]["per_seed"] == [0.5, None]
    assert thoughts.formation([new], _stat, "last")["teacher_forced_nll"]["per_seed"] == [0.25]  # the last model's
    numbers = {"methods": {"TC": {"thoughts": got}, "BC": {}}}
    table = thoughts.formation_table(numbers, lambda s: f"{s['mean']:.1f}%")
    assert table[-1] == "| TC | 0.50 ± 0.00 | 37.5% | 90.0% |" and len(table) == 5
