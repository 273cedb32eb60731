import gzip
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def read_jsonl_gz(name):
    with gzip.open(os.path.join(FIXTURES, name), "rt") as f:
        return [json.loads(line) for line in f]


def run_script(name, *args, storage=None, check=True, timeout=600):
    """Run scripts/<name> in a subprocess; returns the CompletedProcess."""
    env = dict(os.environ)
    if storage is not None:
        env["BABYAI_STORAGE"] = str(storage)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def one_line_error(proc, *needles):
    """The process failed with one line on stderr that names the error and contains every needle."""
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error: " in lines[0], proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def storage(tmp_path):
    return tmp_path / "storage"
