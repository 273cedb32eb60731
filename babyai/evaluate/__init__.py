"""Evaluation: zero-shot suites, FADS, Precrime Intervention, steering, result files and pictures.

Episodes are played by the one batched rollout of ``babyai.agent`` (re-exported here):

    from babyai.evaluate import load_policy, evaluate, OracleThoughts
    policy = load_policy("my_run")                        # <storage>/models/my_run/best.pt
    records = evaluate(policy, "BabyAI-BossLevel-v0", range(3_000_000_000, 3_000_000_512))
    steered = evaluate(policy, "BabyAI-BossLevel-v0", seeds, steering=OracleThoughts())
"""

from babyai.agent import EpisodeRecord, ModelError, ModelPolicy, Steering, evaluate, load_policy, success_rate
from babyai.evaluate.fads import FadsResult, fads
from babyai.evaluate.precrime import TESTS as PRECRIME_TESTS
from babyai.evaluate.steering import FixedThought, OracleThoughts
from babyai.evaluate.suites import SuiteError, Suites, build_suites, load_suites, save_suites

__all__ = [
    "EpisodeRecord", "FadsResult", "FixedThought", "ModelError", "ModelPolicy", "OracleThoughts", "PRECRIME_TESTS",
    "Steering", "SuiteError", "Suites", "build_suites", "evaluate", "fads", "load_policy", "load_suites",
    "save_suites", "success_rate",
]
