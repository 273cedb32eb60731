"""Hostile input: names that would write outside the storage folder, values that trained nonsense
or crashed later, damaged files. Each is one `error:` line and a non-zero exit, and writes nothing."""

import json
import os

import pytest
from _agent_helpers import save_untrained
from _train_helpers import one_thread  # noqa: F401
from conftest import one_line_error, run_script

from babyai.agent.loading import load_checkpoint, load_policy, save_checkpoint
from babyai.agent.policy import ModelError
from babyai.cli import call
from babyai.commands.train import USER_ERRORS
from babyai.commands.train import main as train
from babyai.demos import DemoSpec, generate_dataset
from babyai.demos.format import write_meta
from babyai.evaluate.suites import Difficulty, Suites, SuiteError, load_suites, save_suites
from babyai.storage import StorageNameError, demos_path, group_root, model_dir, new_demos_path
from babyai.train.run import TrainConfig

LEVEL = "BabyAI-GoToRedBallNoDists-v0"


def train_main(argv) -> int:
    """The exit status of the training command (one error line for bad input), as a script gets it."""
    return call(train, argv, USER_ERRORS)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    generate_dataset(str(root / "demos" / "d"), DemoSpec(LEVEL, 8, 1), progress=False)
    generate_dataset(str(root / "demos" / "d_valid"), DemoSpec(LEVEL, 2, 10**9), progress=False)
    os.makedirs(root / "demos" / "empty")
    write_meta(str(root / "demos" / "empty"), {"level": LEVEL, "complete": True, "num_shards": 0,
                                                "num_episodes": 0, "num_frames": 0})
    return root


# ------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../../escape", "sub/dir", ".", "..", "/abs", "a\0b"])
def test_names_are_plain_names_under_the_storage_folder(name, tmp_path):
    for make in (new_demos_path, model_dir, group_root):
        with pytest.raises(StorageNameError):
            make(name, str(tmp_path))
    with pytest.raises(StorageNameError):
        model_dir("", str(tmp_path))
    inside = str(tmp_path / "demos" / "x")  # a dataset to write may be a path inside the storage
    assert new_demos_path(inside, str(tmp_path)) == inside
    assert group_root("", str(tmp_path)) == str(tmp_path)  # no group
    assert demos_path(str(tmp_path), "x") == str(tmp_path)  # reading by an explicit path stays


@pytest.mark.parametrize("name", ["../../escape", "sub/dir"])
def test_generation_never_writes_outside_storage(name, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = run_script("make_agent_demos.py", "--env", LEVEL, "--episodes", 1, "--demos", name,
                      "--storage-dir", cwd / "storage", check=False)
    one_line_error(proc, "--demos must be a plain name (or a path inside the storage")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cwd"]


def files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


TRAIN = ["--env", "GoToRedBallNoDists", "--demos", "d", "--memory-dim", "16", "--instr-dim", "16",
         "--batch-size", "4", "--epochs", "1", "--val-episodes", "1", "--val-seed", "1000000"]


@pytest.mark.parametrize("flags, needle", [
    (["--model", "."], "--model must be a plain name"),
    (["--model", "../x"], "--model must be a plain name"),
    (["--model", "r", "--expr-group-name", "../../x"], "--expr-group-name must be a plain name"),
    (["--model", "r", "--seed", "9223372036854775807"], "--seed 9223372036854775807 goes past"),
    (["--model", "r", "--device", "foo"], "--device 'foo' is not a device"),
    (["--model", "r", "--sg-coef", "nan"], "--sg-coef must be a finite number"),
    (["--model", "r", "--lr", "inf"], "--lr must be a finite number"),
    (["--model", "r", "--patience", "-1"], "--patience must be an integer of at least 0"),
    (["--model", "r", "--val-seed", "-5"], "--val-seed must be a non-negative integer"),
    (["--model", "r", "--demos", "empty"], "the demos empty hold no episodes"),
])
def test_training_refuses_bad_values_up_front(store, capsys, flags, needle):
    before = files(store)
    assert train_main(["--storage-dir", str(store), *TRAIN, *flags]) == 2  # the last --demos counts
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: " in err[0] and needle in err[0], err
    assert files(store) == before  # nothing written


@pytest.mark.parametrize("args, needle", [
    (["--episodes", 0], "--episodes must be >= 1"),
    (["--episodes", 5, "--seed", 2**63 - 3], "goes past the largest seed"),
])
def test_generation_refuses_bad_counts_and_seeds(tmp_path, args, needle):
    proc = run_script("make_agent_demos.py", "--env", LEVEL, "--demos", "x", *args,
                      storage=tmp_path, check=False)
    assert proc.returncode == 2 and needle in proc.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "demos").exists()


# ------------------------------------------------------------------------------- levels
def test_short_and_long_level_ids_are_one_level(store, capsys):
    # the short form used to warn that validation runs on another level, and to refuse resuming
    short = ["--storage-dir", str(store), *TRAIN, "--model", "same"]  # the demos say LEVEL
    assert train_main(short) == 0
    out = capsys.readouterr().out
    assert "training on 8 episodes" in out and "validation runs on" not in out
    long = [LEVEL if a == "GoToRedBallNoDists" else a for a in short]
    assert train_main(long) == 0
    assert "already finished" in capsys.readouterr().out
    assert TrainConfig("tc", "r", ["GoToLocal"], ["d"], [0]).envs == ["BabyAI-GoToLocal-v0"]


# ------------------------------------------------------------------------------- files
def test_a_suite_seed_must_be_a_seed(tmp_path):
    suites = Suites(LEVEL, "legacy", 0, 1, 1)
    suites.bins["demo"][25] = [Difficulty(-5, 10, 1)]
    save_suites(suites, str(tmp_path / "s.json"))
    with pytest.raises(SuiteError, match="level seed -5 is not a seed"):
        load_suites(str(tmp_path / "s.json"))
    proc = run_script("evaluate_levels.py", "--env", LEVEL, "--model", "BOT", "--testing-levels-path",
                      tmp_path / "s.json", "--no-plot", "--workers", 0, storage=tmp_path, check=False)
    one_line_error(proc, "level seed -5")


def test_a_checkpoint_without_its_weights_is_refused(tmp_path):
    folder = save_untrained(str(tmp_path / "models" / "m"), "bc", memory_dim=16, instr_dim=16)
    ckpt = load_checkpoint(os.path.join(folder, "best.pt"))
    del ckpt["model"]
    save_checkpoint(os.path.join(folder, "best.pt"), ckpt)
    with pytest.raises(ModelError, match="'model'"):
        load_policy("m", str(tmp_path))
    proc = run_script("evaluate.py", "--model", "m", "--env", LEVEL, "--episodes", 1,
                      "--workers", 0, storage=tmp_path, check=False)
    one_line_error(proc, "model m")


@pytest.mark.parametrize("flags, needle", [
    (["--device", "foo"], "--device 'foo' is not a device"),
    (["--seed", "-5"], "--seed must be a non-negative integer"),
    (["--expr-group-name", "../x"], "--expr-group-name must be a plain name"),
])
def test_evaluation_refuses_bad_flags(tmp_path, flags, needle):
    save_untrained(str(tmp_path / "models" / "m"), "bc", memory_dim=16, instr_dim=16)
    proc = run_script("evaluate.py", "--model", "m", "--env", LEVEL, "--episodes", 1, "--workers", 0,
                      *flags, storage=tmp_path, check=False)
    one_line_error(proc, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_meta_json_of_the_wrong_type_is_one_line(store, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(store / "demos" / "d", bad)
    meta = json.loads((bad / "meta.json").read_text())
    (bad / "meta.json").write_text(json.dumps({**meta, "num_shards": "four"}))
    proc = run_script("show_demos.py", bad, check=False)
    one_line_error(proc, "num_shards is 'four'")
