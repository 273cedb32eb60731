"""scripts/report_ifo.py end to end at a tiny scale: every method runs, the README and results.json say what
was run, a second run trains nothing again, a run lost in a kill is redone alone; bad input is refused."""

from __future__ import annotations

import json
import os
import shutil

from conftest import one_line_error, run_script

from tests._train_helpers import one_thread  # noqa: F401 (fixture: the report evaluates on one thread too)

LEVEL = "BabyAI-GoToLocal-v0"
METHODS = ["random policy", "BC (true actions)", "BCO", "TC from observation", "IIDM", "AIME", "AIME (marginal)"]
TINY = ["--env", LEVEL, "--name", "tiny", "--demos", "4", "--embodiment", "3", "6", "--seeds", "1", "--epochs", "1",
        "--idm-epochs", "1", "--wm-updates", "2", "--aime-updates", "2", "--iidm-epochs", "1", "--eval-episodes", "2"]


def _replayed(storage, method: str) -> dict:
    """What the report's run of ``method`` (seed 1) scores when its saved agent plays the 2 evaluation levels
    again (the random policy: when it plays them again)."""
    from babyai.agent.loading import load_policy
    from babyai.observe.constants import ReportConfig
    from babyai.observe.mains import load_aime, load_iidm
    from babyai.observe.report import random_success
    from babyai.observe.runs import success

    if method == "random policy":
        return random_success(ReportConfig(level=LEVEL, eval_episodes=2), 1)
    tags = {"BC (true actions)": "bc", "BCO": "bco", "TC from observation": "tcobs", "IIDM": "iidm",
            "AIME": "aime", "AIME (marginal)": "aimem"}
    name = f"tiny_{tags[method]}_seed1"
    if method == "IIDM":
        agent = load_iidm(str(storage / "models" / name / "iidm.pt"))
    elif method.startswith("AIME"):
        agent = load_aime(str(storage / "models" / name / "aime.pt"))
    else:
        agent = load_policy(name, str(storage))
    return success(agent, LEVEL, 2, ReportConfig().eval_seed)


def _stamps(root) -> dict:
    """{path: mtime_ns} of every file under ``root``."""
    out = {}
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            out[path] = os.stat(path).st_mtime_ns
    return out


def test_report_runs_every_method_and_resumes(tmp_path):
    storage, out = tmp_path / "storage", tmp_path / "results"
    args = [*TINY, "--storage-dir", storage, "--out", out]
    run_script("report_ifo.py", *args)
    folder = out / "tiny"
    assert sorted(os.listdir(folder)) == ["README.md", "command.txt", "embodiment.png", "results.json", "success.png"]
    results = json.loads((folder / "results.json").read_text())
    assert list(results["methods"]) == METHODS
    for name, runs in results["methods"].items():
        assert len(runs) == 1 and runs[0]["episodes"] == 2 and runs[0]["cpu_seconds"] > 0, name
        replayed = _replayed(storage, name)  # the result is the saved agent's, on the report's levels
        assert {k: runs[0][k] for k in replayed} == replayed, name
    assert sorted(results["idm"]) == ["3", "6"] and sorted(results["bco_vs_embodiment"]) == ["3", "6"]
    assert results["settings"]["level"] == LEVEL and results["settings"]["aime_updates"] == 2
    readme = (folder / "README.md").read_text()
    assert (folder / "command.txt").read_text().strip() in readme
    for name in METHODS:
        assert f"| {name} | " in readme
    assert "Partial report" not in readme
    assert "What AIME can learn from this world model" in readme and "- AIME (marginal), seed 1: " in readme.split("most likely actions")[1]

    models = storage / "models"
    before = _stamps(models)
    run_script("report_ifo.py", *args)  # everything finished: nothing is trained or evaluated again
    assert _stamps(models) == before
    assert json.loads((folder / "results.json").read_text()) == results

    changed = [*TINY[: TINY.index("--aime-updates") + 1], "3", *TINY[TINY.index("--aime-updates") + 2 :]]
    one_line_error(run_script("report_ifo.py", *changed, "--storage-dir", storage, "--out", out, check=False),
                   "was made with other settings (aime_updates 2 -> 3)")
    assert _stamps(models) == before

    shutil.rmtree(models / "tiny_aime_seed1")  # as if killed in the middle of that run
    run_script("report_ifo.py", *args)
    after = _stamps(models)
    redone = {p for p in after if p not in before or after[p] != before[p]}
    assert redone and all(os.sep + "tiny_aime_seed1" + os.sep in p for p in redone)


def test_only_finished_before_anything_ran(tmp_path):
    proc = run_script("report_ifo.py", *TINY, "--storage-dir", tmp_path / "s", "--out", tmp_path / "r",
                      "--only-finished", check=False)
    assert proc.returncode == 1 and proc.stderr.strip().startswith("error: nothing of the report tiny is finished")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "r")


def test_bad_input_is_one_line(tmp_path):
    base = ["--storage-dir", tmp_path / "s", "--out", tmp_path / "r"]
    proc = run_script("report_ifo.py", *base, "--env", "BabyAI-NoSuchLevel-v0", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: ") and "NoSuchLevel" in lines[0]
    for flags, needle in ((["--epochs", "0"], "--epochs must be >= 1"),
                          (["--embodiment", "10", "0"], "--embodiment must be >= 1"),
                          (["--seeds", "1", "1"], "--seeds must be distinct")):
        proc = run_script("report_ifo.py", *base, *flags, check=False)
        assert proc.returncode == 2 and needle in proc.stderr.strip().splitlines()[-1], proc.stderr
    assert not os.path.exists(tmp_path / "s") and not os.path.exists(tmp_path / "r")


def test_names_that_leave_the_storage_are_refused(tmp_path):
    """report_ifo.py --name and make_embodiment_data.py --demos write nothing outside the storage."""
    storage = tmp_path / "a" / "b" / "s"
    storage.mkdir(parents=True)
    small = ["--demos", "2", "--embodiment", "2", "--seeds", "0", "--epochs", "1", "--idm-epochs", "1",
             "--wm-updates", "1", "--aime-updates", "1", "--iidm-epochs", "1", "--eval-episodes", "1"]
    for name in ("../../x", str(tmp_path / "x"), ".."):
        proc = run_script("report_ifo.py", "--storage-dir", storage, "--out", tmp_path / "r", "--name", name, *small,
                          check=False)
        one_line_error(proc, "--name must be a plain name", repr(name))
        proc = run_script("make_embodiment_data.py", "--env", "BabyAI-GoToLocal-v0", "--episodes", "2", "--demos",
                          name, "--storage-dir", storage, check=False)
        one_line_error(proc, "--demos must be a plain name", repr(name))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "s"]  # nothing written anywhere
