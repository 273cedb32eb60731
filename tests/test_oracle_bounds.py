"""The oracle never plans forever: on every level its work per episode is bounded, and a bot that
cannot plan fails with a BotError, which generation records as a failed attempt."""

import pytest

from babyai.bot import Bot, BotError
from babyai.bot.planner import MAX_EPISODE_WORK
from babyai.bot.subgoals import Subgoal
from babyai.demos import DemoSpec, generate_dataset, open_demos
from babyai.levels import level_ids, make_env, reset_env

# this test's own bound on subgoal expansions per episode (the reference seeds need at most 562):
# past it, the bot is planning forever
RUNAWAY = 25_000


class Runaway(Exception):
    pass


@pytest.fixture
def expansions(monkeypatch):
    """Counts every subgoal's ``before_action`` call; raises Runaway past RUNAWAY."""
    count = [0]

    def counted(original):
        def before_action(self):
            count[0] += 1
            if count[0] > RUNAWAY:
                raise Runaway
            return original(self)
        return before_action

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for cls in subclasses(Subgoal):
        if "before_action" in vars(cls):
            monkeypatch.setattr(cls, "before_action", counted(vars(cls)["before_action"]))
    return count


def play(env, seed, count):
    """Steps and outcome ('success', 'failure' or the BotError) of one oracle episode."""
    count[0] = 0
    obs = reset_env(env, seed)
    bot, action, steps, done, reward = Bot(env), None, 0, False, 0.0
    while not done:
        try:
            action, _ = bot.replan(action, obs["image"])
        except BotError as error:
            return steps, str(error)
        obs, reward, terminated, truncated, _ = env.step(action)
        done, steps = terminated or truncated, steps + 1
        assert steps <= env.max_steps
    return steps, "success" if reward > 0 else "failure"


# UnlockToUnlock 4000002: the original bot pushes subgoals forever in its fourth step
CASES = [(level, seed) for level in level_ids() for seed in (0, 1, 2)] + [
    ("BabyAI-UnlockToUnlock-v0", seed) for seed in range(4_000_000, 4_000_005)]


def test_work_per_episode_is_bounded_on_every_level(expansions):
    envs, outcomes = {}, {}
    for level, seed in CASES:
        env = envs.get(level) or envs.setdefault(level, make_env(level))
        try:
            outcomes[level, seed] = play(env, seed, expansions)
        except Runaway:
            pytest.fail(f"{level} seed {seed}: the oracle planned past {RUNAWAY} expansions")
        assert expansions[0] <= MAX_EPISODE_WORK + 1
    assert outcomes["BabyAI-UnlockToUnlock-v0", 4_000_002][1].startswith("no plan after")
    assert outcomes["BabyAI-BossLevel-v0", 0][1] == "success"


def test_a_bot_that_cannot_plan_is_a_failed_attempt(tmp_path, expansions):
    spec = DemoSpec(level="BabyAI-UnlockToUnlock-v0", episodes=5, first_seed=4_000_000)
    meta = generate_dataset(str(tmp_path / "d"), spec, progress=False)
    demos = open_demos(str(tmp_path / "d"))
    assert len(demos) == 5 and meta["complete"] and meta["failed_attempts"] >= 1
    assert all(demos[i].seed == 4_000_000 + i for i in range(5))
