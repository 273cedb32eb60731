"""The Thought Cloning agent (Thought Generator + Action Generator) and the Behavioral Cloning agent.

Both run a *window* of time steps over a batch of rows in one ``forward``. The rows still running
at step t are the first ``counts[t]`` rows; the frames of the window are stacked step after step
(the first counts[0] frames are step 0, and so on). The memory is a flat tuple of (n, M) tensors,
for the rows running at the window start, and comes back for those still running at its end.

A row is one episode when acting. In training a row is a *lane* of several episodes played one
after the other (see babyai.train.data): ``episode_ids`` gives each frame's mission row and
``starts`` marks the frames where an episode begins, where the row's memory is zeroed. Packing
episodes into lanes keeps many rows running at every step, so that the BatchNorm layers called
once per step normalise over many frames.

Per-step work that does not depend on the memory (the image encoder, the first FiLM block's
convolutions, the mission and thought encoders, and, under teacher forcing, the thought decoder
and the actor) is done once for the whole window.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from babyai.model.compiled_step import cell_for
from babyai.model.config import EOS_ID, PAD_ID, SOS_ID, TCConfig
from babyai.model.generators import ActionGenerator, ThoughtGenerator
from babyai.model.layers import ImageEncoder, SequenceEncoder, init_linear

Memory = tuple[torch.Tensor, ...]


class AgentOutput(NamedTuple):
    action_logits: torch.Tensor  # (N, A), one row per frame of the window
    thought_logits: torch.Tensor | None  # (N, Lt - 1, V): logits of ground-truth tokens 1.. (TC only)
    thought_tokens: torch.Tensor | None  # (N, 1 + max_thought_len): thoughts spoken when thinking freely
    memory: Memory  # memory of the episodes still running after the window


class _Rows:
    """Which mission each row reads at each step of a window, and where its memory restarts.

    What the rows read is gathered once for the whole window (one index operation and its backward pass per
    tensor and window, not per step), then split into per-step views."""

    def __init__(self, counts: list[int], episode_ids: torch.Tensor | None, starts: torch.Tensor | None,
                 device: torch.device):
        self.counts = counts
        if episode_ids is None:  # row r of step t reads mission row r
            episode_ids = torch.from_numpy(np.concatenate([np.arange(n) for n in counts])).to(device)
        self.ids = episode_ids  # (N,)
        self.keep = None  # per step: (n, 1) float, 0 where an episode starts; None for the steps without a start
        if starts is not None:
            self.keep = _step_masks(starts, counts, (~starts).unsqueeze(1).float())  # one sync per window

    def gather(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per step, the rows of x (one per mission) read by the rows running at that step."""
        return torch.split(x[self.ids], self.counts)

    def memory(self, t: int, state: tuple[torch.Tensor, ...], n: int) -> tuple[torch.Tensor, ...]:
        """The memory of the n rows running at step t, zeroed where an episode starts."""
        keep = None if self.keep is None else self.keep[t]
        if keep is None:
            return tuple(m if m.shape[0] == n else m[:n] for m in state)
        return tuple(m[:n] * (keep if keep.dtype == m.dtype else keep.to(m.dtype)) for m in state)


class _LanguageAgent(nn.Module):
    """What both agents share: the word embedding, the image encoder and the mission encoder."""

    def __init__(self, cfg: TCConfig):
        super().__init__()
        self.cfg = cfg
        self.word_embedding = nn.Embedding(cfg.vocab_size, cfg.instr_dim)
        self.image_encoder = ImageEncoder(cfg.image_values, cfg.image_dim)
        self.mission_encoder = SequenceEncoder(cfg.instr_dim)

    def encode_mission(self, mission: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # mission: (B, Lm) token ids; lengths: (B,)
        return self.mission_encoder(self.word_embedding(mission), lengths)  # (B, Lm, D)


class ThoughtCloningAgent(_LanguageAgent):
    """The Thought Cloning agent: a Thought Generator that speaks a thought at every step and an
    Action Generator that acts on it. Memory: (tg_h, tg_c, ag_h, ag_c, history_h, history_c)."""

    def __init__(self, cfg: TCConfig | None = None):
        super().__init__(cfg or TCConfig())
        cfg = self.cfg
        self.thought_encoder = SequenceEncoder(cfg.instr_dim)
        self.thought_generator = ThoughtGenerator(cfg)
        self.action_generator = ActionGenerator(cfg, use_thought=cfg.action_reads_thought)
        self.apply(init_linear)
        self.to(memory_format=torch.channels_last)  # faster 3x3 convolutions on CPU and GPU

    def initial_memory(self, batch_size: int, device: torch.device | str = "cpu") -> Memory:
        return tuple(torch.zeros(batch_size, self.cfg.memory_dim, device=device) for _ in range(6))

    def encode_thoughts(self, thoughts: torch.Tensor) -> torch.Tensor:
        # thoughts: (n, Lt) token ids "sos ... eos" then padding
        lengths = (thoughts != PAD_ID).sum(dim=1)  # (n,)
        return self.thought_encoder(self.word_embedding(thoughts), lengths)  # (n, Lt, D)

    def forward(
        self,
        images: torch.Tensor,
        counts: list[int],
        mission: torch.Tensor,
        mission_lengths: torch.Tensor,
        memory: Memory,
        thoughts: torch.Tensor | None = None,
        thought_ids: torch.Tensor | None = None,
        teacher_forcing: bool = True,
        episode_ids: torch.Tensor | None = None,
        starts: torch.Tensor | None = None,
        mission_enc: torch.Tensor | None = None,
        history_ids: torch.Tensor | None = None,
        own_history: torch.Tensor | None = None,
    ) -> AgentOutput:
        """Run the window.

        images: (N, 7, 7, 3) uint8, N = sum(counts); memory: at least counts[0] rows. Without
        episode_ids, mission: (counts[0], Lm), one per row; with them (N,) (lanes), mission: (E, Lm),
        one per episode, and episode_ids[f] its row for frame f; starts: (N,) bool, memory zeroed there.
        thoughts: (U, Lt) distinct ground-truth thoughts, "sos ... eos" then padding; thought_ids: (N,)
        the row of each frame's thought. mission_enc: ``encode_mission(mission, mission_lengths)`` when the caller
        has it already (a rollout encodes its missions once, not at every step). Under teacher forcing the Action Generator and the history
        read the ground-truth thought; otherwise the thought decoded greedily (thoughts may then be
        None, when acting). thought_logits score the ground truth in both cases. history_ids: (N,) under
        teacher forcing, the row of the thought the thought history reads at each frame, in place of
        thought_ids (training with noise on the history input; None: the frame's own thought). own_history:
        (N,) bool, under teacher forcing: the frames whose thought history reads the thought the model itself
        decodes greedily there (without gradient) instead (scheduled sampling of the history input).
        """
        tg, ag = self.thought_generator, self.action_generator
        image_map = self.image_encoder(images)  # (N, C, 7, 7)
        tg_first = tg.fusion.films[0].features(image_map)  # (N, C, 7, 7)
        ag_first = ag.fusion.films[0].features(image_map)  # (N, C, 7, 7)
        if mission_enc is None:  # else given: encode_mission(mission, mission_lengths), computed once by the caller
            mission_enc = self.encode_mission(mission, mission_lengths)  # (E, Lm, D)
        mission_pad = mission == PAD_ID  # (E, Lm)
        mission_kv = tg.project_mission(mission_enc)  # per layer (E, H, Lm, D/H) x2
        rows_of = _Rows(counts, episode_ids, starts, images.device)
        if thoughts is not None:
            frame_thoughts = thoughts[thought_ids]  # (N, Lt)
            target_len = thoughts.shape[1] - 1
        if teacher_forcing:
            thought_table = self.encode_thoughts(thoughts)  # (U, Lt, D)

        # per-step views; torch.split keeps the backward pass to one concatenation per tensor
        image_maps, tg_firsts, ag_firsts = (torch.split(x, counts) for x in (image_map, tg_first, ag_first))
        missions, mission_pads = rows_of.gather(mission_enc), rows_of.gather(mission_pad)  # (n, Lm, D), (n, Lm) per step
        kvs = list(zip(*(list(zip(rows_of.gather(k), rows_of.gather(v))) for k, v in mission_kv)))  # per step, per layer
        device = images.device.type
        query_dtype = (torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device)
                       else tg.history_layers[0].w_q.weight.dtype)
        mission_biases = rows_of.gather(tg.history_layers[0].attention_bias(mission_pad, query_dtype))  # (n, 1, 1, Lm) per step
        if teacher_forcing:
            thought_encs = torch.split(thought_table[thought_ids], counts)  # (n, Lt, D) per step
            thought_pads = torch.split(frame_thoughts == PAD_ID, counts)  # (n, Lt) per step
            if history_ids is not None:  # the history reads other thoughts than the Action Generator
                history_encs = torch.split(thought_table[history_ids], counts)  # (n, Lt, D) per step
                history_pads = torch.split(thoughts[history_ids] == PAD_ID, counts)  # (n, Lt) per step
            own = _step_masks(own_history, counts)  # per step: (n,) bool, or None where no frame reads its own

        cell = cell_for(self)  # the compiled per-step cell (babyai.model.compiled_step), or None: eager
        run = cell and cell.window(self, rows_of, image_maps, tg_firsts, ag_firsts, missions, mission_pads, kvs,
                                   mission_biases)
        mem = tuple(memory)  # (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c)
        tg_states, ag_states, free_logits, free_tokens = [], [], [], []
        for t, n in enumerate(counts):
            step_mission, step_pad = missions[t], mission_pads[t]  # (n, Lm, D), (n, Lm)
            if run is not None and teacher_forcing and own[t] is None:  # the whole step as one compiled graph
                history = (history_encs[t], history_pads[t]) if history_ids is not None else (thought_encs[t], thought_pads[t])
                mem = run.whole(t, mem, (thought_encs[t], thought_pads[t]) if ag.use_thought else (None, None), history)
                tg_states.append(mem[:2])
                ag_states.append(mem[2])
                continue
            if run is not None:
                mem = run.think(t, mem)
            else:
                mem = rows_of.memory(t, mem, n)
                mem = tg.step(image_maps[t], tg_firsts[t], step_mission, kvs[t], step_pad, mem[:2], mem[4:],
                                mission_biases[t]) + mem[2:]  # the Thought Generator's new memory, (n, M) each
            tg_h, tg_c, ag_h, ag_c, hist_h, hist_c = mem
            if teacher_forcing:
                thought_enc, thought_pad = thought_encs[t], thought_pads[t]  # (n, Lt, D), (n, Lt)
            else:
                min_steps = target_len if thoughts is not None else 0
                step_thoughts, logits = tg.decoder.greedy(
                    (tg_h, tg_c), self.word_embedding, PAD_ID, SOS_ID, EOS_ID, self.cfg.max_thought_len, min_steps
                )  # (n, 1 + K), (n, K, V)
                thought_enc = self.encode_thoughts(step_thoughts)  # (n, 1 + K, D)
                free_logits.append(logits[:, :target_len] if thoughts is not None else logits[:, :0])
                free_tokens.append(nn.functional.pad(step_thoughts, (0, 1 + self.cfg.max_thought_len - step_thoughts.shape[1])))
                thought_pad = step_thoughts == PAD_ID  # (n, 1 + K)
            hist_enc, hist_pad = thought_enc, thought_pad  # what the thought history reads
            if teacher_forcing and history_ids is not None:
                hist_enc, hist_pad = history_encs[t], history_pads[t]
            if teacher_forcing and own[t] is not None:
                hist_enc, hist_pad = self._own_thoughts((tg_h, tg_c), own[t], hist_enc, hist_pad)
            if not ag.use_thought:  # the thought as an auxiliary loss only: the Action Generator does not read it
                thought_enc, thought_pad = None, None
            if run is not None:
                mem = run.act(t, mem, (thought_enc, thought_pad), (hist_enc, hist_pad))
            else:
                hist_h, hist_c = tg.update_history((tg_h, tg_c), (hist_h, hist_c), hist_enc, hist_pad)
                ag_h, ag_c = ag.step(image_maps[t], ag_firsts[t], step_mission, step_pad, thought_enc, thought_pad,
                                     (ag_h, ag_c))  # (n, M) each
                mem = (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c)
            tg_states.append(mem[:2])
            ag_states.append(mem[2])

        action_logits = ag.actor(torch.cat(ag_states))  # (N, A)
        thought_logits, thought_tokens = None, None
        if teacher_forcing:
            state = (torch.cat([s[0] for s in tg_states]), torch.cat([s[1] for s in tg_states]))  # (N, M) each
            lengths = (frame_thoughts != PAD_ID).sum(dim=1) - 1  # (N,) inputs: "sos" and the words, not "eos"
            thought_logits = tg.decoder(state, self.word_embedding(frame_thoughts[:, :-1]), lengths)  # (N, Lt - 1, V)
        else:
            thought_logits = torch.cat(free_logits) if thoughts is not None else None  # (N, Lt - 1, V)
            thought_tokens = torch.cat(free_tokens)  # (N, 1 + max_thought_len)
        return AgentOutput(action_logits, thought_logits, thought_tokens, mem)

    def _own_thoughts(self, state, mask: torch.Tensor, enc: torch.Tensor, pad: torch.Tensor):
        """The thought encodings ``enc`` (n, L, D) and padding ``pad`` (n, L) with the rows of ``mask`` (n,) replaced by
        the thought the model decodes greedily from ``state`` there, without gradient."""
        with torch.no_grad():
            tokens, _ = self.thought_generator.decoder.greedy(tuple(s[mask] for s in state), self.word_embedding, PAD_ID,
                                                              SOS_ID, EOS_ID, self.cfg.max_thought_len)  # (k, 1 + K)
            own = self.encode_thoughts(tokens)  # (k, 1 + K, D)
        width = max(enc.shape[1], own.shape[1])
        enc, pad = nn.functional.pad(enc, (0, 0, 0, width - enc.shape[1])), nn.functional.pad(pad, (0, width - pad.shape[1]), value=True)
        own_enc = torch.zeros_like(enc)
        own_enc[mask, : own.shape[1]] = own.to(enc.dtype)
        own_pad = torch.ones_like(pad)
        own_pad[mask, : tokens.shape[1]] = tokens == PAD_ID
        rows = mask[:, None]  # (n, 1)
        return torch.where(rows[:, :, None], own_enc, enc), torch.where(rows, own_pad, pad)


def _step_masks(mask: torch.Tensor | None, counts: list[int], values: torch.Tensor | None = None) -> list:
    """Per step of a window, the rows of ``values`` (N, ...; default: ``mask``) running then, or None at the steps
    where no frame of ``mask`` (N,) bool is set (one sync)."""
    if mask is None:
        return [None] * len(counts)
    parts = torch.split(mask if values is None else values, counts)
    has = torch.segment_reduce(mask.float(), "max", lengths=torch.tensor(counts, device=mask.device)).tolist()
    return [part if flag else None for part, flag in zip(parts, has)]


class BCAgent(_LanguageAgent):
    """Behavioral Cloning: the Action Generator alone, reading the mission and the image, no thought.
    Memory: (ag_h, ag_c)."""

    def __init__(self, cfg: TCConfig | None = None):
        super().__init__(cfg or TCConfig())
        self.action_generator = ActionGenerator(self.cfg, use_thought=False)
        self.apply(init_linear)
        self.to(memory_format=torch.channels_last)  # faster 3x3 convolutions on CPU and GPU

    def initial_memory(self, batch_size: int, device: torch.device | str = "cpu") -> Memory:
        return tuple(torch.zeros(batch_size, self.cfg.memory_dim, device=device) for _ in range(2))

    def forward(
        self,
        images: torch.Tensor,
        counts: list[int],
        mission: torch.Tensor,
        mission_lengths: torch.Tensor,
        memory: Memory,
        thoughts: torch.Tensor | None = None,
        thought_ids: torch.Tensor | None = None,
        teacher_forcing: bool = True,
        episode_ids: torch.Tensor | None = None,
        starts: torch.Tensor | None = None,
        mission_enc: torch.Tensor | None = None,
        history_ids: torch.Tensor | None = None,
        own_history: torch.Tensor | None = None,
    ) -> AgentOutput:
        """Run the window (same arguments as ThoughtCloningAgent.forward; thoughts are ignored)."""
        ag = self.action_generator
        image_map = self.image_encoder(images)  # (N, C, 7, 7)
        ag_first = ag.fusion.films[0].features(image_map)  # (N, C, 7, 7)
        if mission_enc is None:  # else given: encode_mission(mission, mission_lengths), computed once by the caller
            mission_enc = self.encode_mission(mission, mission_lengths)  # (E, Lm, D)
        mission_pad = mission == PAD_ID  # (E, Lm)
        rows_of = _Rows(counts, episode_ids, starts, images.device)
        missions, mission_pads = rows_of.gather(mission_enc), rows_of.gather(mission_pad)  # (n, Lm, D), (n, Lm) per step
        ag_h, ag_c = memory
        ag_states = []
        for t, (x, first) in enumerate(zip(torch.split(image_map, counts), torch.split(ag_first, counts))):
            n = x.shape[0]
            ag_h, ag_c = rows_of.memory(t, (ag_h, ag_c), n)
            ag_h, ag_c = ag.step(x, first, missions[t], mission_pads[t], None, None, (ag_h, ag_c))
            ag_states.append(ag_h)  # (n, M)
        action_logits = ag.actor(torch.cat(ag_states))  # (N, A)
        return AgentOutput(action_logits, None, None, (ag_h, ag_c))
