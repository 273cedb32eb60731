#!/usr/bin/env python3
"""babyai/commands/import_demos.py (the same as `python -m babyai.commands.import_demos`); see --help."""
import runpy

runpy.run_module("babyai.commands.import_demos", run_name="__main__", alter_sys=True)
