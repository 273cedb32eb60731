"""The thread count of torch: chosen once when a command starts (--threads; 0: from the cores and the load)."""

import pytest
import torch

from babyai.threads import auto_threads, choose_threads


def test_the_automatic_count_leaves_the_cores_others_use():
    assert auto_threads(2, 0.1) == 2  # an idle 2-core machine: both
    assert auto_threads(2, 1.0) == 1 and auto_threads(2, 4.0) == 1  # busy: one thread, never zero
    assert auto_threads(16, 4.2) == 12 and auto_threads(16, 0.0) == 16
    assert auto_threads(8, 8.0, machine=16) == 4  # half the machine's cores usable: half its load lands on them
    assert auto_threads(1, 0.0, machine=64) == 1 and auto_threads(4, -1.0) == 4


def test_an_explicit_choice_wins():
    assert choose_threads(3, environ={"OMP_NUM_THREADS": "1"}, usable=2, load=0.0) == (3, "--threads")
    assert choose_threads(0, environ={"OMP_NUM_THREADS": "4"}, usable=2, load=0.0) == (None, "OMP_NUM_THREADS=4")
    threads, why = choose_threads(0, environ={}, usable=4, load=2.0, machine=4)
    assert threads == 2 and why == "automatic: 4 usable core(s), load 2.0"
    with pytest.raises(ValueError, match="--threads must be at least 0"):
        choose_threads(-1, environ={})


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_threads_reach_torch_in_training_and_evaluation(tmp_path, monkeypatch, capsys, restore_threads):
    import babyai.train.trainer as trainer
    from babyai.cli import call
    from babyai.commands import evaluate
    from babyai.commands.train import USER_ERRORS
    from babyai.commands.train import main as train_main

    seen = []
    monkeypatch.setattr(trainer, "train", lambda cfg: seen.append(torch.get_num_threads()))
    argv = ["--env", "BabyAI-GoToLocal-v0", "--demos", "d", "--storage-dir", str(tmp_path), "--threads"]
    (tmp_path / "demos" / "d").mkdir(parents=True)  # there (train_tc.py names missing demos before training)
    assert call(train_main, argv + ["3"], USER_ERRORS) == 0 and seen == [3]
    assert call(train_main, argv + ["-2"], USER_ERRORS) == 2
    assert capsys.readouterr().err == "error: --threads must be at least 0 (0: automatic), got -2\n"
    torch.set_num_threads(1)
    assert call(evaluate.main, ["--model", "BOT", "--env", "BabyAI-GoToLocal-v0", "--episodes", "1", "--threads", "2",
                                "--out-dir", str(tmp_path)]) == 0
    assert torch.get_num_threads() == 2 and "torch: 2 thread(s) (--threads)" in capsys.readouterr().err
