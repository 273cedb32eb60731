"""Legacy seeding rebuilds the original program's levels: mission, first view, step limit.

The fixture ``levels_first_obs_seeds_0-99.jsonl.gz`` holds, from the reference episodes of the
original Thought Cloning program (``levels_seeds_0-99.jsonl.gz``: 20 levels x seeds 0..99, made
with one env per level walking the seeds in order), each episode's level, seed, mission, first
direction and first 7x7x3 view (C order), plus its length in steps and whether it succeeded.
"""

import gzip
import json
import os
from collections import defaultdict

import numpy as np
import pytest

from babyai.levels import UnknownLevelError, level_ids, make_env, reset_env

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "levels_first_obs_seeds_0-99.jsonl.gz")


def _load():
    groups = defaultdict(list)
    with gzip.open(FIXTURE, "rt") as f:
        for line in f:
            ref = json.loads(line)
            groups[ref["level"]].append(ref)
    return groups


REFS = _load()


@pytest.mark.parametrize("level", sorted(REFS))
def test_first_observation_and_mission_match_the_original(level):
    # One env per level, seeds in the reference's order: on Synth, SynthLoc and SynthSeq a level
    # depends on the locked room of the level generated before it, as in the original.
    env = make_env(level)
    mismatches = []
    for ref in REFS[level]:
        obs = reset_env(env, ref["seed"], fresh=False)
        got = (obs["mission"], int(obs["direction"]), obs["image"].flatten().tolist())
        if got != (ref["mission"], ref["first_direction"], ref["first_image"]):
            mismatches.append(ref["seed"])
    assert len(REFS[level]) == 100
    assert mismatches == []


def test_keycorridor_step_limit_is_the_originals():
    env = make_env("BabyAI-KeyCorridorS3R3-v0")
    for seed in range(5):
        reset_env(env, seed)
        # BabyAI 1.1: room_size**2 * num_rows * num_cols per navigation; "pick up" needs one.
        assert env.max_steps == 3**2 * 3 * 3 == 81
    # The original's failed episodes ran exactly that long.
    failed = [ref for ref in REFS["BabyAI-KeyCorridorS3R3-v0"] if not ref["success"]]
    assert failed and all(ref["steps"] == 81 for ref in failed)
    # And the env truncates there: turning in place never finishes the mission.
    reset_env(env, failed[0]["seed"])
    for step in range(1, 82):
        _, reward, terminated, truncated, _ = env.step(env.actions.left)
        if terminated or truncated:
            break
    assert (step, terminated, truncated, reward) == (81, False, True, 0)
    # gymnasium seeding stays plain minigrid (fixed 30 * room_size**2).
    plain = make_env("BabyAI-KeyCorridorS3R3-v0", seeding="gymnasium")
    reset_env(plain, 0)
    assert plain.max_steps == 270


def test_step_limit_is_recomputed_for_every_level_with_a_constructor_limit():
    for level, navs in [("BabyAI-PutNextS6N3-v0", 2), ("BabyAI-BlockedUnlockPickup-v0", 1),
                        ("BabyAI-UnlockToUnlock-v0", 1), ("BabyAI-FindObjS5-v0", 1)]:
        env = make_env(level)
        reset_env(env, 1)
        assert env.max_steps == navs * env.room_size**2 * env.num_rows * env.num_cols, level


def test_synths5r2_has_the_original_layout():
    env = make_env("BabyAI-SynthS5R2-v0")
    reset_env(env, 0)
    assert (env.room_size, env.num_rows, env.num_cols, env.num_dists) == (5, 2, 2, 7)


def test_renamed_levels_keep_their_original_names():
    assert make_env("BabyAI-1RoomS8-v0").room_size == 8
    assert make_env("BabyAI-GoToObjS6-v0").room_size == 6
    assert make_env("OpenTwoDoorsDebug").strict is True


def test_every_level_the_original_registered_is_made():
    # original_level_ids.txt: the 105 ``BabyAI-*-v0`` ids BabyAI 1.1's level files (as shipped
    # with Thought Cloning) registered, one per ``Level_*`` class
    with open(os.path.join(os.path.dirname(FIXTURE), "original_level_ids.txt")) as f:
        original = f.read().split()
    assert len(original) == 105
    for level in original:
        for seeding in ("legacy", "gymnasium"):
            env = make_env(level, seeding=seeding)
            obs = reset_env(env, 3)
            assert obs["mission"] and obs["image"].shape == (7, 7, 3), (level, seeding)
            # BabyAI 1.1's step limit: room_size**2 * rooms per navigation the mission needs
            if seeding == "legacy" and hasattr(env, "num_navs_needed"):
                rooms = env.room_size**2 * env.num_rows * env.num_cols
                assert env.max_steps == env.num_navs_needed(env.instrs) * rooms, level


def test_levels_minigrid_lacks_are_registered_with_gymnasium():
    import gymnasium

    env = gymnasium.make("BabyAI-TestPutNextToIdentical-v0")
    obs, _ = env.reset(seed=0)
    assert obs["mission"] == ("put the blue ball next to the yellow box, "
                              "then put the yellow box next to a ball")
    assert "BabyAI-PutNext-v0" in level_ids() and make_env("PutNext").num_rows == 3


def test_unknown_level_names_close_matches():
    with pytest.raises(UnknownLevelError) as info:
        make_env("BabyAI-BossLevl-v0")
    message = str(info.value)
    assert "BabyAI-BossLevl-v0" in message and "BabyAI-BossLevel-v0" in message
    assert "\n" not in message


def test_fresh_reset_gives_each_seed_one_level_whatever_came_before():
    level = "BabyAI-SynthLoc-v0"
    alone = {}
    for seed in (30, 40, 62, 79, 80):
        obs = reset_env(make_env(level), seed)
        alone[seed] = (obs["mission"], obs["image"].tobytes())
    walked = make_env(level)
    for seed in range(81):
        obs = reset_env(walked, seed)
        if seed in alone:
            assert (obs["mission"], obs["image"].tobytes()) == alone[seed]


def test_fast_observation_is_minigrids_observation():
    # the cached-encoding view must equal minigrid's own gen_obs after any action sequence
    import random

    from minigrid.minigrid_env import MiniGridEnv

    rng = random.Random(0)
    for level in ("BabyAI-BossLevel-v0", "BabyAI-KeyCorridorS3R3-v0", "BabyAI-UnblockPickup-v0"):
        env = make_env(level)
        for seed in range(8):
            obs = reset_env(env, seed)
            for _ in range(250):
                assert np.array_equal(obs["image"], MiniGridEnv.gen_obs(env)["image"])
                obs, _, terminated, truncated, _ = env.step(rng.choice([0, 1, 2, 2, 2, 3, 4, 5]))
                if terminated or truncated:
                    break


def test_visible_cells_is_minigrids_process_vis():
    # the row-by-row table of fastobs against minigrid's own light spreading, on random views
    import random

    from minigrid.core.grid import Grid
    from minigrid.core.world_object import Wall

    from babyai.levels.fastobs import visible_cells

    rng = random.Random(0)
    for size in (3, 5, 7, 9):
        for _ in range(300):
            opacity = np.array([[rng.random() < rng.choice((0.1, 0.3, 0.6)) for _ in range(size)]
                                for _ in range(size)])
            grid = Grid(size, size)
            for i, j in zip(*np.nonzero(opacity)):
                grid.set(int(i), int(j), Wall())
            expected = grid.process_vis(agent_pos=(size // 2, size - 1))
            assert np.array_equal(visible_cells(opacity, size), expected)
