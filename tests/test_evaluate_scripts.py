"""Every evaluation script end to end on a tiny untrained model and tiny suites, and their one-line errors."""

import csv
import json
import os
import shutil

import pytest
import conftest
from conftest import run_script

from _agent_helpers import save_untrained

from babyai.evaluate.declarations import normalize

LEVEL = "BabyAI-GoToObjS4-v0"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The scripts' torch on one thread: tiny batches gain nothing from more, and tests run side by side."""
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    yield
    if old is None:
        del os.environ["OMP_NUM_THREADS"]
    else:
        os.environ["OMP_NUM_THREADS"] = old


@pytest.fixture(scope="module")
def store(tmp_path_factory, one_thread):
    """A storage root with an untrained TC run 'tiny', a BC run 'tinybc' and tiny suites."""
    root = tmp_path_factory.mktemp("evalstore")
    save_untrained(str(root / "models" / "tiny"), "tc")
    save_untrained(str(root / "models" / "tinybc"), "bc")
    proc = run_script("make_testing_levels.py", "--env", LEVEL, "--levels-per-bin", 2, "--max-seeds", 40,
                      "--workers", 2, "--out", root / "suites.json", storage=root)
    assert "shortfall" in proc.stdout and "demo 75: 2 missing" in proc.stdout
    return root


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def one_line_error(proc, *needles):
    """As conftest's, and the line starts with "error: " (no program name before it)."""
    conftest.one_line_error(proc, *needles)
    assert proc.stderr.strip().startswith("error: "), proc.stderr


def test_make_testing_levels_json(store):
    data = json.loads((store / "suites.json").read_text())
    assert data["format"] == "thought-cloning-testing-levels" and data["level"] == LEVEL
    assert len(data["suites"]["demo"]["25"]) == 2 and data["suites"]["demo"]["425"] == []
    assert all(e["seed"] >= 2_000_000_000 and e["length"] < 50 for e in data["suites"]["demo"]["25"])
    assert data["shortfall"]["demo"]["425"] == 2 and data["seeds_tried"] <= 40


def test_make_testing_levels_refuses_bad_input(store, tmp_path):
    one_line_error(run_script("make_testing_levels.py", "--env", LEVEL, "--first-seed", 0, "--max-seeds", 5000,
                              "--out", tmp_path / "s.json", storage=store, check=False), "training demos")
    one_line_error(run_script("make_testing_levels.py", "--env", LEVEL, "--out", store / "suites.json",
                              storage=store, check=False), "exists")
    one_line_error(run_script("make_testing_levels.py", "--env", "BossLevl", "--out", tmp_path / "x.json",
                              storage=store, check=False), "unknown level", "BabyAI-BossLevel-v0")
    (tmp_path / "old.pickle").write_bytes(b"\x80\x04junk")
    one_line_error(run_script("make_testing_levels.py", "--from-pickle", tmp_path / "old.pickle", "--out",
                              tmp_path / "y.json", storage=store, check=False), "--trust-pickle")


def test_make_testing_levels_imports_the_original_pickle(store, tmp_path):
    import pickle

    original = {"demo": {25: {2_000_000_001: 1, 2_000_000_002: 1}, 425: {}}, "mission": {1: {2_000_000_001: 1}}}
    (tmp_path / "testing_levels.pickle").write_bytes(pickle.dumps(original))
    run_script("make_testing_levels.py", "--env", LEVEL, "--from-pickle", tmp_path / "testing_levels.pickle",
               "--trust-pickle", "--out", tmp_path / "converted.json", storage=store)
    data = json.loads((tmp_path / "converted.json").read_text())
    assert [e["seed"] for e in data["suites"]["demo"]["25"]] == [2_000_000_001, 2_000_000_002]
    assert data["level"] == LEVEL and data["source"].startswith("original pickle")


def test_evaluate_levels_two_models(store):
    proc = run_script("evaluate_levels.py", "--env", LEVEL, "--model", "tiny", "tinybc", "--testing-levels-path",
                      store / "suites.json", "--oracle-thoughts", storage=store)
    assert "tiny: success on all" in proc.stdout and "tinybc: success on all" in proc.stdout
    assert "tiny+oracle_thoughts: success on all" in proc.stdout and "tinybc+oracle" not in proc.stdout
    for name in ("tiny", "tinybc", "tiny+oracle_thoughts"):
        rows = read_csv(store / f"zeroshot_{name}.csv")
        assert list(rows[0]) == ["diff_type", "diff", "acc"]
        assert {(r["diff_type"], r["diff"]) for r in rows} >= {("demo", "25"), ("mission", "1")}
        episodes = [json.loads(line) for line in (store / f"zeroshot_{name}_episodes.jsonl").read_text().splitlines()]
        assert len(episodes) == 2 and all(e["bins"]["demo"] == 25 and len(e["actions"]) == e["length"] for e in episodes)
        for r in rows:  # a bin's success: that of the episodes in it
            inside = [e["success"] for e in episodes if str(e["bins"].get(r["diff_type"])) == r["diff"]]
            assert inside and float(r["acc"]) == sum(inside) / len(inside), r
        assert all(e["injected"] == (list(range(e["length"])) if "oracle" in name else []) for e in episodes)
    assert (store / "zeroshot_tiny_tinybc.png").stat().st_size > 1000


def test_evaluate_fads(store):
    proc = run_script("evaluate_fads.py", "--model", "tiny", "--env", LEVEL, "--episodes", 3,
                      "--testing-levels-path", store / "suites.json", storage=store)
    assert "FADS in distribution" in proc.stdout and "on the suites (2 levels)" in proc.stdout
    report = json.loads((store / "fads_tiny.json").read_text())
    assert report["in_distribution"]["episodes"] == 3 and "demo" in report["suites"]
    undeclared = (store / "fads_tiny_undeclared.jsonl").read_text().splitlines()
    n = report["in_distribution"]["interactions"] - report["in_distribution"]["declared"]
    assert len([u for u in undeclared if json.loads(u)["where"] == "in-distribution"]) == n


def test_evaluate_fads_oracle_is_perfect(store):
    proc = run_script("evaluate_fads.py", "--model", "BOT", "--env", "BabyAI-PickupLoc-v0", "--episodes", 5,
                      storage=store)
    assert "FADS in distribution: 100.00% (5/5" in proc.stdout


def test_evaluate_precrime(store):
    proc = run_script("evaluate_precrime.py", "--model", "tiny", "--env", LEVEL, "--episodes", 3, "--tests", "ball",
                      storage=store)
    assert [r["test"] for r in read_csv(store / "precrime_tiny.csv")] == ["ball"] and "picking up balls" in proc.stdout
    oracle = run_script("evaluate_precrime.py", "--model", "BOT", "--env", "BabyAI-PickupLoc-v0", "--episodes", 4,
                        storage=store)
    rows = read_csv(store / "precrime_BOT.csv")
    assert [r["test"] for r in rows] == ["red", "ball", "requested"] and "touching red items" in oracle.stdout
    # the oracle picks up what it is asked to, and declares it first: the intervention halts every episode
    row = rows[2]
    assert (float(row["unsafe_without"]), float(row["unsafe_with"]), float(row["halted_with"])) == (1.0, 0.0, 1.0)
    assert all(float(r["unsafe_with"]) == 0.0 for r in rows)


def test_evaluate_steering(store):
    proc = run_script("evaluate_steering.py", "--model", "tiny", "--env", LEVEL, "--episodes", 3,
                      "--thought", "explore unseen area", "--steps", 0, 1, storage=store)
    rows = read_csv(store / "steering_tiny.csv")
    assert [r["agent"] for r in rows] == ["TC", "oracle thoughts + TC learned control", "thought 'explore unseen area'"]
    assert float(rows[0]["injected_steps"]) == 0.0 and float(rows[1]["injected_steps"]) == 1.0
    assert "oracle thoughts + TC learned control" in proc.stdout
    one_line_error(run_script("evaluate_steering.py", "--model", "tinybc", "--env", LEVEL, "--episodes", 1,
                              storage=store, check=False), "Thought Cloning model")
    one_line_error(run_script("evaluate_steering.py", "--model", "tiny", "--env", LEVEL, "--episodes", 1,
                              "--thought", "fly away", storage=store, check=False), "vocabulary", "'fly'")


def test_visualize_gif(store, tmp_path):
    from PIL import Image

    out = tmp_path / "ep.gif"
    proc = run_script("visualize.py", "--model", "tiny", "--env", LEVEL, "--seed", 5, "--oracle", "--out", out,
                      storage=store)
    steps = int(proc.stdout.split(" in ")[1].split()[0])
    with Image.open(out) as im:
        assert im.n_frames == steps + 1 and im.size[0] >= 480


def test_plot_logs(store):
    run_dir = store / "models" / "tiny"
    (run_dir / "log.csv").write_text("update,frames,validation_success_rate,validation_accuracy\n"
                                     "1,100,0.1,0.5\n2,200,0.3,0.6\n3,300,0.35,\n")
    proc = run_script("plot_logs.py", "tiny", str(run_dir), "--out", store / "curves.png", storage=store)
    assert (store / "curves.png").stat().st_size > 1000 and "3 log rows" in proc.stdout
    one_line_error(run_script("plot_logs.py", "nosuchrun", storage=store, check=False), "no training log")


def test_bad_suites_and_models_give_one_line(store, tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text((store / "suites.json").read_text()[:200])
    one_line_error(run_script("evaluate_levels.py", "--env", LEVEL, "--model", "tiny", "--testing-levels-path",
                              corrupt, "--no-plot", storage=store, check=False), "not a testing-levels JSON")
    one_line_error(run_script("evaluate_levels.py", "--env", LEVEL, "--model", "nosuch", "--testing-levels-path",
                              store / "suites.json", "--no-plot", storage=store, check=False), "no model 'nosuch'")
    one_line_error(run_script("evaluate_levels.py", "--env", "BabyAI-PickupLoc-v0", "--model", "tiny",
                              "--testing-levels-path", store / "suites.json", "--no-plot", storage=store, check=False),
                   "made on BabyAI-GoToObjS4-v0")
    # a run whose vocab.json is not the checkpoint's vocabulary
    shutil.copytree(store / "models" / "tiny", store / "models" / "mismatch")
    vocab = json.loads((store / "models" / "mismatch" / "vocab.json").read_text())
    vocab["words"] = vocab["words"][:-1]
    (store / "models" / "mismatch" / "vocab.json").write_text(json.dumps(vocab))
    one_line_error(run_script("evaluate_fads.py", "--model", "mismatch", "--env", LEVEL, "--episodes", 1,
                              storage=store, check=False), "not the vocabulary the checkpoint was trained with")
    # weights that do not fit the config they claim
    save_untrained(str(tmp_path / "big"), "tc", memory_dim=48)
    os.replace(tmp_path / "big" / "best.pt", store / "models" / "mismatch" / "best.pt")
    (store / "models" / "mismatch" / "vocab.json").unlink()
    import torch

    ckpt = torch.load(store / "models" / "mismatch" / "best.pt", weights_only=True)
    ckpt["model_config"]["memory_dim"] = 32
    torch.save(ckpt, store / "models" / "mismatch" / "best.pt")
    one_line_error(run_script("evaluate_precrime.py", "--model", "mismatch", "--env", LEVEL, "--episodes", 1,
                              storage=store, check=False), "do not fit its config")


def test_evaluate_success_of_any_agent(store):
    for model, tag in (("tiny", "_best"), ("tinybc", "_best"), ("BOT", "")):
        proc = run_script("evaluate.py", "--model", model, "--env", LEVEL, "--episodes", 4, "--seed", 3_000_000_000,
                          storage=store)
        stem = f"evaluate_{model}_GoToObjS4_s3000000000_n4{tag}"
        report = json.loads((store / f"{stem}.json").read_text())
        assert report["episodes"] == 4 and f"{model} on {LEVEL}" in proc.stdout
        episodes = [json.loads(line) for line in (store / f"{stem}_episodes.jsonl").read_text().splitlines()]
        assert len(episodes) == 4 and report["success"] == sum(e["success"] for e in episodes) / 4
    assert json.loads((store / "evaluate_BOT_GoToObjS4_s3000000000_n4.json").read_text())["success"] == 1.0  # the oracle solves every level
    # a thinking agent is evaluated with the oracle alongside: its thoughts are compared at every step
    stem = "evaluate_{}_GoToObjS4_s3000000000_n4_best"
    tiny = json.loads((store / f"{stem.format('tiny')}.json").read_text())
    episodes = [json.loads(line) for line in (store / f"{stem.format('tiny')}_episodes.jsonl").read_text().splitlines()]
    assert tiny["thoughts"]["steps"] == sum(e["length"] for e in episodes) > 0
    same = [normalize(t) == normalize(o) for e in episodes for t, o in zip(e["thoughts"], e["oracle_thoughts"])]
    assert tiny["thoughts"]["exact"] == sum(same) / len(same)
    assert "thoughts" not in json.loads((store / f"{stem.format('tinybc')}.json").read_text())
    one_line_error(run_script("evaluate.py", "--model", "nope", "--env", LEVEL, storage=store, check=False), "nope")
    one_line_error(run_script("evaluate.py", "--model", "tiny", "--env", LEVEL, "--episodes", 0, storage=store,
                              check=False), "--episodes")


def trained_on(store, name, *levels):
    """A copy of the run 'tiny' whose config.json says it was trained on ``levels``."""
    shutil.copytree(store / "models" / "tiny", store / "models" / name)
    train = {"envs": list(levels), "demos": [], "val_episodes": 0}
    (store / "models" / name / "config.json").write_text(json.dumps({"algo": "tc", "train": train}))


def test_evaluate_plays_the_models_own_level_and_keeps_every_result(store):
    trained_on(store, "gotoobj", LEVEL)
    proc = run_script("evaluate.py", "--model", "gotoobj", "--episodes", 2, storage=store)
    assert "evaluating gotoobj on level BabyAI-GoToObjS4-v0: the one gotoobj was trained on" in proc.stderr
    own = store / "evaluate_gotoobj_GoToObjS4_s3000000000_n2_best.json"
    first = own.read_text()
    assert json.loads(first)["level"] == LEVEL and json.loads(first)["checkpoint"] == "best"
    # another level is allowed, said, and written next to the first result, which stays as it was
    proc = run_script("evaluate.py", "--model", "gotoobj", "--env", "GoToObj", "--episodes", 2, storage=store)
    assert ("evaluating gotoobj on level BabyAI-GoToObj-v0 (--env), not the one gotoobj was trained on "
            "(BabyAI-GoToObjS4-v0)") in proc.stderr
    assert json.loads((store / "evaluate_gotoobj_GoToObj_s3000000000_n2_best.json").read_text())["level"] == \
        "BabyAI-GoToObj-v0"
    run_script("evaluate.py", "--model", "gotoobj", "--episodes", 3, "--seed", 3_000_000_100, "--argmax",
               storage=store)
    assert (store / "evaluate_gotoobj_GoToObjS4_s3000000100_n3_best_argmax.json").exists()
    assert own.read_text() == first


def test_evaluate_with_out_dir_keeps_the_one_name_per_model(store, tmp_path):
    """The study pipeline gives a folder per run and reads evaluate_<run>.json there."""
    run_script("evaluate.py", "--model", "tiny", "--env", LEVEL, "--episodes", 2, "--out-dir", tmp_path,
               storage=store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluate_tiny.json", "evaluate_tiny_episodes.jsonl"]


def test_a_level_must_be_given_when_the_model_records_none(store):
    one_line_error(run_script("evaluate.py", "--model", "tiny", "--episodes", 1, storage=store, check=False),
                   "tiny records no level it was trained on", "give --env")
    one_line_error(run_script("evaluate.py", "--model", "BOT", "--episodes", 1, storage=store, check=False),
                   "the oracle plays any level", "give --env")
    one_line_error(run_script("visualize.py", "--model", "tiny", storage=store, check=False), "give --env")


def test_visualize_shows_the_models_own_level(store):
    trained_on(store, "twolevels", LEVEL, "BabyAI-GoToObj-v0")
    proc = run_script("visualize.py", "--model", "twolevels", "--seed", 5, "--tile-size", 8, storage=store)
    assert ("showing twolevels on level BabyAI-GoToObjS4-v0: the one twolevels was trained on (the first of "
            "BabyAI-GoToObjS4-v0, BabyAI-GoToObj-v0; --env picks another)") in proc.stderr
    assert (store / "visualizations" / f"twolevels_{LEVEL}_5.gif").exists()
