"""One writer per dataset and per run folder, with two real processes; stale locks and temp files."""

import os
import signal
import subprocess
import sys

import pytest
from conftest import ROOT, one_line_error, run_script

from babyai.demos import DemoSpec, generate_dataset, open_demos
from babyai.locks import LOCK_NAME, LockError, hold, remove_temp_files

HOLDER = """
import sys, time
from babyai.locks import acquire
acquire(sys.argv[1], "test")
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder():
    """Start a process that takes a folder's lock and keeps it; yields start(folder) -> Popen."""
    procs = []

    def start(folder):
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE,
                                text=True, env=env)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_second_generator_is_refused_and_a_dead_holders_lock_taken_over(tmp_path, holder):
    storage = tmp_path / "storage"
    folder = storage / "demos" / "d"
    args = ("--env", "GoToRedBallNoDists", "--episodes", 3, "--demos", "d")
    first = holder(folder)
    one_line_error(run_script("make_agent_demos.py", *args, storage=storage, check=False),
                   f"process {first.pid}", str(folder))
    assert sorted(os.listdir(folder)) == [LOCK_NAME]  # the refused command wrote nothing
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert (folder / LOCK_NAME).exists()  # a stale lock, left by a killed process
    run_script("make_agent_demos.py", *args, storage=storage)  # takes it over
    assert len(open_demos(str(folder))) == 3 and LOCK_NAME not in os.listdir(folder)


def test_a_second_training_on_one_run_folder_is_refused(tmp_path, holder):
    storage = tmp_path / "storage"
    generate_dataset(str(storage / "demos" / "d"), DemoSpec("BabyAI-GoToRedBallNoDists-v0", 4, 1),
                     progress=False)
    run = storage / "models" / "run"
    first = holder(run)
    proc = run_script("train_tc.py", "--env", "GoToRedBallNoDists", "--demos", "d", "--model", "run",
                      "--memory-dim", 16, "--instr-dim", 16, "--batch-size", 4, "--epochs", 1,
                      "--val-episodes", 1, "--val-seed", 10**6, storage=storage, check=False)
    one_line_error(proc, f"process {first.pid}", "in use")
    assert sorted(os.listdir(run)) == [LOCK_NAME]


def test_in_one_process_too_a_held_folder_is_refused(tmp_path):
    folder = tmp_path / "f"
    with hold(str(folder), "run"):
        with pytest.raises(LockError, match=f"process {os.getpid()}"):
            with hold(str(folder), "run"):
                pass
    assert not folder.exists()  # made for the lock and left empty: gone


def test_temp_files_of_killed_writers_are_removed_on_the_next_run(tmp_path):
    folder = tmp_path / "d"
    spec = DemoSpec("BabyAI-GoToRedBallNoDists-v0", 4, 1, shard_size=2)
    generate_dataset(str(folder), spec, progress=False)
    meta = (folder / "meta.json").read_text()
    (folder / "meta.json").write_text(meta.replace('"complete": true', '"complete": false'))
    os.remove(folder / "shard-00001.tcd")
    stale = ["shard-00001.tcd.4242.tmp", "meta.json.4243.tmp", "shard-00001.tcd.tmp"]
    for name in stale:
        (folder / name).write_bytes(b"x" * 100)
    generate_dataset(str(folder), spec, progress=False)  # resumes
    assert sorted(os.listdir(folder)) == ["meta.json", "shard-00000.tcd", "shard-00001.tcd"]
    run = tmp_path / "run"
    run.mkdir()
    for name in ("last.pt.tmp4242", "best.pt.tmp17", "log.csv", "config.json"):
        (run / name).write_text("x")
    assert remove_temp_files(str(run)) == ["best.pt.tmp17", "last.pt.tmp4242"]


def test_two_processes_writing_a_shard_use_their_own_temporary_names(tmp_path, monkeypatch):
    # the name is the writer's own: another writer's temporary file is never overwritten
    from babyai.demos import format as fmt

    names = []
    real_open = open

    def spy(path, mode="r", *args, **kwargs):
        if "w" in mode:
            names.append(os.path.basename(str(path)))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(fmt, "open", spy, raising=False)
    fmt.write_shard(str(tmp_path / "shard-00000.tcd"), [])
    assert names == [f"shard-00000.tcd.{os.getpid()}.tmp"]
