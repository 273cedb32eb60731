#!/usr/bin/env python3
"""babyai/commands/export_minari.py (the same as `python -m babyai.commands.export_minari`); see --help."""
import runpy

runpy.run_module("babyai.commands.export_minari", run_name="__main__", alter_sys=True)
