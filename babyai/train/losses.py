"""The per-frame terms of the imitation loss, summed over the frames they are given.

Each term takes an optional ``mask`` (N,) bool of the frames whose label counts (teaching: a person may
label only some steps' actions or thoughts); None counts every frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from babyai.model.config import PAD_ID


def _rows(mask: torch.Tensor | None, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    # the rows of ``tensors`` that ``mask`` selects (all of them without a mask)
    return tensors if mask is None else tuple(x[mask] for x in tensors)


def action_nll(logits: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    # logits: (N, A), actions: (N,) -> sum over (masked) frames of -log pi(action)
    logits, actions = _rows(mask, logits, actions)
    return F.cross_entropy(logits.float(), actions, reduction="sum")


def action_entropy(logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    # logits: (N, A) -> sum over (masked) frames of the policy's entropy
    (logits,) = _rows(mask, logits)
    logp = logits.float().log_softmax(dim=1)
    return -(logp.exp() * logp).sum()


def thought_nll(logits: torch.Tensor | None, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Sum over (masked) frames and over each thought's tokens after "sos" of -log p(token); padding masked.

    logits: (N, L, V) predicting targets (N, L) (the thought without its "sos"); None (no thought), or a mask
    of no frame, gives 0, which no parameter's gradient depends on.
    """
    if logits is None or (mask is not None and not bool(mask.any())):
        return torch.zeros((), device=targets.device)
    logits, targets = _rows(mask, logits, targets)
    n, length, vocab = logits.shape
    return F.cross_entropy(
        logits.float().reshape(n * length, vocab), targets[:, :length].reshape(-1), ignore_index=PAD_ID, reduction="sum"
    )


def correct_actions(logits: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    # number of (masked) frames whose most likely action is the demonstrated one
    logits, actions = _rows(mask, logits, actions)
    return (logits.argmax(dim=1) == actions).sum()


def imitation_loss(policy_loss, entropy, thought_loss, entropy_coef: float, thought_coef: float):
    """The whole imitation loss from its terms (tensors or their sums): the one place it is written."""
    return policy_loss - entropy_coef * entropy + thought_coef * thought_loss
