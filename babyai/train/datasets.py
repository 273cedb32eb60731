"""Opening the training and validation demonstrations of a run, and the checks made before training."""

from __future__ import annotations

import logging
import os

from babyai.levels import resolve_level_id
from babyai.train.data import DatasetError, Source, Tokenizer, open_dataset
from babyai.train.run import TrainConfig
from babyai.train.schedule import validation_count
from babyai.agent.vocab import Vocabulary

CHECKED_EPISODES = 100  # episodes of each dataset whose words are checked before training starts


def check_demos_exist(cfg: TrainConfig) -> None:
    """A DatasetError naming the first training dataset that is not there (before a model is built for it)."""
    from babyai.storage import demos_path, storage_dir

    for name in cfg.demos:
        path = demos_path(name, storage_dir(cfg.storage))
        if not os.path.exists(path):
            raise DatasetError(f"no demonstrations {name} at {path}: make them first "
                               f"(scripts/make_agent_demos.py --demos {name})")


def validation_demos_text(cfg: TrainConfig, episodes: int) -> str:
    """What the log says of the validation demos: their episodes, or why there are none."""
    if episodes:
        return f"{episodes:,} validation demo episodes"
    if cfg.val_episodes == 0:
        return "no validation demos (--val-episodes 0)"
    names = cfg.valid_demos or [f"{n}_valid" for n in cfg.demos]
    return f"the validation demos {', '.join(names)} are missing or empty: validation accuracy is not measured"


def load_sources(cfg: TrainConfig, tokenizer: Tokenizer, log: logging.Logger) -> tuple[list[Source], list[Source]]:
    """The training sources (first --episodes of each dataset) and the validation sources (first
    --val-episodes of each NAME_valid, or of --valid), their words checked against the vocabulary."""
    from babyai.storage import demos_path, storage_dir

    root = storage_dir(cfg.storage)
    train = []
    for name, episodes in zip(cfg.demos, cfg.episodes):
        reader = open_dataset(demos_path(name, root))
        if len(reader) == 0:
            raise DatasetError(f"the demos {name} hold no episodes: nothing to train on")
        meta = getattr(reader, "meta", None) or {}
        if cfg.algo == "tc" and meta.get("thoughts") is False:  # e.g. imported from Minari
            raise DatasetError(f"the demos {name} have no thoughts ({meta.get('imported_from', 'imported')}): "
                               "Thought Cloning imitates thoughts; train Behavioral Cloning on them with "
                               "scripts/train_il.py")
        if episodes > len(reader):
            raise DatasetError(f"there are only {len(reader)} episodes in the demos {name}, not {episodes}")
        source = Source(name, reader, episodes or len(reader))
        _check_words(source, tokenizer)
        level = (getattr(reader, "meta", None) or {}).get("level")
        if level is not None and resolve_level_id(str(level)) not in cfg.envs and len(cfg.envs) == 1:
            log.warning(f"the demos {name} are of level {level}, but validation runs on {cfg.envs[0]}")
        train.append(source)
    valid = []
    for name in cfg.valid_demos or [f"{n}_valid" for n in cfg.demos]:
        path = demos_path(name, root)
        if not os.path.exists(path):
            log.warning(f"no validation demos {name} ({path}): validation accuracy is not measured")
            continue
        reader = open_dataset(path)
        if cfg.val_episodes > len(reader):
            log.info(f"using all the {len(reader)} episodes of {name} for validation accuracy")
        source = Source(name, reader, min(cfg.val_episodes, len(reader)))
        if source.episodes:
            _check_words(source, tokenizer)
            valid.append(source)
    return train, valid


def _check_words(source: Source, tokenizer: Tokenizer) -> None:
    words = getattr(source.reader, "vocabulary", None)  # the dataset's own word list, when it keeps one
    if words:
        tokenizer.vocab.check(words, f"the demos {source.name}")
    for i in range(min(CHECKED_EPISODES, source.episodes)):
        ep = source.reader[i]
        try:
            tokenizer.mission(ep.mission)
            for thought in set(ep.thoughts):
                tokenizer.thought(thought)
        except ValueError as e:
            raise type(e)(f"demos {source.name}, episode {i}: {e}") from None


def check_levels(cfg: TrainConfig, vocab: Vocabulary, log: logging.Logger, probes: int = 5) -> None:
    """Every validation level exists and its missions (on the first seeds of validation) use known words."""
    from babyai.levels import make_env, reset_env

    for level in cfg.envs:
        env = make_env(level, seeding=cfg.seeding)
        missions = [reset_env(env, cfg.val_seed + k)["mission"] for k in range(probes)]
        vocab.check(missions, f"level {level}")


def warn_seed_overlap(cfg: TrainConfig, index, log: logging.Logger) -> None:
    """Warn when the levels of any validation of the run fall among the training demos' seeds (the README flags
    do: demos from seed 2023 and --val-seed 2023 validate on the first training levels). Each validation plays
    a new set (unless --val-fixed): every set the run's --epochs can reach is checked."""
    if cfg.val_episodes == 0:
        return
    size = cfg.val_episodes * len(cfg.envs)  # seeds of one validation
    count = validation_count(cfg.epochs, cfg.val_interval, cfg.val_fixed)
    for name, first, last in index.seed_range():
        a = max(0, -(-(first - cfg.val_seed - size + 1) // size))  # the first and last overlapping validation
        b = min(count - 1, (last - cfg.val_seed) // size)
        if a > b:
            continue
        lo, hi = cfg.val_seed + a * size, cfg.val_seed + (b + 1) * size - 1
        which = "every validation" if cfg.val_fixed else (
            f"validation {a + 1}" if a == b else f"validations {a + 1} to {b + 1}") + f" of at most {count}"
        log.warning(
            f"validation levels (seeds {lo}..{hi}, {which}) overlap the seeds of the training demos "
            f"{name} ({first}..{last}): validation success is then measured on training levels; choose a "
            f"--val-seed outside the demos' seeds for a held-out measure"
        )


def warn_epoch_length(cfg: TrainConfig, episodes: int, log: logging.Logger) -> None:
    """Say so when --epoch-length makes each epoch several passes over the training episodes."""
    if cfg.epoch_length > episodes:
        log.warning(f"--epoch-length {cfg.epoch_length:,} is more than the {episodes:,} training episodes: each "
                    f"epoch makes {cfg.epoch_length / episodes:.1f} passes over them")
