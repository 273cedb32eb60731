"""Training the RSSM world model on embodiment data, its checkpoints, and the sequence ELBO.

The evidence lower bound of a sequence o_0..o_T-1 given the actions a_0..a_T-2:

    ELBO = sum_t  E_q[log p(o_t | h_t, z_t)]  -  KL(q(z_t | h_t, e_t) || p(z_t | h_t))

where h_t carries a_t-1. The world model maximises it over its parameters with the true actions of
the embodiment data; AIME (``babyai.observe.aime``) maximises it over a policy that supplies the
actions of the demonstrations, the model frozen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from babyai.bars import progress_bar
from babyai.observe.constants import FREE_NATS, KL_BALANCE
from babyai.observe.nets import RSSM, WorldModelConfig
from babyai.agent.loading import CheckpointError, load_checkpoint, save_checkpoint

CHECKPOINT = "world_model.pt"
KIND = "world-model"


class WorldModelError(ValueError):
    """A world model that is missing or does not fit the data."""


def sequences(episodes: list, length: int, rng: np.random.Generator | None = None):
    """(images (T, B, 7, 7, 3) uint8, actions (T, B) int64, mask (T, B) bool) of windows of at most ``length``
    frames: a random window of each episode with ``rng``, else each episode's first frames."""
    windows = []
    for ep in episodes:
        n = len(ep.images)
        t0 = int(rng.integers(0, max(1, n - length + 1))) if rng is not None else 0
        windows.append((ep.images[t0 : t0 + length], np.asarray(ep.actions)[t0 : t0 + length]))
    T, B = max(len(w[0]) for w in windows), len(windows)
    images = np.zeros((T, B, 7, 7, 3), np.uint8)
    actions = np.zeros((T, B), np.int64)
    mask = np.zeros((T, B), bool)
    for b, (im, act) in enumerate(windows):
        images[: len(im), b], actions[: len(im), b], mask[: len(im), b] = im, act, True
    return torch.from_numpy(images), torch.from_numpy(actions), torch.from_numpy(mask)


def filter_elbo(model: RSSM, images: torch.Tensor, act: Callable, sample: bool = True,
                balance: float | None = None):
    """(log-likelihood (T, B), KL (T, B)) of filtering ``images`` (T, B, 7, 7, 3), where ``act(t, h, z)`` gives
    the action (B, A) taken after frame t from the state at t (the true one-hot, or a policy's); ``balance``:
    KL balancing (``RSSM.step``)."""
    T, B = images.shape[:2]
    embedding = model.encoder(images.flatten(0, 1)).reshape(T, B, -1)  # (T, B, E)
    h, z = model.initial(B, images.device)
    hs, zs, kls = [], [], []
    for t in range(T):
        action = None if t == 0 else act(t - 1, h, z)  # (B, A)
        h, z, kl = model.step(h, z, action, embedding[t], first=t == 0, sample=sample, balance=balance)
        hs.append(h)
        zs.append(z)
        kls.append(kl)
    log_p = model.log_likelihood(torch.cat(hs), torch.cat(zs), images.flatten(0, 1)).reshape(T, B)
    return log_p, torch.stack(kls)  # (T, B) each


def true_actions(actions: torch.Tensor, num_actions: int) -> Callable:
    one_hot = F.one_hot(actions, num_actions).float()  # (T, B, A)
    return lambda t, h, z: one_hot[t]


def negative_elbo(log_p: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor, free_nats: float = 0.0) -> torch.Tensor:
    """-ELBO per frame over the frames of ``mask``; with ``free_nats``, a frame's KL counts as at least that
    much (free bits: below it the KL has no gradient, so the latent may carry that much information free)."""
    if free_nats > 0:
        kl = kl.clamp_min(free_nats)
    return -((log_p - kl) * mask).sum() / mask.sum()


def train_world_model(model: RSSM, train: list, held_out: list, updates: int, batch_size: int, length: int,
                      lr: float, seed: int, progress: bool = True, kl_balance: float | None = KL_BALANCE,
                      free_nats: float = FREE_NATS) -> dict:
    """Adam on -ELBO of random windows of the embodiment episodes, with their true actions, with KL balancing
    and free nats (DreamerV2's; AIME's code has both, off by default). The held-out figures are plain."""
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    bar = progress_bar(range(updates), desc="world model", unit="update", disable=not progress, dynamic_ncols=True)
    for u in bar:
        model.train()
        batch = [train[int(i)] for i in rng.integers(0, len(train), batch_size)]
        images, actions, mask = sequences(batch, length, rng)
        log_p, kl = filter_elbo(model, images, true_actions(actions, model.cfg.num_actions), balance=kl_balance)
        loss = negative_elbo(log_p, kl, mask, free_nats)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
        optimizer.step()
        if (u + 1) % max(1, updates // 10) == 0 or u + 1 == updates:
            history.append({"update": u + 1, "loss": loss.item(), **held_out_elbo(model, held_out, length)})
            bar.set_postfix(loss=f"{loss.item():.2f}")
    return {"history": history, **history[-1]}


@torch.no_grad()
def held_out_elbo(model: RSSM, episodes: list, length: int, batch: int = 64) -> dict:
    """Per-frame reconstruction, KL and -ELBO on episodes' first ``length`` frames (posterior means)."""
    model.eval()
    rec = kl_sum = frames = 0.0
    for k in range(0, len(episodes), batch):
        images, actions, mask = sequences(episodes[k : k + batch], length)
        log_p, kl = filter_elbo(model, images, true_actions(actions, model.cfg.num_actions), sample=False)
        rec += float((log_p * mask).sum())
        kl_sum += float((kl * mask).sum())
        frames += float(mask.sum())
    return {"held_out_log_likelihood": rec / frames, "held_out_kl": kl_sum / frames,
            "held_out_neg_elbo": (kl_sum - rec) / frames}


def save_world_model(path: str, model: RSSM, level: str, info: dict) -> None:
    save_checkpoint(path, {"kind": KIND, "config": model.cfg.to_dict(), "model": model.state_dict(), "level": level,
                           "info": json.dumps(info)})


def load_world_model(name: str, storage: str | None = None) -> tuple[RSSM, dict]:
    """(frozen model in eval mode, checkpoint) of the world-model run ``name`` or a path to its .pt file."""
    from babyai.storage import model_dir

    path = name if name.endswith(".pt") and os.path.isfile(name) else os.path.join(model_dir(name, storage), CHECKPOINT)
    if not os.path.isfile(path):
        raise WorldModelError(f"no world model {name!r} (no {path}; train it with scripts/train_world_model.py)")
    try:
        ckpt = load_checkpoint(path)
        if ckpt.get("kind") != KIND:
            raise CheckpointError(f"{path} is not a world model")
        model = RSSM(WorldModelConfig.from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["model"])
    except (CheckpointError, KeyError, RuntimeError, TypeError) as e:
        raise WorldModelError(f"world model {name}: {str(e).splitlines()[0]}") from None
    model.eval()
    model.requires_grad_(False)
    return model, ckpt


def split_episodes(reader, episodes: int = 0, held_out: float = 0.1) -> tuple[list, list]:
    """(training, held-out) episodes: the first ``episodes`` of a dataset (0: all), the last share held out."""
    n = min(episodes or len(reader), len(reader))
    n_held = max(1, int(round(n * held_out)))
    if n - n_held < 1:
        raise WorldModelError(f"too few episodes ({n}) to train and validate on")
    data = [reader[i] for i in range(n)]
    return data[: n - n_held], data[n - n_held :]



def transition_evidence(model: RSSM, images: torch.Tensor, visit: Callable) -> None:
    """Filter ``images`` (T, B, 7, 7, 3) with the posterior means, and for t = 1..T-1 call
    ``visit(t, h, z, evidence)`` with the state after frame t-1 and evidence (B, A): evidence[b, a] is the
    one-step evidence of frame t, log p(o_t | h', z') - KL, had action a followed; ``visit`` returns the
    actions (B,) int64 with which the filter goes on. The model's side is computed without gradients."""
    A = model.cfg.num_actions
    T, B = images.shape[:2]
    with torch.no_grad():
        embedding = model.encoder(images.flatten(0, 1)).reshape(T, B, -1)  # (T, B, E)
        h, z, _ = model.step(*model.initial(B), None, embedding[0], first=True, sample=False)
    every = torch.eye(A).repeat(B, 1)  # (B A, A): each row's candidate action
    for t in range(1, T):
        with torch.no_grad():
            hh, zz, kl = model.step(h.repeat_interleave(A, 0), z.repeat_interleave(A, 0), every,
                                    embedding[t].repeat_interleave(A, 0), first=False, sample=False)
            evidence = (model.log_likelihood(hh, zz, images[t].repeat_interleave(A, 0)) - kl).reshape(B, A)
        action = visit(t, h, z, evidence)
        with torch.no_grad():
            h, z, _ = model.step(h, z, F.one_hot(action, A).float(), embedding[t], first=False, sample=False)


@torch.no_grad()
def action_evidence(model: RSSM, episodes: list, length: int, batch: int = 64) -> dict:
    """The world model as an inverse dynamics model, a diagnostic of what AIME can learn from it: AIME's
    policy gets its gradient from differences of evidence between actions, so where the true action of a
    transition does not have the most evidence (``transition_evidence``), no policy update prefers it.
    Returns the share of the transitions of ``episodes`` (their first ``length`` frames) whose true action
    has strictly the most, per true action, and the mean margin (true minus best other action, nats)."""
    A = model.cfg.num_actions
    hits, counts, margins = np.zeros(A), np.zeros(A), []
    for k in range(0, len(episodes), batch):
        images, actions, mask = sequences(episodes[k : k + batch], length)

        def visit(t, h, z, evidence, actions=actions, mask=mask):
            true, valid = actions[t - 1], mask[t].numpy()  # a_t-1 led to frame t
            best_other = evidence.scatter(1, true[:, None], float("-inf")).max(1).values
            margin = (evidence.gather(1, true[:, None]).squeeze(1) - best_other).numpy()[valid]
            np.add.at(counts, true.numpy()[valid], 1)
            np.add.at(hits, true.numpy()[valid], margin > 0)
            margins.extend(margin.tolist())
            return true

        transition_evidence(model, images, visit)
    return {"accuracy": float(hits.sum() / max(1, counts.sum())), "transitions": int(counts.sum()),
            "mean_margin_nats": float(np.mean(margins)) if margins else float("nan"),
            "per_action": {str(a): {"count": int(counts[a]), "accuracy": float(hits[a] / counts[a])}
                           for a in range(A) if counts[a]}}
