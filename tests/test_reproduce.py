"""scripts/reproduce.py end to end on a tiny budget: the report, resuming without redoing, bad input."""

import os

from conftest import run_script

TINY = ["--env", "BabyAI-GoToLocal-v0", "--demos", "24", "--valid-demos", "4", "--seeds", "1", "--epochs", "1",
        "--epoch-length", "16", "--batch-size", "8", "--memory-dim", "32", "--instr-dim", "32", "--val-episodes", "4",
        "--eval-episodes", "4", "--tc-eval-episodes", "4", "--levels-per-bin", "1", "--suite-max-seeds", "12",
        "--jobs", "2"]


def test_reproduce_writes_the_report_and_resumes_without_redoing(tmp_path):
    storage, results = tmp_path / "storage", tmp_path / "results"
    args = ["--name", "tiny", *TINY, "--storage-dir", storage, "--results-dir", results]
    run_script("reproduce.py", *args, timeout=900)
    report = (results / "tiny" / "README.md").read_text()
    for row in ("| TC |", "| BC |", "| TC w/o thought |", "Future Action Declaration Score", "Precrime", "steering"):
        assert row in report, row
    assert "python scripts/reproduce.py --name tiny" in report
    for png in ("learning_curves.png", "zeroshot_difficulty.png"):
        assert (results / "tiny" / png).stat().st_size > 1000
    work = storage / "reproduce_tiny"
    done = {p: p.stat().st_mtime_ns for p in list((work / "models").rglob("*.pt")) + list((work / "eval").rglob("*.json"))}
    assert len(done) >= 3 * 2 + 3 + 3  # last.pt and best.pt of 3 runs; evaluate_*.json of 3 runs; TC's FADS, Precrime, steering

    again = run_script("reproduce.py", *args, timeout=900)  # a second run (as after a kill) redoes nothing
    assert {p: p.stat().st_mtime_ns for p in done} == done
    assert (results / "tiny" / "README.md").read_text().split("## Setup")[1] == report.split("## Setup")[1]
    assert "wrote" in again.stdout

    other = run_script("reproduce.py", *args[:-4], "--epochs", "2", "--storage-dir", storage, "--results-dir", results,
                       check=False)
    assert other.returncode != 0
    assert other.stderr.strip().splitlines()[-1].startswith("error: reproduction tiny exists with other settings (epochs 1 -> 2)")


def test_reproduce_refuses_bad_flags(tmp_path):
    for bad, message in ((["--epochs", "0"], "--epochs must be at least 1"), (["--env", "BabyAI-Nope-v0"], "unknown level"),
                         (["--name", "a/b"], "--name must be a plain folder name")):
        proc = run_script("reproduce.py", "--name", "x", *bad, "--storage-dir", tmp_path, check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().startswith("error:") and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "reproduce_x")
