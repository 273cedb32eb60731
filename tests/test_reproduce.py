"""scripts/reproduce.py end to end on a tiny budget: the sweep, the report, resuming without redoing, bad input."""

import json
import os
import shutil

import pytest

from conftest import run_script

TINY = ["--env", "BabyAI-GoToLocal-v0", "--demos", "24", "--valid-demos", "4", "--seeds", "1", "--epochs", "1",
        "--epoch-length", "16", "--batch-size", "8", "--memory-dim", "32", "--instr-dim", "32", "--image-dim", "16",
        "--val-episodes", "4", "--eval-episodes", "4", "--tc-eval-episodes", "4", "--levels-per-bin", "1",
        "--suite-max-seeds", "12", "--jobs", "2", "--noise-variants", "0", "--noise-seeds", "1"]
SWEEP = ["--sweep", "--sweep-levels", "GoToLocal", "GoToObj", "--sweep-alternatives", "sg_coef=1"]


def _chosen_by_the_rule(scores: dict, base: dict) -> dict:
    """The configuration babyai.study.sweep's rule picks from the probes' scores {(level, setting, method)}: the
    level of the largest TC - BC (ties: TC's score, then the first level), then the thought coefficient of the
    better TC score on that level (ties: the base's); the settings not probed stay the ``base``'s."""
    levels = ["BabyAI-GoToLocal-v0", "BabyAI-GoToObj-v0"]
    gap = {lv: (scores[lv, "base", "TC"] - scores[lv, "base", "BC"], scores[lv, "base", "TC"]) for lv in levels}
    level = max(levels, key=gap.get)
    tc = {base["sg_coef"]: scores[level, "base", "TC"], 1.0: scores[level, "sg_coef=1", "TC"]}
    return {**{k: base[k] for k in ("image_dim", "batch_size", "stop_tf", "history_noise")}, "env": level,
            "sg_coef": max(tc, key=tc.get)}


@pytest.mark.slow
def test_reproduce_sweeps_writes_the_report_and_resumes_without_redoing(tmp_path):
    storage, results = tmp_path / "storage", tmp_path / "results"
    args = ["--name", "tiny", *TINY, *SWEEP, "--storage-dir", storage, "--results-dir", results]
    run_script("reproduce.py", *args, timeout=900)
    out = results / "tiny"
    choice = json.loads((out / "choice.json").read_text())
    scores = {(p["level"], p["setting"], p["method"]): p["score"] for p in choice["probes"]}
    assert len(scores) == 2 * 2 + 1  # two levels x (TC, BC), then TC with sg_coef 1
    assert choice["chosen"] == _chosen_by_the_rule(scores, choice["base"])
    assert "| BabyAI-GoToObj-v0 | base |" in (out / "sweep.md").read_text()
    report = (out / "README.md").read_text()
    for row in ("| TC |", "| BC |", "| TC w/o thought |", "| TC noise 0% |", "Future Action Declaration Score",
                "Precrime", "steering", "The paper's claims, answered", "TC beats BC at equal frames"):
        assert row in report, row
    assert f"Configuration: development sweep (sweep.md): env={choice['chosen']['env']}" in report
    assert "python scripts/reproduce.py --name tiny" in report
    summary = json.loads((out / "summary.json").read_text())["methods"]
    assert set(summary) == {"TC", "BC", "TC w/o thought", "TC noise 0%"}
    tc = summary["TC"]
    evaluated = json.loads(next((out / "runs").rglob("evaluate_TC_seed1.json")).read_text())  # the one seed's
    percent = round(100 * evaluated["success"], 3)
    assert tc["in_distribution_success"]["per_seed"] == [percent] and tc["in_distribution_success"]["mean"] == percent
    for key in ("zero_shot_by_bin", "fads_in_distribution", "precrime", "oracle_thought_steering", "thoughts"):
        assert key in tc, key
    assert tc["thoughts"]["agreement_with_oracle"]["mean"] == round(100 * evaluated["thoughts"]["exact"], 3)
    assert tc["thoughts"]["top"]
    assert "thoughts" not in summary["TC w/o thought"] and "thoughts" not in summary["BC"]
    assert "What TC's Thought Generator says (in distribution)" in report
    assert json.loads((out / "summary.json").read_text())["env"] == choice["chosen"]["env"]
    assert tc["thoughts"]["teacher_forced_nll"]["per_seed"][0] > 0 and tc["thoughts"]["right_object"]["per_seed"][0] is not None
    assert "### Thought formation" in report and "Each method and seed: 2 optimizer steps" in report
    # the best TC agent is shipped with the results, loadable by its path
    level = choice["chosen"]["env"].removeprefix("BabyAI-").removesuffix("-v0")
    agent = out / "agents" / level
    assert sorted(p.name for p in agent.iterdir()) == ["agent.json", "best.pt", "config.json", "vocab.json"]
    assert json.loads((agent / "agent.json").read_text())["run"] == "TC_seed1"
    shown = run_script("evaluate.py", "--model", agent, "--episodes", "2", "--out-dir", tmp_path / "ev")
    assert f"on {choice['chosen']['env']}" in shown.stdout and "its thoughts, against the oracle's" in shown.stdout
    for png in ("learning_curves.png", "zeroshot_difficulty.png"):
        assert (out / png).stat().st_size > 1000
    work = storage / "reproduce_tiny"
    done = {p: p.stat().st_mtime_ns for p in list((work / "models").rglob("*.pt")) + list((out / "runs").rglob("*.json"))}
    assert len(done) >= 4 * 2 + 4 * 2 + 3  # last/best.pt of 4 runs; evaluate_*.json, finished.json of 4; TC's FADS, Precrime, steering

    kept = [p.name for p in (out / "runs").rglob("*") if p.is_file()]
    assert not [n for n in kept if n.endswith(".jsonl")] and [n for n in kept if n.endswith("_episodes.jsonl.gz")]
    again = run_script("reproduce.py", *args, timeout=900)  # a second run (as after a kill) redoes nothing
    assert {p: p.stat().st_mtime_ns for p in done} == done
    assert (out / "README.md").read_text().split("## Setup")[1] == report.split("## Setup")[1]
    assert "wrote" in again.stdout

    shutil.rmtree(work)  # another machine: only the results folder (committed) is there
    run_script("reproduce.py", *args, timeout=900)
    assert not (work / "models").exists()  # every run was kept: none retrained
    assert (out / "README.md").read_text().split("## Setup")[1] == report.split("## Setup")[1]

    other = run_script("reproduce.py", "--name", "tiny", *TINY[:-2], "--noise-seeds", "1", "2", *SWEEP,
                       "--storage-dir", storage, "--results-dir", results, check=False)
    assert other.returncode != 0
    assert other.stderr.strip().splitlines()[-1].startswith("error: reproduction tiny exists with other settings (noise_seeds [1] -> [1, 2])")


def test_reproduce_refuses_bad_flags(tmp_path):
    not_choice, choice = tmp_path / "plan.json", tmp_path / "choice.json"
    not_choice.write_text(json.dumps({"env": "BabyAI-GoToLocal-v0"}))
    choice.write_text(json.dumps({"chosen": CHOSEN}))
    for bad, message in ((["--epochs", "0"], "--epochs must be at least 1"), (["--env", "BabyAI-Nope-v0"], "unknown level"),
                         (["--name", "a/b"], "--name must be a plain folder name"),
                         (["--image-dim", "20"], "--image-dim must be a multiple of 8"),
                         (["--sweep", "--sweep-seed", "1", "--seeds", "1", "2"], "--sweep-seed 1 is one of the confirmation's"),
                         (["--sweep", "--sweep-alternatives", "lr=1"], "--sweep-alternatives: 'lr=1' is not SETTING"),
                         (["--choice", str(tmp_path / "none.json")], "--choice: no such file"),
                         (["--choice", str(not_choice)], "is not a sweep's choice.json"),
                         (["--choice", str(choice), "--sweep"], "--choice and --sweep exclude each other"),
                         (["--lr", "nan"], "--lr must be a finite number in (0, inf), got nan"),
                         (["--seeds", "-1"], "--seeds must be a non-negative integer, got -1"),
                         (["--sg-coef", "inf"], "--sg-coef must be a finite number in [0, inf), got inf"),
                         (["--variants", "aux", "dagger"], "unknown study variant 'dagger'"),
                         (["--variants", "sampling=1.5"], "study variant 'sampling=1.5': P must lie in (0, 1]")):
        proc = run_script("reproduce.py", "--name", "x", *bad, "--storage-dir", tmp_path, check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().startswith("error:") and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "reproduce_x")


CHOSEN = {"env": "BabyAI-SynthSeq-v0", "image_dim": 64, "batch_size": 32, "stop_tf": 4, "sg_coef": 2.0}


def test_choice_sets_the_level_and_settings_and_says_where_they_came_from(tmp_path):
    from babyai.study.cli import apply_choice
    from babyai.study.pipeline import Plan

    path = tmp_path / "choice.json"
    path.write_text(json.dumps({"chosen": CHOSEN, "probes": []}))
    plan = apply_choice(Plan(name="x", image_dim=32, batch_size=64, sg_coef=1.0, epochs=3), str(path))
    assert {k: getattr(plan, k) for k in CHOSEN} == CHOSEN and plan.epochs == 3
    assert plan.chosen_by.startswith("development sweep (sweep.md): env=BabyAI-SynthSeq-v0, image_dim=64")
