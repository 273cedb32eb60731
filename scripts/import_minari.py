#!/usr/bin/env python3
"""babyai/commands/import_minari.py (the same as `python -m babyai.commands.import_minari`); see --help."""
import runpy

runpy.run_module("babyai.commands.import_minari", run_name="__main__", alter_sys=True)
