"""The inverse dynamics model: trained on embodiment data, evaluated on demonstrations' true actions.

A transition is (o_t, d_t, a_t, o_t+1, d_t+1) for t < T - 1 of an episode: the datasets hold the
observation *before* each action, so the last action of an episode has no observed consequence
and cannot be inferred (``unobservable`` in the evaluation).

Ambiguity in BabyAI: an action that changes nothing leaves o_t+1 = o_t and d_t+1 = d_t, and then
every action that can do nothing explains it equally: ``forward`` into a wall, an object or a
closed door, ``pickup`` with nothing pickable in front (or the hands full), ``drop`` with empty
hands or an occupied front cell, ``toggle`` on nothing (or a locked door without its key), and
``done``, which never changes anything. Turns always change the direction and a successful
forward, pickup, drop or toggle always changes the view (the carried object is drawn in the
agent's cell), so the unchanged transitions are exactly the ambiguous ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from babyai.bars import progress_bar
from babyai.observe.nets import IDMConfig, InverseDynamicsModel
from babyai.agent.loading import CheckpointError, load_checkpoint, save_checkpoint
from babyai.atomic import atomic_write_text
from babyai.sizes import build_fitting, check_fits

ACTION_NAMES = ("left", "right", "forward", "pickup", "drop", "toggle", "done")
CHECKPOINT = "idm.pt"
KIND = "inverse-dynamics"


class IDMError(ValueError):
    """An inverse dynamics model that is missing or does not fit the data it is asked to label."""


@dataclass
class Transitions:
    """All transitions of some episodes: frames stored once, transition k goes src[k] -> src[k] + 1."""

    images: np.ndarray  # (F, 7, 7, 3) uint8
    directions: np.ndarray  # (F,) int64
    actions: np.ndarray  # (F,) int64 (the action taken at each frame)
    src: np.ndarray  # (N,) int64 frame of each transition
    unobservable: int  # last steps of episodes: actions without a next observation

    def __len__(self) -> int:
        return len(self.src)

    def tensors(self, k: np.ndarray) -> tuple[torch.Tensor, ...]:
        """(images, directions, next images, next directions) of transitions ``k``."""
        s = self.src[k]
        return (torch.from_numpy(self.images[s]), torch.from_numpy(self.directions[s]),
                torch.from_numpy(self.images[s + 1]), torch.from_numpy(self.directions[s + 1]))

    def unchanged(self) -> np.ndarray:
        """(N,) bool: the next observation equals this one (an ambiguous transition)."""
        s = self.src
        same_view = (self.images[s] == self.images[s + 1]).reshape(len(s), -1).all(1)
        return same_view & (self.directions[s] == self.directions[s + 1])


def load_transitions(reader, episodes: int = 0, first: int = 0, with_actions: bool = True) -> Transitions:
    """The transitions of episodes [first, first + episodes) of a dataset (0: to the end)."""
    stop = len(reader) if episodes == 0 else min(len(reader), first + episodes)
    images, directions, actions, src, offset, last = [], [], [], [], 0, 0
    for i in range(first, stop):
        ep = reader[i]
        n = len(ep.images)
        images.append(ep.images)
        directions.append(np.asarray(ep.directions, dtype=np.int64))
        actions.append(np.asarray(ep.actions, dtype=np.int64) if with_actions else np.zeros(n, np.int64))
        src.append(offset + np.arange(n - 1))
        offset, last = offset + n, last + 1
    if not images:
        raise IDMError("no episodes to read transitions from")
    return Transitions(np.concatenate(images), np.concatenate(directions), np.concatenate(actions),
                       np.concatenate(src).astype(np.int64), last)


@torch.no_grad()
def predict(model: InverseDynamicsModel, data: Transitions, batch: int = 4096) -> np.ndarray:
    """(N,) int64: the model's most likely action for every transition."""
    model.eval()
    out = [model(*data.tensors(np.arange(k, min(k + batch, len(data))))).argmax(1)
           for k in range(0, len(data), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, np.int64)


def minibatch_epochs(module: torch.nn.Module, optimizer: torch.optim.Optimizer, n: int, epochs: int, batch_size: int,
                     seed: int, loss_of, desc: str, progress: bool = True):
    """Epochs of optimizer steps on ``loss_of(rows)`` over shuffled minibatches of n rows (module in train
    mode); yields (epoch, mean loss per row) after each epoch."""
    rng = np.random.default_rng(seed)
    for epoch in progress_bar(range(epochs), desc=desc, unit="epoch", disable=not progress, dynamic_ncols=True):
        module.train()
        order, total = rng.permutation(n), 0.0
        for k in range(0, n, batch_size):
            rows = order[k : k + batch_size]
            loss = loss_of(rows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        yield epoch + 1, total / n


def fit(model: InverseDynamicsModel, train: Transitions, held_out: Transitions, epochs: int, batch_size: int,
        lr: float, seed: int, progress: bool = True) -> dict:
    """Adam on the cross-entropy of the true actions; keeps the weights of the best held-out accuracy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def loss_of(rows):
        return F.cross_entropy(model(*train.tensors(rows)), torch.from_numpy(train.actions[train.src[rows]]))

    best, best_state, history = -1.0, None, []
    for epoch, loss in minibatch_epochs(model, optimizer, len(train), epochs, batch_size, seed, loss_of, "idm", progress):
        accuracy = float((predict(model, held_out) == held_out.actions[held_out.src]).mean())
        history.append({"epoch": epoch, "train_loss": loss, "held_out_accuracy": accuracy})
        if accuracy > best:
            best, best_state = accuracy, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return {"held_out_accuracy": best, "history": history}


def evaluate_labels(predicted: np.ndarray, data: Transitions) -> dict:
    """Accuracy against the true actions, per action, on changed and unchanged (ambiguous) transitions."""
    true = data.actions[data.src]
    unchanged = data.unchanged()
    right = predicted == true
    confusion = np.zeros((len(ACTION_NAMES), len(ACTION_NAMES)), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    per_action = {name: {"count": int((true == a).sum()),
                         "accuracy": float(right[true == a].mean()) if (true == a).any() else None,
                         "unchanged_share": float(unchanged[true == a].mean()) if (true == a).any() else None}
                  for a, name in enumerate(ACTION_NAMES)}
    return {
        "transitions": int(len(true)),
        "accuracy": float(right.mean()),
        "per_action": per_action,
        "ambiguous_share": float(unchanged.mean()),
        "accuracy_changed": float(right[~unchanged].mean()) if (~unchanged).any() else None,
        "accuracy_ambiguous": float(right[unchanged].mean()) if unchanged.any() else None,
        "unobservable_last_steps": int(data.unobservable),
        "confusion": {"rows_true_columns_predicted": list(ACTION_NAMES), "counts": confusion.tolist()},
    }


# ------------------------------------------------------------------------------ checkpoints
def save_idm(folder: str, model: InverseDynamicsModel, level: str, vocab: dict, info: dict) -> str:
    """``folder``/idm.pt: the weights, config, level, vocabulary and image encoding (torch.load-safe)."""
    path = os.path.join(folder, CHECKPOINT)
    save_checkpoint(path, {"kind": KIND, "config": model.cfg.to_dict(), "model": model.state_dict(),
                           "level": level, "vocab": vocab, "image_values": model.cfg.image_values,
                           "info": json.dumps(info)})
    return path


def idm_path(name: str, storage: str | None = None) -> str:
    from babyai.storage import model_dir

    return name if name.endswith(".pt") and os.path.isfile(name) else os.path.join(model_dir(name, storage), CHECKPOINT)


def load_idm(name: str, storage: str | None = None) -> tuple[InverseDynamicsModel, dict]:
    """(model, checkpoint) of the IDM run ``name`` (or a path to its idm.pt); IDMError if there is none."""
    path = idm_path(name, storage)
    if not os.path.isfile(path):
        raise IDMError(f"no inverse dynamics model {name!r} (no {path}; train it with scripts/train_idm.py)")
    try:
        ckpt = load_checkpoint(path)
        if ckpt.get("kind") != KIND:
            raise CheckpointError(f"{path} is not an inverse dynamics model")
        config = IDMConfig.from_dict(ckpt["config"])
        model = build_fitting(lambda: InverseDynamicsModel(config), f"its config ({config.to_dict()})")
        model.load_state_dict(ckpt["model"])
    except (CheckpointError, KeyError, RuntimeError, TypeError, ValueError) as e:
        raise IDMError(f"inverse dynamics model {name}: {str(e).splitlines()[0]}") from None
    model.eval()
    return model, ckpt


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_json(path: str, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")


# ------------------------------------------------------------------------------ a training run
def train_idm(level: str, embodiment: str, folder: str, *, eval_demos: str | None = None,
              config: IDMConfig = IDMConfig(), epochs: int = 10, batch_size: int = 64, lr: float = 2e-3,
              seed: int = 0, episodes: int = 0, held_out: float = 0.1, progress: bool = True) -> dict:
    """Train an IDM on the embodiment data at ``embodiment`` (or reuse the finished one in ``folder``) and
    write ``folder``/idm_eval.json; its ``accuracy`` is on the true actions of ``eval_demos`` when given,
    else on the held-out embodiment episodes (the last ``held_out`` share)."""
    from babyai.demos import open_demos
    from babyai.observe.embodiment import check_embodiment
    from babyai.agent.vocab import Vocabulary
    from babyai.train.run import check_run_kind

    check_embodiment(embodiment, level)
    reader = open_demos(embodiment)
    n = min(episodes or len(reader), len(reader))
    n_held = max(1, int(round(n * held_out)))
    if n - n_held < 1:
        raise IDMError(f"the embodiment data {embodiment} has too few episodes ({n}) to train and validate on")
    settings = {"kind": "idm", "level": level, "embodiment": os.path.abspath(embodiment), "episodes": n,
                "held_out_episodes": n_held, "config": config.to_dict(), "epochs": epochs, "batch_size": batch_size,
                "lr": lr, "seed": seed}
    check_run_kind(folder, "idm", os.path.basename(folder))  # another command's run is not taken over
    check_fits(lambda: InverseDynamicsModel(config), f"--channels {config.channels}")  # before anything is written
    os.makedirs(folder, exist_ok=True)
    settings_path = os.path.join(folder, "config.json")
    held = load_transitions(reader, n_held, first=n - n_held)
    if os.path.isfile(os.path.join(folder, CHECKPOINT)):
        with open(settings_path) as f:
            saved = {"kind": "idm", **json.load(f)}  # runs saved before the kind was recorded
        if saved != settings:
            diff = ", ".join(k for k in settings if saved.get(k) != settings[k])
            raise IDMError(f"{folder} holds an IDM trained with other settings ({diff}); choose another --model")
        model, _ = load_idm(os.path.join(folder, CHECKPOINT))
        fitted = json.loads(load_checkpoint(os.path.join(folder, CHECKPOINT))["info"])
    else:
        write_json(settings_path, settings)
        torch.manual_seed(seed)
        model = InverseDynamicsModel(config)
        fitted = fit(model, load_transitions(reader, n - n_held), held, epochs, batch_size, lr, seed, progress)
        save_idm(folder, model, level, Vocabulary.babyai().to_dict(), fitted)
    results = {"level": level, "embodiment": embodiment, "embodiment_policy": reader.meta.get("policy"),
               "embodiment_episodes": n, "training": fitted,
               "held_out_embodiment": evaluate_labels(predict(model, held), held)}
    results["accuracy"] = results["held_out_embodiment"]["accuracy"]
    if eval_demos:
        demos = open_demos(eval_demos)
        if demos.meta.get("level") != level:
            raise IDMError(f"the demos {eval_demos} are of level {demos.meta.get('level')}, not {level}")
        data = load_transitions(demos)
        results["eval_demos"] = eval_demos
        results.update(evaluate_labels(predict(model, data), data))
    write_json(os.path.join(folder, "idm_eval.json"), results)
    return results
