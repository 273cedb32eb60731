#!/usr/bin/env python3
"""Reproduce the paper's comparisons at CPU scale (see babyai/study/cli.py, or --help)."""

import sys

from babyai.cli import run
from babyai.study.cli import main

if __name__ == "__main__":
    run(main, sys.argv[1:])
