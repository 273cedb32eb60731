"""Defaults the imitation-from-observation commands show in --help, and the typed settings of the training
commands (their flags, as ``babyai.observe.mains`` takes them), kept free of torch and minigrid."""

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


# The settings of the training commands, as ``babyai.observe.mains`` takes them: the fields are the flags
# (``babyai.observe.cli``), in their order, which is that of a run's config.json.
@dataclass
class WorldModelRun:
    """scripts/train_world_model.py"""

    env: str
    embodiment: str
    model: str
    episodes: int = 0
    updates: int = 1500
    batch_size: int = 16
    seq_len: int = 32
    lr: float = 1e-3
    deter: int = 128
    stoch: int = 32
    kl_balance: float = KL_BALANCE
    free_nats: float = FREE_NATS
    eval_demos: str | None = None
    seed: int = 0
    storage_dir: str | None = None  # the storage root (None: $BABYAI_STORAGE or ./storage)
    quiet: bool = False  # no progress bar


@dataclass
class AimeRun:
    """scripts/train_aime.py"""

    env: str
    demos: str
    world_model: str
    model: str
    episodes: int = 0
    updates: int = 600
    batch_size: int = 32
    lr: float = 1e-3
    tau: float = 1.0
    estimator: str = AIME_ESTIMATORS[0]
    seed: int = 0
    eval_episodes: int = 200  # levels to measure success on (0: none)
    eval_seed: int = 10**7
    storage_dir: str | None = None  # the storage root (None: $BABYAI_STORAGE or ./storage)
    quiet: bool = False  # no progress bar


@dataclass
class IIDMRun:
    """scripts/train_iidm.py"""

    env: str
    embodiment: str
    demos: str
    model: str
    episodes: int = 0
    embodiment_episodes: int = 0
    model_epochs: int = 5
    policy_epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    tau: float = 1.0
    seed: int = 0
    eval_episodes: int = 200  # levels to measure success on (0: none)
    eval_seed: int = 10**7
    storage_dir: str | None = None  # the storage root (None: $BABYAI_STORAGE or ./storage)
    quiet: bool = False  # no progress bar


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
