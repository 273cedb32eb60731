"""An agent acting in levels, below training, evaluation and teaching, which all use it.

    vocab.py    the fixed vocabulary of missions and thoughts, saved with every model
    policy.py   ModelPolicy: a network stepped in batches (speaks a thought, acts; thoughts can be injected)
    envs.py     many levels stepped together, in this process or in worker processes
    rollout.py  the one batched rollout: a policy (or the oracle) plays many levels -> EpisodeRecords
    loading.py  build_agent, checkpoints, load_agent / load_policy

    from babyai.agent import load_policy, evaluate
    records = evaluate(load_policy("my_run"), "BabyAI-BossLevel-v0", range(3_000_000_000, 3_000_000_512))
"""

from babyai.lazy import lazy_exports

__all__ = [
    "CheckpointError", "EpisodeRecord", "ModelError", "ModelPolicy", "Steering", "StepOutput", "Vocabulary",
    "VocabularyError", "build_agent", "evaluate", "find_checkpoint", "load_agent", "load_checkpoint", "load_policy",
    "save_checkpoint", "success_rate",
]
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.agent.loading": ["CheckpointError", "build_agent", "find_checkpoint", "load_agent", "load_checkpoint",
                             "load_policy", "save_checkpoint"],
    "babyai.agent.policy": ["ModelError", "ModelPolicy", "StepOutput"],
    "babyai.agent.rollout": ["EpisodeRecord", "Steering", "evaluate", "success_rate"],
    "babyai.agent.vocab": ["Vocabulary", "VocabularyError"],
})
