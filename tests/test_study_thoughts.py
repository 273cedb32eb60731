"""The study report's account of TC's thoughts: steps counted from the kept episodes, shares pooled over
seeds, agreement taken from the steering evaluation."""

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
    assert prof["agreement_with_oracle"] == [0.25, None] and prof["distinct"] == [3, 1]
    assert prof["declaring"] == [0.5, 0.0]  # "open door" names no colour: it declares nothing
    assert prof["top"] == [["open door", 50.0], ["explore", 25.0], ["open red door", 12.5]]


def test_no_thoughts_no_profile_and_no_line(tmp_path):
    assert thoughts.thought_counts(str(tmp_path / "missing.jsonl.gz")) == {}
    assert thoughts.profile([{"thoughts": {}, "steering": None}]) is None
    assert thoughts.line(None, str) == [] and thoughts.line({"distinct": [1], "top": []}, str) == []
