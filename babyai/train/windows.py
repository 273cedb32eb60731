"""The one window loop of truncated BPTT: the model over a batch, window after window."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from babyai.model import AgentOutput


def window_outputs(model, batch, recurrence: int, teacher_forcing: bool, amp_dtype: torch.dtype | None = None
                   ) -> Iterator[tuple[slice, AgentOutput]]:
    """The one window loop: the model over a batch, window after window of truncated BPTT, yielding each
    window's (rows of the batch, output). Memories start at zero and are carried from window to window,
    detached: a caller may backpropagate a window's loss before asking for the next one."""
    memory = model.initial_memory(int(batch.counts[0]), batch.images.device)
    for rows, counts in batch.windows(recurrence):
        with torch.autocast(batch.images.device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
            out = model(**batch.window_inputs(rows, counts), memory=memory, teacher_forcing=teacher_forcing)
        yield rows, out
        memory = tuple(m.detach() for m in out.memory)
