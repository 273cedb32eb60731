"""Demonstrations: original-stream noise replay, determinism, resume after a kill, safe loading."""

import dataclasses
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time

import blosc
import numpy as np
import pytest
from conftest import ROOT, one_line_error, read_jsonl_gz, run_script

from babyai.demos import DemoFormatError, DemoSpec, generate_dataset, open_demos
from babyai.demos.legacy import import_original
from babyai.demos.noise import NOISE_ACTIONS

BOSS = "BabyAI-BossLevel-v0"


def folder_bytes(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


@pytest.mark.parametrize("ref_file, level, seed, rate", [
    ("noisy_bosslevel_seed2023_rate0.01.jsonl.gz", BOSS, 2023, 0.01),
    ("noisy_gotoseq_seed7_rate0.2.jsonl.gz", "BabyAI-GoToSeq-v0", 7, 0.2),
])
def test_original_rng_regenerates_the_original_noisy_datasets(tmp_path, ref_file, level, seed, rate):
    refs = read_jsonl_gz(ref_file)
    spec = DemoSpec(level, len(refs), seed, noise_rate=rate, original_rng=True, shard_size=64)
    generate_dataset(str(tmp_path / "d"), spec, progress=False)
    demos = open_demos(str(tmp_path / "d"))
    assert len(demos) == len(refs)
    for ref in refs:
        ep = demos[ref["index"]]
        assert ep.mission == ref["mission"]
        assert ep.actions.tolist() == ref["actions"]
        assert ep.directions.tolist() == ref["directions"]
        assert ep.thoughts == ref["thoughts"]
        assert [hashlib.sha1(im.tobytes()).hexdigest()[:10] for im in ep.images] == \
            ref["obs_sha1_10"]
        assert ep.seed == ref["recorded_seed"] and ep.reset_index == 0


def test_noise_statistics(tmp_path):
    rate = 0.2
    generate_dataset(str(tmp_path / "d"), DemoSpec("BabyAI-GoToLocal-v0", 300, 5, noise_rate=rate),
                     progress=False)
    demos = open_demos(str(tmp_path / "d"))
    segments, steps_free = [], 0
    for ep in demos:
        noise = ep.noise.tolist()
        t = 0
        while t < len(noise):
            if noise[t]:
                start = t
                while t < len(noise) and noise[t] and ep.thoughts[t] == ep.thoughts[start]:
                    t += 1
                segments.append(t - start)
                assert set(ep.actions[start:t].tolist()) <= set(NOISE_ACTIONS)
            else:
                steps_free += 1
                t += 1
    lengths = np.array(segments)
    assert lengths.min() >= 1 and lengths.max() <= 5
    # segments end at episode ends too, so shorter ones are slightly over-represented
    assert 2.6 < lengths.mean() < 3.4, lengths.mean()
    # a segment starts with probability `rate` at each draw; draws happen at the oracle's steps
    # except the one right after a segment, and at each segment's first step
    starts_per_draw = len(segments) / steps_free
    assert abs(starts_per_draw - rate) < 0.025, starts_per_draw
    sentences = {t for ep in demos for t, n in zip(ep.thoughts, ep.noise) if n}
    assert all(s.split()[0] in ("open", "unlock", "drop", "remove", "pickup") for s in sentences)
    assert not any("{}" in s for s in sentences)


def test_same_arguments_same_bytes_whatever_the_workers(tmp_path):
    spec = DemoSpec(BOSS, 24, 100, noise_rate=0.05, shard_size=10)
    generate_dataset(str(tmp_path / "a"), spec, progress=False)
    generate_dataset(str(tmp_path / "b"), spec, workers=2, progress=False)
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")
    assert len(folder_bytes(tmp_path / "a")) == 4  # meta + 3 shards


@pytest.mark.parametrize("level, original_rng", [(BOSS, True), ("BabyAI-SynthSeq-v0", True),
                                                 ("BabyAI-SynthSeq-v0", False)])
def test_interrupted_generation_resumes_to_the_same_dataset(tmp_path, level, original_rng):
    spec = DemoSpec(level, 25, 7, noise_rate=0.2, original_rng=original_rng, shard_size=10)
    generate_dataset(str(tmp_path / "whole"), spec, progress=False)

    class Stop(Exception):
        pass

    seen = []

    def stop_after_13(ep):
        seen.append(ep)
        if len(seen) == 13:
            raise Stop

    with pytest.raises(Stop):
        generate_dataset(str(tmp_path / "cut"), spec, progress=False, on_episode=stop_after_13)
    with pytest.raises(DemoFormatError, match="incomplete"):
        open_demos(str(tmp_path / "cut"))
    generate_dataset(str(tmp_path / "cut"), spec, progress=False)
    assert folder_bytes(tmp_path / "cut") == folder_bytes(tmp_path / "whole")


def test_killed_script_resumes_without_loss_or_duplicates(storage):
    args = ["--env", "BabyAI-GoToLocal-v0", "--episodes", 400, "--save-interval", 20,
            "--seed", 11, "--noise-rate", 0.05]
    run_script("make_agent_demos.py", *args, "--demos", "whole", storage=storage)
    env = dict(os.environ, BABYAI_STORAGE=str(storage))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "make_agent_demos.py"),
                             *map(str, args), "--demos", "cut"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shard = storage / "demos" / "cut" / "shard-00002.tcd"
    deadline = time.time() + 120
    while not shard.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_script("make_agent_demos.py", *args, "--demos", "cut", storage=storage)
    assert folder_bytes(storage / "demos" / "cut") == folder_bytes(storage / "demos" / "whole")
    # a finished dataset is not regenerated
    again = run_script("make_agent_demos.py", *args, "--demos", "cut", storage=storage)
    assert "400 episodes" in again.stdout


def test_show_demos_jsonl_and_print(storage):
    run_script("make_agent_demos.py", "--env", BOSS, "--episodes", 3, "--seed", 0, "--demos", "x",
               storage=storage)
    out = run_script("show_demos.py", "x", "--jsonl", storage=storage).stdout.splitlines()
    refs = read_jsonl_gz("bosslevel_seeds_0-499.jsonl.gz")[:3]
    for line, ref in zip(out, refs, strict=True):
        ep = json.loads(line)
        assert (ep["seed"], ep["mission"], ep["actions"], ep["thoughts"], ep["success"]) == \
            (ref["seed"], ref["mission"], ref["actions"], ref["thoughts"], True)
    text = run_script("show_demos.py", "x", "--count", 1, storage=storage).stdout
    assert 'Thought "explore unseen area", Action [right, right, left' in text


def _corrupt(folder, how):
    shard = os.path.join(folder, "shard-00000.tcd")
    data = bytearray(open(shard, "rb").read())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "flipped":
        data[100] ^= 0xFF
    open(shard, "wb").write(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "flipped", "no-meta", "bad-meta", "missing"])
def test_bad_dataset_gives_one_line_error(storage, how):
    run_script("make_agent_demos.py", "--env", "BabyAI-GoToLocal-v0", "--episodes", 5,
               "--demos", "d", storage=storage)
    folder = storage / "demos" / "d"
    if how in ("truncated", "flipped"):
        _corrupt(folder, how)
    elif how == "no-meta":
        os.remove(folder / "meta.json")
    elif how == "bad-meta":
        (folder / "meta.json").write_text("{not json")
    proc = run_script("show_demos.py", "d" if how != "missing" else "nope", storage=storage,
                      check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_level_and_bad_flags(storage):
    proc = run_script("make_agent_demos.py", "--env", "BabyAI-BossLevle-v0", storage=storage,
                      check=False)
    assert proc.returncode == 2 and "BabyAI-BossLevel-v0" in proc.stderr
    assert proc.stderr.count("\n") == 1
    proc = run_script("make_agent_demos.py", "--noise-rate", "2", storage=storage, check=False)
    assert proc.returncode == 2
    assert not (storage / "demos").exists()


def test_help_states_each_default_once(capsys, monkeypatch):
    # each flag's help says its default at most once, and never "(default: None)"
    import argparse
    import importlib

    from babyai.cli import DefaultsHelpFormatter

    for script in ("make_agent_demos.py", "make_testing_levels.py"):  # their parsers: babyai/commands/
        text = open(os.path.join(ROOT, "babyai", "commands", script)).read()
        assert "formatter_class=DefaultsHelpFormatter" in text, script
    p = argparse.ArgumentParser(formatter_class=DefaultsHelpFormatter)
    p.add_argument("--demos", default=None, help="name (default: LEVEL_agentEPISODES)")
    p.add_argument("--storage-dir", default=None, help="storage root")
    p.add_argument("--episodes", type=int, default=0, help="episodes")
    p.add_argument("--noise-rate", type=float, default=0.0, help="rate")
    p.add_argument("--print", action="store_true", help="print them")
    help_text = " ".join(p.format_help().split())
    assert "(default: None)" not in help_text and "(default: False)" not in help_text
    assert help_text.count("(default:") == 3
    assert "episodes (default: 0)" in help_text and "rate (default: 0.0)" in help_text
    module = importlib.import_module("babyai.commands.make_agent_demos")
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "400")  # one line per flag
    with pytest.raises(SystemExit):
        module.parse_args(["--help"])
    real = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in real and "(default: False)" not in real
    assert "(default: LEVEL_agentEPISODES, e.g. BabyAI-BossLevel-v0_agent512) --episodes" in real
    assert "(default: $BABYAI_STORAGE or ./storage) --seeding" in real


def _original_pickle(path, episodes):
    demos = [(ep.mission, blosc.pack_array(ep.images), ep.directions.tolist(), ep.actions.tolist(),
              ep.thoughts, ep.seed) for ep in episodes]
    with open(path, "wb") as f:
        pickle.dump(demos, f)


def test_pickle_import_needs_explicit_trust(tmp_path, storage):
    generate_dataset(str(tmp_path / "src"), DemoSpec(BOSS, 4, 0), progress=False)
    src = open_demos(str(tmp_path / "src"))
    _original_pickle(tmp_path / "old.pkl", src)
    with pytest.raises(DemoFormatError, match="trust-pickle"):
        import_original(str(tmp_path / "old.pkl"), str(tmp_path / "new"), BOSS)
    assert not (tmp_path / "new").exists()
    proc = run_script("import_demos.py", tmp_path / "old.pkl", "--env", BOSS, "--demos", "imp",
                      storage=storage, check=False)
    assert proc.returncode != 0 and "--trust-pickle" in proc.stderr
    run_script("import_demos.py", tmp_path / "old.pkl", "--env", BOSS, "--demos", "imp",
               "--trust-pickle", storage=storage)
    imported = open_demos(str(storage / "demos" / "imp"))
    for a, b in zip(src, imported, strict=True):
        assert (a.mission, a.seed, a.thoughts) == (b.mission, b.seed, b.thoughts)
        assert np.array_equal(a.images, b.images) and np.array_equal(a.actions, b.actions)


def test_an_import_is_complete_or_absent_and_never_overwrites(tmp_path, storage, monkeypatch):
    from babyai.demos import format as demo_format  # the one dataset writer, which import_original uses

    generate_dataset(str(tmp_path / "src"), DemoSpec(BOSS, 3, 0), progress=False)
    _original_pickle(tmp_path / "old.pkl", open_demos(str(tmp_path / "src")))
    real = demo_format.write_meta

    def dies(*args):  # the process fails after the shards, before meta.json
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_format, "write_meta", dies)
    with pytest.raises(KeyboardInterrupt):
        import_original(str(tmp_path / "old.pkl"), str(tmp_path / "new"), BOSS, trust_pickle=True)
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.pkl", "src"]  # no temporary folder left
    monkeypatch.setattr(demo_format, "write_meta", real)
    assert import_original(str(tmp_path / "old.pkl"), str(tmp_path / "new"), BOSS, trust_pickle=True) == 3
    proc = run_script("import_demos.py", tmp_path / "old.pkl", "--env", BOSS, "--demos", "imp", "--trust-pickle",
                      storage=storage)
    before = sorted(os.listdir(storage / "demos" / "imp"))
    proc = run_script("import_demos.py", tmp_path / "old.pkl", "--env", BOSS, "--demos", "imp", "--trust-pickle",
                      storage=storage, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith("error:")
    assert "already exists" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(os.listdir(storage / "demos" / "imp")) == before


def test_a_pickle_with_values_outside_the_levels_spaces_is_refused(tmp_path, storage):
    """A seed of -99 was imported (and the dataset was then unreadable); every field is checked first."""
    generate_dataset(str(tmp_path / "src"), DemoSpec(BOSS, 2, 0), progress=False)
    src = list(open_demos(str(tmp_path / "src")))
    bad_action = src[1].actions.copy()
    bad_action[-1] = 9
    cases = [(dataclasses.replace(src[1], seed=-99), "demo 1: the level seed must be an integer in [0, ", "got -99"),
             (dataclasses.replace(src[1], actions=bad_action), "demo 1: actions must be in [0, 6]", "got 9"),
             (dataclasses.replace(src[1], thoughts=src[1].thoughts[:-1]), "demo 1: the thoughts must be")]
    for episode, *needles in cases:
        _original_pickle(tmp_path / "bad.pkl", [src[0], episode])
        proc = run_script("import_demos.py", tmp_path / "bad.pkl", "--env", BOSS, "--demos", "imp", "--trust-pickle",
                          storage=storage, check=False)
        one_line_error(proc, *needles)
        assert not (storage / "demos").exists() or os.listdir(storage / "demos") == []
