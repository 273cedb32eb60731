"""Running out of things (issue 28, smaller items): a full disk in generation, import and teaching is one
`error:` line and leaves nothing that looks complete; the NAME.tmpPID folders of killed imports go when the next
import or generation starts; a network too large for the machine is refused on one line (a flag, a checkpoint)."""

import errno
import os
import pickle
import subprocess
import sys

import blosc
import numpy as np
import pytest
from _agent_helpers import save_untrained
from _train_helpers import one_thread  # noqa: F401 (fixture)
from conftest import one_line_error, run_script

from babyai.agent.loading import load_checkpoint, save_checkpoint
from babyai.atomic import remove_stale_folders
from babyai.cli import call
from babyai.commands.import_demos import main as import_demos
from babyai.commands.make_agent_demos import main as make_agent_demos
from babyai.demos import DemoSpec, generate_dataset, open_demos
from babyai.demos import format as fmt
from babyai.demos.format import DemoFormatError
from babyai.storage import StorageNameError, new_demos_path

LEVEL = "BabyAI-GoToRedBallNoDists-v0"


class FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def fill_disk_after(monkeypatch, writes: int) -> None:
    """The shard and meta.json writes of ``babyai.demos.format`` fail after the first ``writes`` files."""
    real_open, opened = open, []

    def open_(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if "w" in mode:
            opened.append(path)
            return FullDisk(f) if len(opened) > writes else f
        return f

    monkeypatch.setattr(fmt, "open", open_, raising=False)


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err.strip().splitlines()[-1]


def test_a_full_disk_in_generation_is_one_line_and_the_dataset_stays_incomplete(tmp_path, monkeypatch, capsys):
    argv = ["--env", LEVEL, "--episodes", "6", "--save-interval", "2", "--demos", "d", "--storage-dir", str(tmp_path)]
    fill_disk_after(monkeypatch, 2)  # meta.json, the first shard
    assert call(make_agent_demos, argv) == 1
    assert error_line(capsys).startswith("error: no space left on the device")
    folder = tmp_path / "demos" / "d"
    assert sorted(os.listdir(folder)) == ["meta.json", "shard-00000.tcd"]  # no half-written file
    with pytest.raises(DemoFormatError, match="incomplete"):
        open_demos(str(folder))
    monkeypatch.undo()
    assert call(make_agent_demos, argv) == 0  # space freed: the same command resumes
    assert len(open_demos(str(folder))) == 6


def test_a_full_disk_in_an_import_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    generate_dataset(str(tmp_path / "src"), DemoSpec(LEVEL, 4, 0), progress=False)
    demos = [(ep.mission, blosc.pack_array(ep.images), ep.directions.tolist(), ep.actions.tolist(), ep.thoughts,
              ep.seed) for ep in open_demos(str(tmp_path / "src"))]
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(demos))
    argv = [str(tmp_path / "old.pkl"), "--env", LEVEL, "--demos", "imp", "--trust-pickle", "--save-interval", "2",
            "--storage-dir", str(tmp_path / "s")]
    fill_disk_after(monkeypatch, 1)
    assert call(import_demos, argv) == 1
    assert error_line(capsys).startswith("error: no space left on the device")
    assert os.listdir(tmp_path / "s" / "demos") == []


def test_a_full_disk_while_teaching_keeps_the_episodes_before(tmp_path, monkeypatch):
    from babyai.teach.data import TeachingWriter, make_episode, Step
    from babyai.teach.server import Controller

    ep = make_episode(LEVEL, 3, "go to the red ball", [Step(np.zeros((7, 7, 3), np.uint8), 0, "", 2, "", 2)],
                      True, 0, "human", "done")
    writer = TeachingWriter(str(tmp_path / "t"), str(tmp_path / "teaching.csv"), LEVEL)
    writer.add(ep)
    fill_disk_after(monkeypatch, 0)
    with pytest.raises(OSError):
        writer.add(ep)
    assert sorted(os.listdir(tmp_path / "t")) == ["meta.json", "shard-00000.tcd"]
    monkeypatch.undo()
    writer.add(ep)  # the failed episode left nothing behind, in memory or on disk
    assert len(open_demos(str(tmp_path / "t"))) == writer.num_episodes == 2

    class Session:  # a move that cannot be saved
        ended = False

        def act(self, action):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def end(self, keep_unfinished):
            self.ended = True

    controller = Controller(Session())
    assert controller.handle({"type": "approve"}).startswith("the disk is full: the session ended")
    assert controller.session.ended and controller.error.errno == errno.ENOSPC  # serve() raises it: one line


def test_a_full_disk_quoted_by_torch_save_is_one_line():
    from babyai.errors import disk_full

    error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 768 vs 662 [Errno 28] No "
                         "space left on device")
    assert disk_full(error).errno == errno.ENOSPC and disk_full(RuntimeError("Errno 2")) is None


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_folders_of_killed_imports_go_when_the_next_import_or_generation_starts(tmp_path):
    demos = tmp_path / "demos"
    stale, running = demos / f"a.tmp{dead_pid()}", demos / f"b.tmp{os.getpid()}"
    for folder in (stale, running, demos / "c.tmp"):
        folder.mkdir(parents=True)
    generate_dataset(str(demos / "d"), DemoSpec(LEVEL, 1, 0), progress=False)
    assert sorted(os.listdir(demos)) == ["b.tmp" + str(os.getpid()), "c.tmp", "d"]
    stale.mkdir()
    assert remove_stale_folders(str(demos)) == [stale.name]  # what the importers' atomic_folder calls
    with pytest.raises(StorageNameError, match="temporary folder"):
        new_demos_path("x.tmp123", str(tmp_path))


def test_a_network_too_large_for_the_machine_is_one_line(tmp_path):
    folder = save_untrained(str(tmp_path / "models" / "m"), "bc", memory_dim=16, instr_dim=16)
    ckpt = load_checkpoint(os.path.join(folder, "best.pt"))
    ckpt["model_config"]["memory_dim"] = 2_000_000
    save_checkpoint(os.path.join(folder, "best.pt"), ckpt)
    proc = run_script("evaluate.py", "--model", "m", "--env", LEVEL, "--episodes", 1, "--workers", 0,
                      storage=tmp_path, check=False)
    one_line_error(proc, "best.pt", "memory_dim 2000000", "more than this machine's memory")


def test_idm_channels_too_large_for_the_machine_is_one_line(tmp_path, capsys):
    from babyai.observe.cli import idm_main
    from babyai.observe.embodiment import EmbodimentSpec, generate_embodiment

    generate_embodiment(str(tmp_path / "demos" / "e"), EmbodimentSpec(LEVEL, 4, first_seed=0), progress=False)
    assert call(idm_main, ["--env", LEVEL, "--embodiment", "e", "--model", "big", "--channels", "100000000",
                           "--storage-dir", str(tmp_path)]) != 0
    assert "--channels 100000000 makes a network of" in error_line(capsys)
    assert not (tmp_path / "models" / "big").exists()
