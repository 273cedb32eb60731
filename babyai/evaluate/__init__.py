"""Evaluation: zero-shot suites, FADS, Precrime Intervention, steering, result files and pictures.

Episodes are played by the one batched rollout of ``babyai.agent`` (re-exported here):

    from babyai.evaluate import load_policy, evaluate, OracleThoughts
    policy = load_policy("my_run")                        # <storage>/models/my_run/best.pt
    records = evaluate(policy, "BabyAI-BossLevel-v0", range(3_000_000_000, 3_000_000_512))
    steered = evaluate(policy, "BabyAI-BossLevel-v0", seeds, steering=OracleThoughts())

(The names are imported when first used.)
"""

from babyai.lazy import lazy_exports

__all__ = [
    "EpisodeRecord", "FadsResult", "FixedThought", "ModelError", "ModelPolicy", "OracleThoughts", "PRECRIME_TESTS",
    "Steering", "SuiteError", "Suites", "build_suites", "evaluate", "fads", "load_policy", "load_suites",
    "save_suites", "success_rate",
]
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.agent": ["EpisodeRecord", "ModelError", "ModelPolicy", "Steering", "evaluate", "load_policy",
                     "success_rate"],
    "babyai.evaluate.fads": ["FadsResult", "fads"],
    "babyai.evaluate.precrime": ["TESTS as PRECRIME_TESTS"],
    "babyai.evaluate.steering": ["FixedThought", "OracleThoughts"],
    "babyai.evaluate.suites": ["SuiteError", "Suites", "build_suites", "load_suites", "save_suites"],
})
