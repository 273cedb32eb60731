"""The command-line programs, one module each, runnable as ``python -m babyai.commands.NAME`` (scripts/NAME.py
is a three-line wrapper of the same module, and ``thought-cloning NAME``, the console script an install makes,
runs it too). Argument parsing lives here; the library below takes typed arguments. Errors reach the user as one
``error:`` line through ``babyai.cli.run``.

    quickstart                                           the whole pipeline on a small default
    make_agent_demos  show_demos  import_demos           demonstrations (babyai.demos)
    export_minari  import_minari                         Minari datasets (babyai.demos.minari_io)
    train_tc  train_il  teach                            training (babyai.train; flags in train.py), teaching
    make_testing_levels  evaluate  evaluate_levels       evaluation (babyai.evaluate; shared flags in common.py)
    evaluate_fads  evaluate_precrime  evaluate_steering
    visualize  plot_logs
"""

import runpy
import sys

COMMANDS = ("quickstart", "make_agent_demos", "show_demos", "import_demos", "export_minari", "import_minari",
            "train_tc", "train_il", "teach", "make_testing_levels", "evaluate", "evaluate_levels", "evaluate_fads",
            "evaluate_precrime", "evaluate_steering", "visualize", "plot_logs")
USAGE = "usage: thought-cloning COMMAND [ARGS...]  (thought-cloning COMMAND --help for its flags)\ncommands: " + \
    " ".join(COMMANDS)


def cli(argv=None) -> None:
    """The console script ``thought-cloning COMMAND ARGS...``: ``python -m babyai.commands.COMMAND ARGS...``
    (COMMAND may be spelt with dashes, or as NAME.py)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        sys.exit(0 if argv else 2)
    name = argv[0].removesuffix(".py").replace("-", "_")
    if name not in COMMANDS:
        sys.exit(f"error: unknown command {argv[0]!r}: one of {', '.join(COMMANDS)}")
    sys.argv = [f"{name}.py", *argv[1:]]
    runpy.run_module(f"babyai.commands.{name}", run_name="__main__", alter_sys=True)
