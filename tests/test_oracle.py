"""The oracle reproduces what the original Thought Cloning program did, seed for seed."""

import hashlib
from collections import defaultdict

import pytest
from conftest import read_jsonl_gz

from babyai.bot import Bot, BotError
from babyai.levels import make_env, reset_env


def play(env, seed):
    # seeds in the reference's order on one env, as the original walked them (Synth levels
    # remember the previous level's locked room)
    obs = reset_env(env, seed, fresh=False)
    first = (obs["mission"], obs["image"].flatten().tolist(), int(obs["direction"]))
    bot, action, actions, thoughts, hashes, error, done = Bot(env), None, [], [], [], None, False
    reward = 0
    while not done:
        try:
            action, thought = bot.replan(action, obs["image"])
        except BotError as e:
            error = str(e)
            break
        hashes.append(hashlib.sha1(obs["image"].tobytes()).hexdigest()[:10])
        actions.append(action)
        thoughts.append(thought)
        obs, reward, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    return first, actions, thoughts, hashes, reward, error


def check_episodes(records):
    envs, mismatches = {}, []
    for ref in records:
        env = envs.get(ref["level"]) or envs.setdefault(ref["level"], make_env(ref["level"]))
        first, actions, thoughts, hashes, reward, error = play(env, ref["seed"])
        # some references hold only the mission, actions and thoughts
        expected = (ref["mission"], ref.get("first_image", first[1]),
                    ref.get("first_direction", first[2]))
        if first != expected:
            mismatches.append((ref["level"], ref["seed"], "level"))
        elif (actions, thoughts, hashes) != (ref["actions"], ref["thoughts"],
                                             ref.get("obs_sha1_10", hashes)):
            step = next((t for t, pair in enumerate(zip(actions, thoughts))
                         if t >= len(ref["actions"])
                         or pair != (ref["actions"][t], ref["thoughts"][t])), len(actions))
            mismatches.append((ref["level"], ref["seed"], f"step {step}"))
        elif (reward > 0) != ref["success"] or (error is None) != (ref["error"] is None):
            mismatches.append((ref["level"], ref["seed"], "outcome"))
    return mismatches


@pytest.mark.slow
def test_bosslevel_500_seeds():
    assert check_episodes(read_jsonl_gz("bosslevel_seeds_0-499.jsonl.gz")) == []


def _by_level(name):
    groups = defaultdict(list)
    for ref in read_jsonl_gz(name):
        groups[ref["level"]].append(ref)
    return groups


LEVELS = _by_level("levels_seeds_0-99.jsonl.gz")
# PutNext and BabyAI 1.1's bot regression levels, which minigrid lacks (babyai.levels.extra)
EXTRA_LEVELS = _by_level("levels_extra_seeds_0-29.jsonl.gz")


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_levels_100_seeds(level):
    assert check_episodes(LEVELS[level]) == []


# The same levels on seeds 30..59, which the shared reference does not hold: made for this project
# by running the original program (Thought Cloning 05c53e9's levels and bot on gym 0.9.6 +
# gym-minigrid 1.0.0, a fresh env per seed, as the reference was made; it reproduces the reference
# on seeds 0..29).
HELDOUT_LEVELS = _by_level("levels_extra_heldout_seeds_30-59.jsonl.gz")


@pytest.mark.parametrize("level", sorted(EXTRA_LEVELS))
def test_levels_minigrid_lacks_30_seeds(level):
    assert len(EXTRA_LEVELS[level]) == 30 and len(HELDOUT_LEVELS[level]) == 30
    assert check_episodes(EXTRA_LEVELS[level]) == []
    assert check_episodes(HELDOUT_LEVELS[level]) == []


def test_thought_sentences_are_short_and_known_shapes():
    refs = read_jsonl_gz("bosslevel_seeds_0-499.jsonl.gz")[:50]
    env = make_env("BabyAI-BossLevel-v0")
    for ref in refs:
        _, _, thoughts, _, _, _ = play(env, ref["seed"])
        assert all(1 <= len(t.split()) <= 8 for t in thoughts)


def _original_bfs(width, kinds, seen, starts, ignore_blockers):
    """The original bot's search: every neighbour queued, visited cells skipped when dequeued."""
    from collections import deque

    from babyai.bot.search import BLOCKER, HEADINGS, STOP

    stop = (STOP,) if ignore_blockers else (STOP, BLOCKER)
    queue = deque((p, HEADINGS[h], -1) for p, h in starts)
    previous, order = {}, []
    while queue:
        p, (di, dj), prev = queue.popleft()
        if p in previous:
            continue
        previous[p] = prev
        order.append(p)
        if seen[p] and kinds[p] not in stop:
            for k, l in ((di, dj), (dj, di), (-dj, -di), (-di, -dj)):
                if p + l * width + k not in previous:
                    queue.append((p + l * width + k, (k, l), p))
    return order, previous


def test_traversal_visits_as_the_original_search():
    # queueing each cell once must keep the original's visit order and predecessors, also
    # when the search is grown lazily by queries and restarted from many cells with blockers
    import random
    from types import SimpleNamespace

    from babyai.bot.search import BLOCKER, FREE, STOP, Traversal

    rng = random.Random(0)
    for _ in range(300):
        width, height = rng.randint(3, 12), rng.randint(3, 12)
        n = width * height
        border = {p for p in range(n) if p % width in (0, width - 1) or p // width in (0, height - 1)}
        kinds = [STOP if p in border else rng.choice((FREE,) * 6 + (BLOCKER, STOP)) for p in range(n)]
        seen = [rng.random() < 0.8 for _ in range(n)]
        grid = SimpleNamespace(grid=[None] * n, width=width)
        interior = [p for p in range(n) if p not in border] or [width + 1]
        starts = [(rng.choice(interior), rng.randrange(4))]
        clear = Traversal(grid, kinds, seen, starts, False)
        for target in rng.sample(range(n), 3):  # grow it lazily first
            clear.find_position((target % width, target // width))
        clear.exhaust()
        order, previous = _original_bfs(width, kinds, seen, starts, False)
        assert clear.visited() == order
        assert [clear.previous[p] for p in order] == [previous[p] for p in order]
        blocked_starts = [(p, 0) for p in order]
        blocked = Traversal(grid, kinds, seen, blocked_starts, True)
        blocked.exhaust()
        order, previous = _original_bfs(width, kinds, seen, blocked_starts, True)
        assert blocked.visited() == order
        assert [blocked.previous[p] for p in order] == [previous[p] for p in order]
