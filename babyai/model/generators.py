"""The two components of a Thought Cloning agent: the Thought Generator and the Action Generator.

Each ``step`` advances one time step for n rows (episodes). Memories are (h, c) pairs of (n, M);
the attention keys are computed from h and c concatenated (n, 2M), as in the original.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from babyai.model.config import TCConfig
from babyai.model.layers import FiLMFusion, KeyedAttention, QueryTransformerLayer, StepLinear, StepLSTMCell, ThoughtDecoder, step_linears

State = tuple[torch.Tensor, torch.Tensor]


class ThoughtGenerator(nn.Module):
    """The upper level: from mission, observation, its memory and the thought history, the next thought.

    Per step: attend over the mission with a key from the memory; a query from the thought-history
    memory goes through two transformer-encoder layers over the mission; their sum conditions two
    FiLM blocks on the image; the pooled result steps the memory LSTM. The decoder speaks the thought
    from the new memory; the thought, encoded and attended with a key from the new memory, steps the
    thought-history LSTM.
    """

    def __init__(self, cfg: TCConfig):
        super().__init__()
        dim, mem = cfg.instr_dim, cfg.memory_dim
        self.memory2key_instr = StepLinear(2 * mem, dim)
        self.history2key = StepLinear(2 * mem, dim)
        self.attention = KeyedAttention(dim, cfg.attn_dropout)
        self.history_layers = nn.ModuleList(
            [QueryTransformerLayer(dim, 2, dim, cfg.attn_dropout, cfg.transformer_dropout) for _ in range(2)]
        )
        self.fusion = FiLMFusion(dim, cfg.image_dim)
        self.memory_rnn = StepLSTMCell(cfg.image_dim, mem)
        self.decoder = ThoughtDecoder(dim, mem, cfg.vocab_size)
        self.memory2key_sg = StepLinear(2 * mem, dim)
        self.history_rnn = StepLSTMCell(dim, mem)

    def project_mission(self, mission_enc: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        # mission_enc: (B, Lm, D) -> per transformer layer, keys and values (B, H, Lm, D/H)
        return [layer.project_memory(mission_enc) for layer in self.history_layers]

    def step(
        self,
        image_map: torch.Tensor,
        first_features: torch.Tensor,
        mission_enc: torch.Tensor,
        mission_kv: list[tuple[torch.Tensor, torch.Tensor]],
        mission_pad: torch.Tensor,
        memory: State,
        history: State,
        mission_bias: torch.Tensor | None = None,
    ) -> State:
        # image_map, first_features: (n, C, 7, 7), C = image_dim; mission_enc: (n, Lm, D); mission_pad: (n, Lm);
        # mission_bias: history_layers[0].attention_bias(mission_pad, ...) when the caller made it already
        key = self.memory2key_instr(torch.cat(memory, dim=1))  # (n, D)
        attended = self.attention(key, mission_enc, mission_pad)  # (n, D)
        context = self.history2key(torch.cat(history, dim=1))  # (n, D)
        for layer, (k, v) in zip(self.history_layers, mission_kv):
            context = layer(context, k, v, mission_pad if mission_bias is None else mission_bias)  # (n, D)
        x = self.fusion(image_map, first_features, context + attended)  # (n, image_dim)
        h, c = self.memory_rnn(x, memory)  # (n, M) each
        return h, c

    def update_history(self, memory: State, history: State, thought_enc: torch.Tensor, thought_pad: torch.Tensor) -> State:
        # memory: the new thought-generator memory (n, M) x2; thought_enc: (n, Lt, D); thought_pad: (n, Lt)
        key = self.memory2key_sg(torch.cat(memory, dim=1))  # (n, D)
        attended = self.attention(key, thought_enc, thought_pad)  # (n, D)
        h, c = self.history_rnn(attended, history)
        return h, c  # (n, M) each


class ActionGenerator(nn.Module):
    """The lower level: from the thought, the mission, the observation and its memory, the action.

    With ``use_thought=False`` it is the Behavioral Cloning baseline: mission and image only.
    """

    def __init__(self, cfg: TCConfig, use_thought: bool = True):
        super().__init__()
        dim, mem = cfg.instr_dim, cfg.memory_dim
        self.use_thought = use_thought
        self.attention = KeyedAttention(dim, cfg.attn_dropout)
        if use_thought:
            self.memory2key_sg = StepLinear(2 * mem, dim)
            self.sg_linear = StepLinear(dim, dim)
        self.memory2key_instr = StepLinear(2 * mem, dim)
        self.instr_linear = StepLinear(dim, dim)
        self.fusion = FiLMFusion(dim, cfg.image_dim)
        self.memory_rnn = StepLSTMCell(cfg.image_dim, mem)
        self.actor = nn.Sequential(nn.Linear(mem, 64), nn.Tanh(), nn.Linear(64, cfg.num_actions))

    def step(
        self,
        image_map: torch.Tensor,
        first_features: torch.Tensor,
        mission_enc: torch.Tensor,
        mission_pad: torch.Tensor,
        thought_enc: torch.Tensor | None,
        thought_pad: torch.Tensor | None,
        memory: State,
    ) -> State:
        # image_map, first_features: (n, C, 7, 7), C = image_dim; mission_enc: (n, Lm, D); thought_enc: (n, Lt, D) or None
        keys_from = torch.cat(memory, dim=1)  # (n, 2M)
        if self.use_thought:
            mission_key, thought_key = step_linears(keys_from, self.memory2key_instr, self.memory2key_sg)  # (n, D) each
        else:
            mission_key = self.memory2key_instr(keys_from)  # (n, D)
        mission = self.attention(mission_key, mission_enc, mission_pad)  # (n, D)
        language = self.instr_linear(mission)  # (n, D)
        if self.use_thought:
            thought = self.attention(thought_key, thought_enc, thought_pad)  # (n, D)
            language = language + self.sg_linear(thought)  # (n, D)
        x = self.fusion(image_map, first_features, language)  # (n, image_dim)
        h, c = self.memory_rnn(x, memory)  # (n, M) each
        return h, c
