"""Defaults the imitation-from-observation commands show in --help, kept free of torch and minigrid."""

from __future__ import annotations

from dataclasses import dataclass, field

POLICIES = ("random", "noisy-oracle")  # the players of embodiment data
KL_BALANCE = 0.8  # DreamerV2's share of the KL gradient that trains the prior
FREE_NATS = 1.0  # nats per frame of KL that cost nothing (DreamerV2: 1)
AIME_ESTIMATORS = ("straight-through", "marginal")  # how AIME's discrete actions pass the gradient
AIME_VARIANTS = (("AIME", "aime", "straight-through"), ("AIME (marginal)", "aimem", "marginal"))  # report: method, tag
AIME_WINDOW = 64  # the first frames of each demonstration that AIME fits
AIME_CHECKPOINT = "aime.pt"
IIDM_CHECKPOINT = "iidm.pt"


@dataclass
class ReportConfig:
    level: str = "BabyAI-GoToLocal-v0"
    name: str = "ifo_gotolocal"
    storage: str = "storage"
    out: str = "results"
    demos: int = 400  # oracle demonstrations (their actions are used by BC only)
    demo_seed: int = 2023
    valid_demos: int = 100
    embodiment: list[int] = field(default_factory=lambda: [100, 300, 1000])  # random episodes; the last: all methods
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    epochs: int = 4  # imitation runs (BC, BCO, TC from observation)
    batch_size: int = 32
    memory_dim: int = 32
    instr_dim: int = 32
    idm_epochs: int = 5
    wm_updates: int = 600
    aime_updates: int = 300
    iidm_model_epochs: int = 1
    iidm_policy_epochs: int = 20
    eval_episodes: int = 200
    eval_seed: int = 10**7
    only_finished: bool = False  # write the report from the finished runs, run nothing
    command: str = ""

    def __post_init__(self):
        from babyai.storage import check_name

        check_name(self.name, "--name")  # it names folders and files in the storage and in --out
