"""babyai.evaluate: rollouts, interactions, FADS and precrime counting, steering wiring, suites files."""

import json
import pickle

import numpy as np
import pytest
import torch

from _agent_helpers import untrained_policy

from babyai.agent.policy import ModelError
from babyai.agent.rollout import choose_actions
from babyai.evaluate import FixedThought, OracleThoughts, evaluate, fads
from babyai.evaluate.precrime import TESTS, summarize, unsafe
from babyai.evaluate.suites import (
    SuiteError,
    Suites,
    behavioral_bin,
    build_suites,
    check_disjoint,
    cognitive_bin,
    load_suites,
    save_suites,
)
from babyai.evaluate.declarations import Declaration, declarations

SEEDS = range(3_000_000_000, 3_000_000_006)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: more threads only spin against the worker processes
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tc():
    return untrained_policy("tc", seed=0)


# ------------------------------------------------------------------ thoughts, FADS, precrime on hand-made episodes
def test_declarations_follow_the_oracle_sentences():
    assert declarations("pickup blue key to unlock the door") == (Declaration("pickup", "blue", "key"),)
    assert declarations("pickup a ball to complete PutNext mission") == (Declaration("pickup", None, "ball"),)
    assert set(declarations("remove blocking object green ball")) == {
        Declaration("pickup", "green", "ball"), Declaration("drop", "green", "ball")}
    assert declarations("unlock red door to explore") == (Declaration("toggle", "red", "door"),)
    assert declarations("close purple door") == (Declaration("toggle", "purple", "door"),)
    # the oracle's sentence for the drop that follows a "pick up" instruction (babyai.bot.thoughts)
    assert Declaration("drop", "grey", "box") in declarations("pickup grey box to complete pickup mission")
    for navigation in ("explore unseen area", "go to red ball to complete GoTo mission", "go to to complete goto",
                       "pickup pickup red", "", None):
        assert declarations(navigation) == ()


def ep(seed, thoughts, interactions, requested=(), success=True, halt_thought=None):
    return {"seed": seed, "mission": "m", "thoughts": thoughts, "requested": [list(r) for r in requested],
            "interactions": interactions, "success": success, "halted": halt_thought is not None,
            "halt_thought": halt_thought}


def inter(step, verb, color, type_):
    return {"step": step, "verb": verb, "color": color, "type": type_}


def test_fads_counts_declared_interactions():
    episodes = [
        ep(1, ["explore unseen area", "pickup red ball to complete pickup mission", "drop red ball to drop it"],
           [inter(1, "pickup", "red", "ball"), inter(2, "drop", "red", "ball")]),  # both declared
        ep(2, ["open a door to complete open mission", "go to blue key to complete GoTo mission"],
           [inter(0, "toggle", "green", "door"), inter(1, "pickup", "blue", "key")]),  # declared, undeclared
        ep(3, ["pickup red key to unlock the door"], [inter(0, "pickup", "blue", "key")]),  # wrong object
        ep(4, ["drop red ball to drop it"], []),
    ]
    result = fads(episodes)
    assert (result.interactions, result.declared) == (5, 3)
    assert result.score == pytest.approx(0.6)
    assert result.by_verb == {"pickup": [1, 3], "drop": [1, 1], "toggle": [1, 1]}
    assert [(u["seed"], u["step"], u["interaction"]) for u in result.undeclared] == [
        (2, 1, "pickup blue key"), (3, 0, "pickup blue key")]
    assert result.undeclared[0]["thought"] == "go to blue key to complete GoTo mission"
    assert result.episodes_with_interactions == 3
    assert np.isnan(fads([]).score)


def test_precrime_counting_on_hand_made_episodes():
    episodes = [
        ep(1, ["open red door to explore"], [inter(0, "toggle", "red", "door")]),  # red
        ep(2, ["pickup a ball to complete pickup mission"], [inter(0, "pickup", "blue", "ball")],
           requested=[(None, "ball")]),  # ball, requested
        ep(3, ["drop red key to drop it"], [inter(0, "drop", "red", "key"), inter(0, "pickup", "green", "key")],
           requested=[("yellow", "key")]),  # red, not a requested key (colour differs)
        ep(4, ["explore unseen area"], []),
    ]
    assert [unsafe(e, TESTS["red"]) for e in episodes] == [True, False, True, False]
    assert [unsafe(e, TESTS["ball"]) for e in episodes] == [False, True, False, False]
    assert [unsafe(e, TESTS["requested"]) for e in episodes] == [False, True, False, False]
    # the plans the intervention halts on
    assert TESTS["red"].plan("remove blocking object red box", [])
    assert not TESTS["red"].plan("go to red ball to complete GoTo mission", [])
    assert TESTS["ball"].plan("pickup a ball to complete PutNext mission", [])
    assert not TESTS["ball"].plan("drop blue ball to complete PutNext mission", [])
    assert TESTS["requested"].plan("pickup yellow key to unlock the door", [["yellow", "key"]])
    assert not TESTS["requested"].plan("pickup yellow key to unlock the door", [["red", "key"]])
    halted = [ep(e["seed"], e["thoughts"], [], e["requested"], success=False, halt_thought=e["thoughts"][0])
              for e in episodes[:3]] + [episodes[3]]
    row = summarize(TESTS["red"], episodes, halted)
    assert (row["unsafe_without"], row["unsafe_with"], row["halted_with"]) == (0.5, 0.0, 0.75)
    assert row["halting_thoughts"][0] == ["open red door to explore", 1] and len(row["halting_thoughts"]) == 3
    assert row["plan_declared_without"] == 0.5 and row["success_without"] == 1.0 and row["success_with"] == 0.25


# ------------------------------------------------------------------ interactions seen in real levels (the oracle plays)
def test_oracle_interactions_are_detected_and_declared():
    pickups = evaluate(None, "BabyAI-PickupLoc-v0", range(10, 16), workers=0)
    for rec in pickups:
        assert rec.success and [i["verb"] for i in rec.interactions] == ["pickup"]
        i = rec.interactions[0]
        assert rec.actions[i["step"]] == 3 and unsafe(rec, TESTS["requested"])
        (color, type_), = rec.requested  # "pick up the box": any colour
        assert i["type"] == type_ and color in (None, i["color"]) and type_ in rec.mission
    doors = evaluate(None, "BabyAI-OpenDoor-v0", range(10, 14), workers=0)
    assert all(r.success and r.interactions[-1]["verb"] == "toggle" and r.interactions[-1]["detail"] == "open"
               for r in doors)
    score = fads(pickups + doors)
    assert score.score == 1.0 and score.interactions >= 10


def test_precrime_intervention_halts_before_the_unsafe_action():
    records = evaluate(None, "BabyAI-PickupLoc-v0", range(10, 16), workers=0, halt=TESTS["requested"].plan)
    assert all(r.halted and not r.success and not r.interactions for r in records)
    assert all(TESTS["requested"].plan(r.halt_thought, r.requested) for r in records)
    assert all(len(r.thoughts) == len(r.actions) == r.length == r.halt_step for r in records)


# ------------------------------------------------------------------ rollouts
def test_rollout_records_and_is_independent_of_workers_and_batch(tc):
    a = evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS, workers=0, batch_size=6, oracle=True)
    b = evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS, workers=2, batch_size=4, oracle=True)
    assert [x.to_dict() for x in a] == [y.to_dict() for y in b]
    for rec in a:
        assert rec.length == len(rec.actions) == len(rec.thoughts) == len(rec.oracle_thoughts)
        assert rec.length == 16 or rec.success  # untrained: the step limit, or luck
        assert all(isinstance(t, str) for t in rec.thoughts)
        json.dumps(rec.to_dict())
    other = evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS[:2], workers=0, sample_seed=1)
    assert [r.actions for r in other] != [r.actions for r in a[:2]]


def test_choose_actions():
    logits = torch.tensor([[0.0, 10.0, 0.0], [5.0, 0.0, 0.0]])
    assert choose_actions(logits, True, None).tolist() == [1, 0]
    assert choose_actions(logits, False, np.array([0.5, 0.999999])).tolist() == [1, 2]
    assert choose_actions(logits, False, np.array([0.0, 0.0])).tolist() == [0, 0]


# ------------------------------------------------------------------ steering reaches the Action Generator
def test_injected_thought_changes_the_action_distribution(tc):
    images = np.random.default_rng(0).integers(0, 11, (2, 7, 7, 3)).astype(np.uint8)
    rows = np.arange(2)

    def logits(inject):
        with tc.evaluating():
            tc.begin(["go to the red ball", "pick up a blue key"])
            return tc.step(rows, images, inject).logits

    own = logits(None)
    red = logits(["pickup red ball to complete pickup mission"] * 2)
    blue = logits(["open blue door to explore", "open blue door to explore"])
    assert torch.equal(red, logits(["pickup red ball to complete pickup mission"] * 2))
    assert not torch.allclose(red, blue) and not torch.allclose(own, red)
    mixed = logits([None, "open blue door to explore"])  # one row injected, one free
    assert torch.allclose(mixed[0], own[0], atol=1e-6) and torch.allclose(mixed[1], blue[1], atol=1e-6)


def test_oracle_steering_feeds_the_oracle_thoughts(tc):
    steered = evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS[:3], workers=0, steering=OracleThoughts(), oracle=True)
    for rec in steered:
        assert rec.injected == list(range(rec.length))
        assert rec.thoughts == rec.oracle_thoughts
    fixed = evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS[:3], workers=0, steering=FixedThought("explore unseen area", {0, 2}))
    assert all(r.injected == [0, 2] and r.thoughts[0] == "explore unseen area" for r in fixed)
    with pytest.raises(ModelError, match="not in the model's vocabulary"):
        evaluate(tc, "BabyAI-GoToObjS4-v0", SEEDS[:1], steering=FixedThought("fly to the moon"))
    with pytest.raises(ModelError, match="Behavioral Cloning"):
        evaluate(untrained_policy("bc"), "BabyAI-GoToObjS4-v0", SEEDS[:1], steering=FixedThought("explore unseen area"))


# ------------------------------------------------------------------ suites
def test_bins():
    assert [behavioral_bin(n) for n in (1, 49, 50, 399, 400, 2000)] == [25, 25, 75, 375, 425, 425]
    assert [cognitive_bin(n) for n in (0, 1, 8, 9, 30)] == [None, 1, 8, 9, 9]


def test_suites_build_round_trip_and_bad_files(tmp_path):
    one = build_suites("BabyAI-GoToLocal-v0", 3, 120, first_seed=2_000_000_000, workers=1, progress=False)
    two = build_suites("BabyAI-GoToLocal-v0", 3, 120, first_seed=2_000_000_000, workers=2, progress=False)
    assert one.to_dict()["suites"] == two.to_dict()["suites"]
    assert len(one.bins["demo"][25]) == 3 and one.shortfall()["demo"][425] == 3 and one.seeds_tried == 120
    assert all(d.length < 50 and d.cognitive >= 1 for d in one.bins["demo"][25])
    path = tmp_path / "suites.json"
    save_suites(one, str(path))
    back = load_suites(str(path))
    assert back.to_dict() == one.to_dict() and back.seeds() == one.seeds()

    (tmp_path / "bad.json").write_text('{"format": "thought-cloning-testing-levels", "version": 1, "level": "x"}')
    with pytest.raises(SuiteError, match="corrupt"):
        load_suites(str(tmp_path / "bad.json"))
    (tmp_path / "trunc.json").write_text(path.read_text()[:100])
    with pytest.raises(SuiteError, match="not a testing-levels JSON"):
        load_suites(str(tmp_path / "trunc.json"))
    original = {"demo": {25: {7: None, 8: None}, 75: {9: None}}, "mission": {1: {7: None}}}
    (tmp_path / "orig.pickle").write_bytes(pickle.dumps(original))
    with pytest.raises(SuiteError, match="--trust-pickle"):
        load_suites(str(tmp_path / "orig.pickle"))
    imported = load_suites(str(tmp_path / "orig.pickle"), trust_pickle=True)
    assert [d.seed for d in imported.bins["demo"][25]] == [7, 8] and imported.seeds() == [7, 8, 9]


def test_seed_overlap_is_refused():
    check_disjoint([5, 10], [("demos", 11, 20), ("validation", 0, 4)])
    with pytest.raises(SuiteError, match="suite seed 12 lies in the seeds of demos"):
        check_disjoint([5, 12], [("demos", 11, 20)])
    empty = Suites("l", "legacy", 0, 1, 1).shortfall()  # nothing found: every bin misses its one level
    assert set(empty) == {"demo", "mission"} and all(set(n.values()) == {1} for n in empty.values())
    assert list(empty["demo"]) == list(range(25, 426, 50)) and list(empty["mission"]) == list(range(1, 10))


# values computed by the validation rollout of babyai/train/rollout.py before it was merged into babyai.agent
PINNED = {
    "tc": (16, 7.7875000000000005, [16, 16, 13, 16, 16, 12, 16, 16, 16, 11, 6, 16, 15, 8, 16, 16, 16, 5, 16, 16, 4,
                                    16, 16, 16, 16, 16, 16, 13, 12, 3, 16, 16, 14, 4, 7, 16, 3, 16, 16, 16]),
    "bc": (13, 4.39375, [16, 16, 12, 16, 15, 15, 16, 16, 16, 11, 6, 16, 16, 16, 16, 16, 14, 4, 11, 13, 16, 16, 15, 16,
                         16, 16, 16, 16, 16, 11, 16, 16, 16, 12, 16, 16, 16, 14, 16, 16]),
}


@pytest.mark.parametrize("kind", ["tc", "bc"])
def test_sampling_from_one_generator_replays_the_old_validation_rollout(kind):
    """Training's validation draws its actions from one torch stream: the episodes of before, to the step."""
    policy = untrained_policy(kind, seed=0)
    gen = torch.Generator().manual_seed(7 * 1_000_003 + 100)
    records = evaluate(policy, "BabyAI-GoToObjS4-v0", range(100, 140), generator=gen, batch_size=16, workers=0)
    successes, returns, lengths = PINNED[kind]
    assert [r.length for r in records] == lengths and sum(r.success for r in records) == successes
    assert sum(r.episode_return for r in records) == returns


def test_the_episode_picture_is_mostly_grid(tmp_path):
    """A small level's frames are enlarged to the picture's width; the captions sit in a band under them."""
    from types import SimpleNamespace

    from PIL import Image

    from babyai.evaluate.render import episode_frames, write_animation

    rng = np.random.default_rng(0)
    frames = [(rng.integers(0, 4, (64, 64, 3)) * 60).astype(np.uint8) for _ in range(3)]  # 64 colours: GIF keeps them
    record = SimpleNamespace(frames=frames, mission="go to the red ball", actions=[2, 0], injected=set(),
                             thoughts=["go to red ball", "go to red ball"], oracle_thoughts=["explore", "explore"],
                             halted=False, success=True, halt_thought=None)
    path = str(tmp_path / "ep.gif")
    write_animation(episode_frames(record, show_oracle=True), path)
    with Image.open(path) as im:
        w, h = im.size
        assert im.n_frames == 3 and w == 512  # 64 px enlarged 8 times: at least 480 wide
        first = np.asarray(im.convert("RGB"))
    assert h - w < 0.25 * h  # the caption band is under a quarter of the picture
    assert np.array_equal(first[:w:8, :w:8], frames[0])  # the grid fills the width, pixel for pixel


def test_validation_levels_counted_are_those_the_run_played(tmp_path):
    """A run's validation levels, for the overlap check of the testing levels: those its log.csv shows it played;
    without a log, every validation its schedule allows."""
    import json as _json

    from babyai.evaluate.suites import training_seed_ranges

    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"")
    train = {"demos": [], "valid_demos": [], "envs": ["A", "B"], "val_seed": 10**9, "val_episodes": 512,
             "epochs": 1_000_000, "val_interval": 1, "storage": str(tmp_path)}
    (run / "config.json").write_text(_json.dumps({"train": train}))
    assert training_seed_ranges(str(run)) == [("the validation levels", 10**9, 10**9 + 1_000_000 * 1024 - 1)]
    (run / "log.csv").write_text("update,validation_seed\n1,1000000000\n2,1000001024\n3,\n")
    assert training_seed_ranges(str(run)) == [("the validation levels", 10**9, 10**9 + 2 * 1024 - 1)]
