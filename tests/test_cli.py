"""The one error path (babyai.cli) and the commands package every script and stage runs through."""

import importlib
import os

import pytest

from babyai.cli import call
from babyai.errors import UserError
from babyai.levels import make_env

COMMANDS = ["make_agent_demos", "show_demos", "import_demos", "train_tc", "train_il", "make_testing_levels", "evaluate",
            "evaluate_levels", "evaluate_fads", "evaluate_precrime", "evaluate_steering", "visualize", "plot_logs", "export_minari",
            "import_minari", "quickstart"]
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
def test_every_script_runs_its_command_module(name, capsys):
    module = importlib.import_module(f"babyai.commands.{name}")
    assert callable(module.main) and module.__doc__
    with open(os.path.join(ROOT, "scripts", f"{name}.py")) as f:
        assert f'run_module("babyai.commands.{name}"' in f.read()  # scripts/NAME.py is that module
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    # named as scripts/NAME.py whoever runs it (here pytest, whose sys.argv[0] is not the script)
    assert capsys.readouterr().out.startswith(f"usage: {name}.py ")


def test_the_console_script_runs_every_command(capsys):
    """setup.py's console script `thought-cloning COMMAND` is babyai.commands.cli, which runs each command module."""
    import re
    import warnings

    import babyai.commands as commands

    with open(os.path.join(ROOT, "setup.py")) as f:
        module, attr = re.search(r'"thought-cloning = ([\w.]+):(\w+)"', f.read()).groups()
    assert getattr(importlib.import_module(module), attr) is commands.cli
    assert set(COMMANDS) | {"teach"} == set(commands.COMMANDS)
    assert all(os.path.exists(os.path.join(ROOT, "babyai", "commands", f"{name}.py")) for name in commands.COMMANDS)
    with pytest.raises(SystemExit) as exit_, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # runpy: this test process imported show_demos before
        commands.cli(["show-demos", "--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("usage: show_demos.py ")
    with pytest.raises(SystemExit) as exit_:
        commands.cli(["trian_tc"])
    assert str(exit_.value.code).startswith("error: unknown command 'trian_tc': one of quickstart, ")
    with pytest.raises(SystemExit) as exit_:
        commands.cli([])
    assert exit_.value.code == 2 and capsys.readouterr().err.startswith("usage: thought-cloning COMMAND")


def test_quickstart_runs_the_pipeline_and_stops_at_a_failed_step(monkeypatch, capsys, tmp_path):
    """The quick start is a command of the package (it runs the package's commands, not scripts/)."""
    import subprocess
    import sys

    from babyai.commands import quickstart

    ran = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: ran.append(cmd) or (3 if "train_tc" in cmd[2] else 0))
    assert call(quickstart.main, ["--storage-dir", str(tmp_path)]) == 3
    assert [cmd[:3] for cmd in ran] == [[sys.executable, "-m", f"babyai.commands.{name}"]
                                        for name in ("make_agent_demos", "show_demos", "train_tc")]
    assert all(cmd[-2:] == ["--storage-dir", str(tmp_path)] for cmd in ran)
    out, err = capsys.readouterr()
    assert "\n$ scripts/train_tc.py --env BabyAI-GoToLocal-v0 " in out
    assert err == "error: quickstart: train_tc.py failed (exit status 3; its message is above)\n"
    ran.clear()
    monkeypatch.setattr(subprocess, "call", lambda cmd: ran.append(cmd[2]) or 0)
    assert call(quickstart.main, ["--epochs", "1"]) == 0 and ran[-1] == "babyai.commands.visualize" and len(ran) == 5
    with pytest.raises(SystemExit) as exit_:
        quickstart.main(["--epochs", "0"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "quickstart.py: error: --episodes and --epochs must be at least 1"


HEAVY = ("torch", "gymnasium", "minigrid", "matplotlib", "PIL", "imageio", "minari")
HELP_PROBE = """
import contextlib, io, json, os, runpy, sys
out = {}
for path in sys.argv[1:]:
    sys.argv = [path, "--help"]
    with contextlib.redirect_stdout(io.StringIO()) as text:
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit:
            pass
    out[os.path.basename(path)[:-3]] = [text.getvalue(), sorted({m.split(".")[0] for m in sys.modules} & set(%r))]
print(json.dumps(out))
"""


def test_help_is_light_and_knows_the_readme_flags():
    """--help of every script parses its flags only (torch, gymnasium, minigrid, ... are imported in main), and
    knows every flag the README gives that script."""
    import json
    import re
    import subprocess
    import sys

    names = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "scripts")) if f.endswith(".py"))
    assert set(COMMANDS) <= set(names)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", HELP_PROBE % (HEAVY,), *(os.path.join(ROOT, "scripts", f"{n}.py") for n in names)],
                          capture_output=True, text=True, env=env, timeout=300, check=True)
    helps = json.loads(proc.stdout)
    assert {name: heavy for name, (_, heavy) in helps.items()} == {name: [] for name in names}  # one process
    assert all(text.startswith("usage:") for text, _ in helps.values())
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read().replace("\\\n", " ")
    commands = re.findall(r"scripts/(\w+)\.py([^\n`]*)", readme)
    unknown = [(name, flag) for name, args in commands if name in helps
               for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", args) if flag not in helps[name][0]]
    assert len(commands) > 20 and unknown == []


def test_a_progress_bar_in_a_log_file_is_plain_lines():
    import io

    from babyai.bars import progress_bar

    log = io.StringIO()  # not a terminal
    bar = progress_bar(total=4, unit="ep", desc="demos", file=log, line_interval=0, leave=False)
    for _ in range(4):
        bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and log.getvalue().endswith("\n")
    assert lines[0].startswith("demos:   0% 0/4") and lines[-1].startswith("demos: 100% 4/4")  # the last one stays
    assert len(lines) >= 5 and all(line.startswith("demos: ") for line in lines)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    for _ in progress_bar(range(3), desc="tty", file=term, mininterval=0):
        pass
    assert "\r" in term.getvalue()  # a terminal gets tqdm's own redrawn bar


def test_help_shows_the_defaults_and_explains_the_log_line():
    import contextlib
    import io
    import re

    from babyai.commands import make_agent_demos, train
    from babyai.train.logger import _SHORT, LEGEND

    text = " ".join(train.build_parser("tc").format_help().split())
    assert "number of epochs (default: 1000000, the original's" in text and "better success rate (default: 100)" in text
    assert "(default: 1280, the original's; the paper: 180)" in text and "the original's default was 2023" in text
    assert {short for short, _ in LEGEND} == set(_SHORT.values()) | {"U", "vS"}  # every abbreviation logged
    assert all(f" {short} " in text for short, _ in LEGEND)
    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
        make_agent_demos.parse_args(["--help"])
    flags = re.split(r"\n  (?=-)", out.getvalue())  # one text per flag
    assert len(flags) > 10 and all(flag.count("(default:") <= 1 for flag in flags)
    from babyai.commands import teach

    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
        teach.parse_args(["--help"])  # teaching's own defaults of the training flags, in its help too
    text = " ".join(out.getvalue().split())
    assert "learning rate (default: 0.0005)" in text and "over all processes (default: 16)" in text
    assert "--memory-dim MEMORY_DIM width of each LSTM memory (paper: 2048) (default: 128)" in text  # model sizes
    assert "word embedding width (paper: 256) (default: 128)" in text and "studies 5-10x faster) (default: 128)" in text


def test_train_il_help_lists_no_thought_settings():
    from babyai.commands import train

    il, tc = (" ".join(train.build_parser(algo).format_help().split()) for algo in ("bc", "tc"))
    assert "--sg-coef" in tc and "thought loss" in tc and "(tf_ratio; TC only)" in tc
    assert "--sg-coef" not in il and "thought loss" not in il and "TC only" not in il and "teacher-forcing" not in il
    assert "--stop-tf STOP_TF the learning rate halves 40 epochs after this one" in il  # BC's lr schedule uses it
    flags = ["--env", "GoToLocal", "--demos", "d", "--sg-coef", "3", "--stop-tf", "20"]
    args = train.build_parser("bc").parse_args(flags)
    il_cfg = train.config_from_args(args, "bc", "train_il.py")  # one command line serves both
    assert il_cfg.sg_coef == 0.0 and il_cfg.stop_tf == 20


def test_logging_follows_stderr_when_a_caller_swaps_and_closes_it(monkeypatch):
    """setup_logging's stderr handler writes to the stderr of the moment: a stand-in stderr that a caller
    closed (pytest's capsys, a notebook cell) costs no 'Logging error' on a later record."""
    import io
    import logging
    import sys

    from babyai.log import setup_logging

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    log = setup_logging(logger="babyai.test_stderr")
    log.info("one")
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    monkeypatch.setattr(logging, "raiseExceptions", True)
    log.info("two")
    assert second.getvalue().rstrip().endswith("two") and "Logging error" not in second.getvalue()
    setup_logging(logger="babyai.test_stderr", stream=io.StringIO())
