"""Oracle Thought-DAgger (babyai.train.dagger): the oracle's labels of the states an agent reached, and rounds
that train on them and resume."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from _train_helpers import LEVEL, make_demos

from babyai.cli import call
from babyai.commands.train import USER_ERRORS
from babyai.commands.train import main as train_main


def test_relabelling_the_oracles_own_play_gives_back_its_demonstrations(tmp_path):
    """Where the agent is the oracle, the relabelled episodes are the oracle's demos of those levels, frame for frame
    (the observation acted on, the oracle's action and thought there)."""
    from babyai.agent.rollout import evaluate
    from babyai.demos.format import open_demos, write_dataset
    from babyai.train.dagger import relabelled_episodes

    demos = open_demos(make_demos(tmp_path, "oracle", 6, first_seed=40))
    records = evaluate(None, LEVEL, range(40, 46), labels=True)
    episodes = relabelled_episodes(records, "legacy", "the oracle")
    assert [ep.seed for ep in episodes] == list(range(40, 46))
    for ep, demo in zip(episodes, demos):
        assert ep.mission == demo.mission and ep.thoughts == demo.thoughts
        assert np.array_equal(ep.images, demo.images) and np.array_equal(ep.actions, demo.actions)
        assert np.array_equal(ep.directions, demo.directions)
    meta = write_dataset(str(tmp_path / "relabelled"), episodes, {"level": LEVEL})
    again = open_demos(str(tmp_path / "relabelled"))
    assert meta["num_frames"] == again.num_frames == demos.num_frames and again[2].thoughts == episodes[2].thoughts
    with pytest.raises(FileExistsError):  # never over another dataset
        write_dataset(str(tmp_path / "relabelled"), episodes, {"level": LEVEL})


def test_labels_stop_where_the_oracle_cannot_label():
    from types import SimpleNamespace

    from babyai.train.dagger import relabelled_episodes

    image = np.zeros((7, 7, 3), np.uint8)
    rec = SimpleNamespace(level=LEVEL, seed=3, mission="go to the red ball", success=False,
                          observations=[(image, 0), (image + 1, 1), (image + 2, 2)], oracle_actions=[2, None, 1],
                          oracle_thoughts=["explore unseen area", None, "explore unseen area"])
    (ep,) = relabelled_episodes([rec], "legacy", "x")
    assert list(ep.actions) == [2] and ep.thoughts == ["explore unseen area"] and not ep.success
    rec.oracle_actions, rec.oracle_thoughts = [2, 0, 1], ["explore unseen area"] * 3
    assert [len(e) for k in (0, 1, 2, 5) for e in relabelled_episodes([rec], "legacy", "x", max_steps=k)] == [3, 1, 2, 3]
    assert relabelled_episodes([SimpleNamespace(**{**rec.__dict__, "oracle_actions": [None, 1, 1]})], "legacy", "x") == []


def test_dagger_rounds_train_on_the_demos_and_every_rounds_labels_and_resume(tmp_path):
    storage = tmp_path / "storage"
    make_demos(storage, "tiny", 24, first_seed=0)
    make_demos(storage, "tiny_valid", 4, first_seed=10**9)
    argv = ["--env", LEVEL, "--demos", "tiny", "--model", "dg", "--memory-dim", "32", "--instr-dim", "32",
            "--image-dim", "16", "--batch-size", "8", "--epochs", "1", "--epoch-length", "16", "--val-episodes", "3",
            "--val-seed", "1000000", "--storage-dir", str(storage), "--threads", "1",
            "--dagger-rounds", "2", "--dagger-levels", "3", "--dagger-seed", "700"]
    assert call(train_main, argv, USER_ERRORS) == 0
    models = storage / "models"
    summary = json.loads((models / "dg" / "dagger.json").read_text())
    rounds = summary["rounds"]
    assert [r["run"] for r in rounds] == ["dg", "dg_dagger1", "dg_dagger2"]
    demo_frames = rounds[0]["oracle_labels"]
    assert rounds[2]["oracle_labels"] == demo_frames + rounds[1]["relabelled_frames"] + rounds[2]["relabelled_frames"]
    assert all(r["relabelled_frames"] > 0 and r["relabelled_episodes"] == 3 for r in rounds[1:])  # every level labelled
    second = json.loads((models / "dg_dagger2" / "config.json").read_text())["train"]
    assert second["demos"] == ["tiny", "dg_dagger1", "dg_dagger2"] and second["pretrained_model"] == "dg_dagger1"
    assert second["valid_demos"] == ["tiny_valid"]
    meta = json.loads((storage / "demos" / "dg_dagger2" / "meta.json").read_text())
    assert meta["first_seed"] == 703 and meta["relabelled_from"] == "dg_dagger1" and meta["episodes"] <= 3
    stamp = os.path.getmtime(models / "dg_dagger2" / "last.pt")
    assert call(train_main, argv, USER_ERRORS) == 0  # a rerun resumes: nothing is played or trained again
    assert os.path.getmtime(models / "dg_dagger2" / "last.pt") == stamp
    assert json.loads((models / "dg" / "dagger.json").read_text())["rounds"][1:] == rounds[1:]


@pytest.mark.parametrize("flags,message", [(["--dagger-levels", "0"], "--dagger-levels must be an integer of at least 1"),
                                           (["--dagger-seed", "-2"], "--dagger-seed must be a non-negative integer")])
def test_bad_dagger_flags_are_one_line_errors(tmp_path, capsys, flags, message):
    argv = ["--env", LEVEL, "--demos", "none", "--model", "x", "--storage-dir", str(tmp_path), "--dagger-rounds", "1"]
    assert call(train_main, [*argv, *flags], USER_ERRORS) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not os.path.exists(tmp_path / "models")
