"""The one window loop of truncated BPTT: the model over a batch, window after window."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from babyai.model import AgentOutput


def window_outputs(model, batch, recurrence: int, teacher_forcing: bool, amp_dtype: torch.dtype | None = None,
                   history_noise: float = 0.0, history_sampling: float = 0.0) -> Iterator[tuple[slice, AgentOutput]]:
    """The one window loop: the model over a batch, window after window of truncated BPTT, yielding each
    window's (rows of the batch, output). Memories start at zero and are carried from window to window,
    detached: a caller may backpropagate a window's loss before asking for the next one.

    ``history_noise`` > 0 (teacher-forced windows only): at each frame, with that probability, the thought
    history reads a thought drawn uniformly from the batch's distinct thoughts instead of the frame's own
    (drawn from torch's global random stream). ``history_sampling`` > 0 (teacher-forced windows only): at each
    frame, with that probability, the thought history reads the thought the model itself decodes greedily there
    (scheduled sampling of the history input; the same random stream)."""
    memory = model.initial_memory(int(batch.counts[0]), batch.images.device)
    for rows, counts in batch.windows(recurrence):
        inputs = batch.window_inputs(rows, counts)
        if history_noise > 0 and teacher_forcing:
            inputs["history_ids"] = noisy_ids(inputs["thought_ids"], len(batch.thoughts), history_noise)
        if history_sampling > 0 and teacher_forcing:
            inputs["own_history"] = (torch.rand(inputs["thought_ids"].shape) < history_sampling).to(batch.images.device)
        with torch.autocast(batch.images.device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
            out = model(**inputs, memory=memory, teacher_forcing=teacher_forcing)
        yield rows, out
        memory = tuple(m.detach() for m in out.memory)


def noisy_ids(ids: torch.Tensor, choices: int, p: float) -> torch.Tensor:
    """``ids`` (N,) with each entry replaced, with probability p, by one drawn uniformly from range(choices)."""
    flip = torch.rand(ids.shape) < p  # (N,)
    drawn = torch.randint(choices, ids.shape)  # (N,)
    return torch.where(flip.to(ids.device), drawn.to(ids.device), ids)
