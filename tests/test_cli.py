"""The one error path (babyai.cli) and the commands package every script and stage runs through."""

import importlib
import os

import pytest

from babyai.cli import UserError, call
from babyai.levels import make_env

COMMANDS = ["make_agent_demos", "show_demos", "import_demos", "train_tc", "train_il", "make_testing_levels", "evaluate",
            "evaluate_levels", "evaluate_fads", "evaluate_precrime", "evaluate_steering", "visualize", "plot_logs", "export_minari", "import_minari"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_user_errors_are_one_line_and_bugs_keep_their_traceback(capsys, monkeypatch):
    monkeypatch.delenv("BABYAI_DEBUG", raising=False)

    def unknown_level(argv):
        make_env("BabyAI-GoToLocl-v0")

    assert call(unknown_level) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "GoToLocal" in err and err.count("\n") == 1
    assert call(lambda argv: (_ for _ in ()).throw(UserError("bad\nsecond line", 3))) == 3
    assert capsys.readouterr().err == "error: bad\n"
    with pytest.raises(ZeroDivisionError):  # not a user error: a bug, with its traceback
        call(lambda argv: 1 / 0)
    assert call(lambda argv: int("x"), extra=(ValueError,)) == 2  # a command may declare more user errors
    monkeypatch.setenv("BABYAI_DEBUG", "1")
    with pytest.raises(UserError):
        call(lambda argv: (_ for _ in ()).throw(UserError("shown with its traceback")))


@pytest.mark.parametrize("name", COMMANDS)
def test_every_script_runs_its_command_module(name):
    module = importlib.import_module(f"babyai.commands.{name}")
    assert callable(module.main) and module.__doc__
    with open(os.path.join(ROOT, "scripts", f"{name}.py")) as f:
        assert f'run_module("babyai.commands.{name}"' in f.read()  # scripts/NAME.py is that module
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
