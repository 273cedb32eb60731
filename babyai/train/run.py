"""A training run's folder, its settings, and how a run starts: new, resumed, or from a pretrained model.

``<storage>/models/NAME/`` holds config.json, vocab.json, command.txt, last.pt, best.pt, log.csv,
train.log and, with TensorBoard on, tb/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field

from babyai.agent.loading import ALGOS, CheckpointError, load_checkpoint
from babyai.agent.vocab import Vocabulary
from babyai.atomic import atomic_write_text
from babyai.checks import MAX_RNG_SEED, check_count, check_device, check_imitation_numbers, check_number, check_seed
from babyai.levels import resolve_level_id
from babyai.locks import hold, remove_temp_files
from babyai.model.config import TCConfig
from babyai.storage import check_name


@dataclass
class TrainConfig:
    """Everything a training run needs; the scripts fill it from the original flags."""

    algo: str  # "tc": Thought Cloning (sg_coef 0: TC without imitating thought); "bc": Behavioral Cloning
    model_name: str
    envs: list[str]  # levels for validation (one, or several with --multi-env)
    demos: list[str]  # dataset names or paths (one, or several with --multi-demos)
    episodes: list[int]  # how many episodes of each dataset to use (0: all)
    valid_demos: list[str] | None = None  # validation datasets (default: each NAME_valid)
    model: TCConfig = field(default_factory=TCConfig)
    storage: str | None = None
    group: str = ""  # --expr-group-name: runs go to <storage>/<group>/models/NAME
    pretrained_model: str | None = None
    seed: int = 1  # 0: draw one (it is logged and saved)
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    optim_eps: float = 1e-5
    batch_size: int = 1280
    recurrence: int = 20
    episodes_per_lane: int = 3  # episodes played one after the other in each row of a batch (babyai.train.data)
    epochs: int = 1_000_000
    epoch_length: int = 0  # episodes per epoch (0: the whole dataset)
    frames: int = int(9e10)
    patience: int = 100
    entropy_coef: float = 0.01
    sg_coef: float = 2.0
    warm_start: bool = False
    stop_tf: int = 10
    tf_until_nll: float = 0.0  # > 0: teacher forcing is phased out only once the validation thought NLL is below it
    history_noise: float = 0.0  # share of teacher-forced frames whose thought history reads a random thought
    history_sampling: float = 0.0  # share of teacher-forced frames whose thought history reads the model's own thought
    history_sampling_steps: int = 0  # optimizer steps over which that share rises linearly from 0 (0: from the start)
    best_ties_by_thoughts: bool = False  # best.pt: equal validation success goes to the better thoughts played
    val_interval: int = 1
    val_episodes: int = 512
    val_seed: int = 10**9  # BabyAI's validation range, as --val-seed (the original's default was 2023)
    val_fixed: bool = False  # every validation plays the levels of the first (default: new levels each time)
    log_interval: int = 1
    save_interval: int = 1  # epochs between checkpoints of the last model (0: only at the end)
    checkpoint_minutes: float = 10.0  # also checkpoint within an epoch this often
    tb: bool = False
    seeding: str = "legacy"
    device: str | None = None  # None: the GPU if there is one, else the CPU
    command: str = ""

    def __post_init__(self):
        if self.algo not in ALGOS:
            raise ValueError(f"unknown algorithm {self.algo!r}")
        check_name(self.model_name, "--model")
        if self.group:
            check_name(self.group, "--expr-group-name")
        self.envs = [resolve_level_id(env) for env in self.envs]  # BossLevel = BabyAI-BossLevel-v0
        for name in ("batch_size", "recurrence", "episodes_per_lane", "val_interval", "log_interval"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {self.epochs}")
        if len(self.demos) != len(self.episodes):
            raise ValueError("give one --multi-episodes count per --multi-demos dataset")
        if self.val_episodes < 0 or any(e < 0 for e in self.episodes) or self.epoch_length < 0:
            raise ValueError("episode counts must not be negative")
        self._check_values()

    def _check_values(self) -> None:
        """Numbers that would train nonsense or crash later (nan, negative patience, ...)."""
        check_seed("--seed", self.seed, limit=MAX_RNG_SEED)
        sets = 1 if self.val_fixed else -(-self.epochs // self.val_interval)
        validations = sets * len(self.envs) * self.val_episodes
        check_seed("--val-seed", self.val_seed, count=validations)
        check_imitation_numbers(self.lr, self.beta1, self.beta2, self.optim_eps, self.entropy_coef, self.sg_coef)
        check_number("--tf-until-nll", self.tf_until_nll, low=0)
        check_number("--thought-history-noise", self.history_noise, 0, 1)
        check_number("--thought-history-sampling", self.history_sampling, 0, 1)
        check_count("--history-sampling-steps", self.history_sampling_steps)
        if (self.tf_until_nll or self.history_noise or self.history_sampling or self.best_ties_by_thoughts
                or not self.model.action_reads_thought) and self.algo != "tc":
            raise ValueError("--tf-until-nll, --thought-history-noise, --thought-history-sampling, "
                             "--best-ties-by-thoughts and --thought-aux-only are Thought Cloning settings: a Behavioral "
                             "Cloning model has no thoughts")
        check_number("--checkpoint-minutes", self.checkpoint_minutes, low=0)
        for flag, value in (("--patience", self.patience), ("--save-interval", self.save_interval),
                            ("--stop-tf", self.stop_tf)):
            check_count(flag, value)
        check_count("--frames", self.frames, low=1)
        check_device("--device", self.device)

    # settings added since runs were first saved, with the value those runs had
    ADDED = {"val_fixed": False, "tf_until_nll": 0.0, "history_noise": 0.0, "history_sampling": 0.0,
             "history_sampling_steps": 0, "best_ties_by_thoughts": False}
    # settings that may change between a run and its resumption
    MUTABLE = ("tb", "log_interval", "save_interval", "checkpoint_minutes", "device", "command", "storage")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["model"] = self.model.to_dict()
        return d

    def schedule_differences(self, saved: dict) -> list[str]:
        """The settings (other than MUTABLE and the seed) in which this config differs from a saved one."""
        mine = self.to_dict()
        saved = {**self.ADDED, **saved}  # runs saved before a setting existed had its default
        if isinstance(saved.get("envs"), list):  # runs saved before level ids were made canonical
            saved = {**saved, "envs": [resolve_level_id(str(env)) for env in saved["envs"]]}
        if isinstance(saved.get("model"), dict):  # model settings added since had their default
            saved = {**saved, "model": {**TCConfig().to_dict(), **saved["model"]}}
        out = []
        for key in sorted(set(mine) | set(saved)):
            if key in self.MUTABLE or key == "seed":
                continue
            if _canon(mine.get(key)) != _canon(saved.get(key)):
                out.append(f"{key} {saved.get(key)!r} -> {mine.get(key)!r}")
        return out


def _canon(x):
    return json.loads(json.dumps(x))


def run_storage(cfg: TrainConfig) -> str:
    from babyai.storage import group_root

    return group_root(cfg.group, cfg.storage)


def run_dir(cfg: TrainConfig, name: str | None = None) -> str:
    from babyai.storage import model_dir

    return model_dir(name or cfg.model_name, run_storage(cfg))


@contextlib.contextmanager
def hold_run(folder: str, main: bool = True):
    """Lock the run folder for the run (the main process only; the others write nothing) and
    remove the temporary files a killed run left there. A run folder this command made goes
    again if the command fails before its first checkpoint (e.g. on missing demos)."""
    if not main:
        yield
        return
    new = not os.path.exists(folder)
    with hold(folder, "run"):
        remove_temp_files(folder)
        try:
            yield
        except Exception:  # not on an interrupt: its train.log stays
            if new and not os.path.exists(os.path.join(folder, "last.pt")):
                shutil.rmtree(folder, ignore_errors=True)
            raise


def choose_seed(seed: int) -> int:
    """``seed``, or for 0 a random one (as the original's --seed 0)."""
    return seed if seed != 0 else 1 + secrets.randbelow(2**31 - 2)


@dataclass
class Start:
    """How the run starts: from a checkpoint of this run, from a pretrained model, or fresh."""

    checkpoint: dict | None  # last.pt of this run (resume)
    pretrained: dict | None  # weights to start from
    model_config: TCConfig
    vocab: Vocabulary
    seed: int


class RunExistsError(ValueError):
    """A run folder that cannot be resumed with this command."""


# the kinds of run a folder under <storage>/models holds, named with the command that makes each
RUN_KINDS = {"tc": "a Thought Cloning training run (train_tc.py)",
             "bc": "a Behavioral Cloning training run (train_il.py)",
             "teach": "a teaching session (teach.py)", "idm": "an inverse dynamics model (train_idm.py)",
             "world-model": "a world model (train_world_model.py)", "aime": "an AIME policy (train_aime.py)",
             "iidm": "an IIDM policy (train_iidm.py)"}
# files that only one kind writes
KIND_FILES = (("teaching.csv", "teach"), ("snapshots", "teach"), ("idm.pt", "idm"), ("world_model.pt", "world-model"),
              ("aime.pt", "aime"), ("iidm.pt", "iidm"))


def run_kind(folder: str) -> str | None:
    """The kind of run ``folder`` holds (a key of RUN_KINDS, or a checkpoint's algo): a file only that kind
    writes, else what its config.json records, else its checkpoint's algo; None when it holds no run."""
    for name, kind in KIND_FILES:
        if os.path.exists(os.path.join(folder, name)):
            return kind
    try:
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
    except (OSError, ValueError):
        config = None
    if isinstance(config, dict) and config.get("kind") in RUN_KINDS:
        return config["kind"]
    if isinstance(config, dict) and "train" in config and config.get("algo") in ALGOS:
        return config["algo"]
    path = next((p for p in (os.path.join(folder, n) for n in ("last.pt", "best.pt")) if os.path.isfile(p)), None)
    return None if path is None else str(load_checkpoint(path).get("algo"))


def check_run_kind(folder: str, kind: str, name: str) -> None:
    """RunExistsError when ``folder`` holds a run of another kind than ``kind``: it is never taken over."""
    found = run_kind(folder) if os.path.isdir(folder) else None
    if found is not None and found != kind:
        raise RunExistsError(f"model {name} is {RUN_KINDS.get(found, f'a {found} run')}, not {RUN_KINDS[kind]}; "
                             "use another --model")


def decide_start(cfg: TrainConfig, folder: str) -> Start:
    """Resume when ``folder`` holds a checkpoint (refusing other settings), else start fresh or pretrained."""
    check_run_kind(folder, cfg.algo, cfg.model_name)
    last = os.path.join(folder, "last.pt")
    if os.path.exists(last):
        ckpt = load_checkpoint(last)
        if ckpt.get("algo") != cfg.algo:
            raise RunExistsError(f"run {cfg.model_name} is a {ckpt.get('algo')} run, not {cfg.algo}; use another --model")
        saved_cfg = dict(ckpt["train_config"])
        diffs = cfg.schedule_differences(saved_cfg)
        if cfg.seed not in (0, saved_cfg.get("seed"), ckpt["seed"]):
            diffs.append(f"seed {ckpt['seed']} -> {cfg.seed}")
        if diffs:
            raise RunExistsError(
                f"run {cfg.model_name} exists with other settings ({'; '.join(diffs)}); rerun its own command to "
                f"resume it, or choose another --model"
            )
        return Start(ckpt, None, TCConfig.from_dict(ckpt["model_config"]), Vocabulary.from_dict(ckpt["vocab"]), ckpt["seed"])
    seed = choose_seed(cfg.seed)
    if cfg.pretrained_model:
        source = run_dir(cfg, cfg.pretrained_model)
        path = next((p for p in (os.path.join(source, "best.pt"), os.path.join(source, "last.pt")) if os.path.exists(p)), None)
        if path is None:
            raise CheckpointError(f"no pretrained model {cfg.pretrained_model} (no best.pt or last.pt in {source})")
        ckpt = load_checkpoint(path)
        if ckpt.get("algo") != cfg.algo:
            raise RunExistsError(f"pretrained model {cfg.pretrained_model} is a {ckpt.get('algo')} model, not {cfg.algo}")
        return Start(None, ckpt, TCConfig.from_dict(ckpt["model_config"]), Vocabulary.from_dict(ckpt["vocab"]), seed)
    return Start(None, None, cfg.model, Vocabulary.babyai(cfg.model.vocab_size), seed)


def write_run_files(folder: str, cfg: TrainConfig, start: Start, world: int) -> None:
    """config.json and vocab.json (written once), and the command line appended to command.txt."""
    os.makedirs(folder, exist_ok=True)
    if start.checkpoint is None:
        config = {
            "algo": cfg.algo,
            "seed": start.seed,
            "model": start.model_config.to_dict(),
            "train": cfg.to_dict(),
            "world_size": world,
        }
        atomic_write_text(os.path.join(folder, "config.json"), json.dumps(config, indent=1) + "\n")
        atomic_write_text(os.path.join(folder, "vocab.json"), start.vocab.to_json() + "\n")
    with open(os.path.join(folder, "command.txt"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} seed={start.seed} world={world} {cfg.command}\n")
