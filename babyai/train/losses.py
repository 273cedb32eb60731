"""The per-frame terms of the imitation loss, summed over the frames they are given."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from babyai.model.config import PAD_ID


def action_nll(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    # logits: (N, A), actions: (N,) -> sum over frames of -log pi(action)
    return F.cross_entropy(logits.float(), actions, reduction="sum")


def action_entropy(logits: torch.Tensor) -> torch.Tensor:
    # logits: (N, A) -> sum over frames of the policy's entropy
    logp = logits.float().log_softmax(dim=1)
    return -(logp.exp() * logp).sum()


def thought_nll(logits: torch.Tensor | None, targets: torch.Tensor) -> torch.Tensor:
    """Sum over frames and over each thought's tokens after "sos" of -log p(token); padding masked.

    logits: (N, L, V) predicting targets (N, L) (the thought without its "sos"); None (no thought) gives 0.
    """
    if logits is None:
        return torch.zeros((), device=targets.device)
    n, length, vocab = logits.shape
    return F.cross_entropy(
        logits.float().reshape(n * length, vocab), targets[:, :length].reshape(-1), ignore_index=PAD_ID, reduction="sum"
    )


def correct_actions(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    # number of frames whose most likely action is the demonstrated one
    return (logits.argmax(dim=1) == actions).sum()


def imitation_loss(policy_loss, entropy, thought_loss, entropy_coef: float, thought_coef: float):
    """The whole imitation loss from its terms (tensors or their sums): the one place it is written."""
    return policy_loss - entropy_coef * entropy + thought_coef * thought_loss
