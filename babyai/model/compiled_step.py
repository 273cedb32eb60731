"""The per-time-step cell of the Thought Cloning agent as ``torch.compile``d graphs (an option, off by default).

A training time step in eager mode is some hundred small operators (~2.5 aten calls each, forward and
backward), and on a GPU each call costs a kernel launch and dispatcher time whatever its size (issue 26).
With the option on, the recurrent work of one time step (the Thought Generator's step, the thought-history
update and the Action Generator's step, the memories' slicing and zeroing included) runs as one compiled
graph under teacher forcing; when the agent thinks freely (rollouts) the Thought Generator's step and the
rest are two graphs, the greedy decoding between them staying eager.

The graphs compute the same function as the eager modules (``tests/test_model.py`` checks losses and
gradients), written here with plain operators so that autograd (AOTAutograd) derives the backward pass:
the eager path's hand-written backward passes and deferred weight gradients cannot be traced. The
parameters the cell reads are concatenated into one flat tensor once per window when they need gradients,
so that a time step's backward pass hands autograd one gradient instead of one per parameter.

Switch it on with ``BABYAI_COMPILE_STEP=1`` in the environment or ``set_compile_step(True)``.
"""

from __future__ import annotations

import os
import weakref

import torch
import torch.nn.functional as F

_ON = {"value": os.environ.get("BABYAI_COMPILE_STEP", "") == "1"}
_CELLS: "weakref.WeakKeyDictionary[torch.nn.Module, CompiledCell]" = weakref.WeakKeyDictionary()
_NOT_IN_CELL = ("thought_generator.decoder.", "action_generator.actor.", ".w_k.", ".w_v.", "films.0.conv1.",
                "films.0.conv2.", "films.0.bn1.")  # computed once per window, outside the loop over time steps
_BATCHNORMS = ("films.0.bn2", "films.1.bn1", "films.1.bn2")  # per generator, in the eager path's order of calls


def set_compile_step(on: bool) -> None:
    """Use (True) or not (False) the compiled per-time-step cell in the agents' forward passes from now on."""
    _ON["value"] = bool(on)


def compile_step_enabled() -> bool:
    return _ON["value"]


def cell_for(agent) -> "CompiledCell | None":
    """The compiled cell of a ThoughtCloningAgent when the option is on and applies (None: run eagerly). Training-mode
    BatchNorm is compiled only inside ``frame_statistics`` (outside, eager BatchNorm moves its running statistics)."""
    if not _ON["value"]:
        return None
    norms = [agent.get_submodule(f"{g}.fusion.{b}") for g in ("thought_generator", "action_generator") for b in _BATCHNORMS]
    if any(m.training and m._calls is None for m in norms):
        return None
    cell = _CELLS.get(agent)
    if cell is None:
        cell = _CELLS[agent] = CompiledCell(agent)
    return cell


def _c(x: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    return x if dtype is None or x.dtype == dtype else x.to(dtype)


class CompiledCell:
    """The compiled graphs of one agent's cell, and what they read (parameters, BatchNorm buffers)."""

    def __init__(self, agent):
        cfg = agent.cfg
        cell = [n for n, _ in agent.named_parameters() if n.startswith(("thought_generator.", "action_generator."))
                and not any(s in n for s in _NOT_IN_CELL)]
        # linears reading the same input are one matrix product per step: their weights (and biases) follow each
        # other in the flat tensor, so that they are one (sum of outputs, in) view of it
        self.groups = {g: layers for g, layers in _groups(agent).items()}
        grouped = [f"{layer}.{p}" for layers in self.groups.values() for p in ("weight", "bias") for layer in layers]
        self.names = [n for n in cell if n not in grouped] + grouped
        table = dict(agent.named_parameters())
        self.blocks = [(n, table[n].shape) for n in self.names if n not in grouped]  # (name, shape) of each view
        for g, layers in self.groups.items():
            weights = [table[f"{layer}.weight"] for layer in layers]
            self.blocks.append((g + ".weight", (sum(w.shape[0] for w in weights), weights[0].shape[1])))
            self.blocks.append((g + ".bias", (sum(w.shape[0] for w in weights),)))
        self.norms = [f"{g}.fusion.{b}" for g in ("thought_generator", "action_generator") for b in _BATCHNORMS]
        self.eps = {name: agent.get_submodule(name).eps for name in self.norms}
        self.use_thought = agent.action_generator.use_thought
        self.heads = agent.thought_generator.history_layers[0].heads
        self.scale = agent.thought_generator.attention.scale
        self.dropouts = (cfg.attn_dropout, cfg.transformer_dropout)
        # every shape of rows (n shrinks over a window, 1 is its own case), with or without episode starts, per model
        config = torch._dynamo.config
        config.recompile_limit = max(config.recompile_limit, 64)
        config.accumulated_recompile_limit = max(config.accumulated_recompile_limit, 1024)
        self.train_fn = torch.compile(self._train_step, fullgraph=True)
        self.think_fn = torch.compile(self._think_step, fullgraph=True)
        self.act_fn = torch.compile(self._act_step, fullgraph=True)

    # ---- what the graphs read

    def inputs(self, agent) -> tuple:
        """(params, buffers, training): the parameters as one flat tensor when gradients flow into them (else a list);
        the BatchNorm running statistics in eval mode (else None)."""
        table = dict(agent.named_parameters())
        params = [table[n] for n in self.names]
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            params = torch.cat([p.reshape(-1) for p in params])  # its backward pass: once per window
        training = agent.training
        buffers = None
        if not training:
            mods = [agent.get_submodule(n) for n in self.norms]
            buffers = [b for m in mods for b in (m.running_mean, m.running_var)]
        return params, buffers, training

    def window(self, agent, rows, image_maps, tg_firsts, ag_firsts, missions, mission_pads, kvs, mission_biases):
        """The runner of one window's time steps (see ThoughtCloningAgent.forward for the per-step lists)."""
        return _Window(self, agent, rows, (image_maps, tg_firsts, ag_firsts, missions, mission_pads, kvs, mission_biases))

    def _unpack(self, params, buffers) -> tuple[dict, dict]:
        if isinstance(params, torch.Tensor):  # the flat tensor: one view per parameter, one per group of linears
            parts = torch.split(params, [_numel(shape) for _, shape in self.blocks])
            P = {name: v.view(shape) for (name, shape), v in zip(self.blocks, parts)}
        else:  # the parameters themselves (no gradient): the groups' weights concatenated
            P = dict(zip(self.names, params))
            for g, layers in self.groups.items():
                for p in ("weight", "bias"):
                    P[f"{g}.{p}"] = torch.cat([P[f"{layer}.{p}"] for layer in layers])
        B = {}
        if buffers is not None:
            for k, name in enumerate(self.norms):
                B[name] = (buffers[2 * k], buffers[2 * k + 1])
        return P, B


    # ---- the graphs (traced by torch.compile; the same functions as the eager modules)

    def _train_step(self, params, buffers, training: bool, amp, memory, keep, image_map, tg_first, ag_first, mission,
                    mission_pad, kvs, mission_bias, thought_enc, thought_pad, hist_enc, hist_pad):
        """One teacher-forced time step: (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c) of the n rows, and the BatchNorm
        statistics. memory: the six memories of the rows running at the step before (at least n rows)."""
        P, B = self._unpack(params, buffers)
        stats = []
        tg_h, tg_c, ag_h, ag_c, hist_h, hist_c = _running(memory, keep, image_map.shape[0])
        tg_h, tg_c = self._think(P, B, training, amp, stats, image_map, tg_first, mission, mission_pad, kvs,
                                 mission_bias, (tg_h, tg_c), (hist_h, hist_c))
        hist_h, hist_c = self._history(P, training, amp, (tg_h, tg_c), (hist_h, hist_c), hist_enc, hist_pad)
        ag_h, ag_c = self._act(P, B, training, amp, stats, image_map, ag_first, mission, mission_pad, thought_enc,
                               thought_pad, (ag_h, ag_c))
        return (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c), stats

    def _think_step(self, params, buffers, training: bool, amp, memory, keep, image_map, tg_first, mission, mission_pad,
                    kvs, mission_bias):
        """The Thought Generator's step alone (before a thought is decoded): the six memories of the n rows (the
        Thought Generator's new), and the BatchNorm statistics."""
        P, B = self._unpack(params, buffers)
        stats = []
        tg_h, tg_c, ag_h, ag_c, hist_h, hist_c = _running(memory, keep, image_map.shape[0])
        tg_h, tg_c = self._think(P, B, training, amp, stats, image_map, tg_first, mission, mission_pad, kvs,
                                 mission_bias, (tg_h, tg_c), (hist_h, hist_c))
        return (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c), stats

    def _act_step(self, params, buffers, training: bool, amp, memory, image_map, ag_first, mission, mission_pad,
                  thought_enc, thought_pad, hist_enc, hist_pad):
        """The rest of a step once the thought is known: the history update and the Action Generator's step."""
        P, B = self._unpack(params, buffers)
        stats = []
        tg_h, tg_c, ag_h, ag_c, hist_h, hist_c = memory
        hist_h, hist_c = self._history(P, training, amp, (tg_h, tg_c), (hist_h, hist_c), hist_enc, hist_pad)
        ag_h, ag_c = self._act(P, B, training, amp, stats, image_map, ag_first, mission, mission_pad, thought_enc,
                               thought_pad, (ag_h, ag_c))
        return (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c), stats

    def _think(self, P, B, training, amp, stats, image_map, first, mission, mission_pad, kvs, mission_bias, memory, history):
        """ThoughtGenerator.step."""
        g = "thought_generator."
        p_attn, p_drop = self.dropouts if training else (0.0, 0.0)
        key = _linear(P, g + "memory2key_instr", torch.cat(memory, dim=1))  # (n, D)
        attended = _attend(key, mission, mission_pad, self.scale, p_attn, amp)  # (n, D)
        context = _linear(P, g + "history2key", torch.cat(history, dim=1))  # (n, D)
        for k, (keys, values) in enumerate(kvs):
            context = self._transformer(P, f"{g}history_layers.{k}.", context, keys, values, mission_bias, p_attn, p_drop)
        x = _fusion(P, B, self.eps, g + "fusion.", image_map, first, context + attended, training, stats)  # (n, C)
        return _lstm(P, g + "memory_rnn", x, memory)

    def _history(self, P, training, amp, memory, history, thought_enc, thought_pad):
        """ThoughtGenerator.update_history."""
        p_attn = self.dropouts[0] if training else 0.0
        key = _linear(P, "thought_generator.memory2key_sg", torch.cat(memory, dim=1))  # (n, D)
        attended = _attend(key, thought_enc, thought_pad, self.scale, p_attn, amp)  # (n, D)
        return _lstm(P, "thought_generator.history_rnn", attended, history)

    def _act(self, P, B, training, amp, stats, image_map, first, mission, mission_pad, thought_enc, thought_pad, memory):
        """ActionGenerator.step."""
        g = "action_generator."
        p_attn = self.dropouts[0] if training else 0.0
        keys_from = torch.cat(memory, dim=1)  # (n, 2M)
        if self.use_thought:
            mission_key, thought_key = _linear(P, g + "keys", keys_from).chunk(2, dim=1)  # (n, D) each
        else:
            mission_key = _linear(P, g + "memory2key_instr", keys_from)  # (n, D)
        language = _linear(P, g + "instr_linear", _attend(mission_key, mission, mission_pad, self.scale, p_attn, amp))
        if self.use_thought:
            thought = _attend(thought_key, thought_enc, thought_pad, self.scale, p_attn, amp)
            language = language + _linear(P, g + "sg_linear", thought)  # (n, D)
        x = _fusion(P, B, self.eps, g + "fusion.", image_map, first, language, training, stats)  # (n, C)
        return _lstm(P, g + "memory_rnn", x, memory)

    def _transformer(self, P, pre, query, keys, values, bias, p_attn, p_drop):
        """QueryTransformerLayer.forward with one query per row: keys, values (n, H, L, D/H); bias (n, 1, 1, L)."""
        n, dim = query.shape
        q = _linear(P, pre + "w_q", query).view(n, self.heads, 1, -1)  # (n, H, 1, D/H)
        q = q.to(keys.dtype)
        scores = (q * keys).sum(3) * q.shape[3] ** -0.5 + bias[:, :, 0, :].to(keys.dtype)  # (n, H, L)
        weights = F.dropout(scores.softmax(dim=2), p_attn, p_attn > 0)  # (n, H, L)
        o = (weights.unsqueeze(3) * values).sum(2)  # (n, H, D/H)
        x = F.layer_norm(F.dropout(_linear(P, pre + "w_o", o.reshape(n, dim)), p_drop, p_drop > 0) + query, (dim,),
                         P[pre + "norm1.weight"], P[pre + "norm1.bias"], 1e-6)  # (n, D)
        y = _linear(P, pre + "ff2", F.relu(_linear(P, pre + "ff1", x)))
        return F.layer_norm(F.dropout(y, p_drop, p_drop > 0) + x, (dim,), P[pre + "norm2.weight"], P[pre + "norm2.bias"],
                            1e-6)  # (n, D)


def _groups(agent) -> dict[str, list[str]]:
    """The groups of linears that read the same input at every step, all with outputs of the same width."""
    groups = {}
    for g in ("thought_generator", "action_generator"):  # the FiLM blocks' scales and shifts, from the same vector
        groups[f"{g}.fusion.films"] = [f"{g}.fusion.films.{k}.{p}" for k in (0, 1) for p in ("weight", "bias")]
    if agent.action_generator.use_thought:  # the Action Generator's two keys, from its memory
        groups["action_generator.keys"] = ["action_generator.memory2key_instr", "action_generator.memory2key_sg"]
    return groups


def _numel(shape) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _running(memory, keep, n: int):
    """The memories of the n rows running now, zeroed where an episode starts (keep: (n, 1) float, 0 there, or None)."""
    memory = [m[:n] for m in memory]
    if keep is None:
        return memory
    return [m * keep.to(m.dtype) for m in memory]


def _linear(P: dict, name: str, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, P[name + ".weight"], P[name + ".bias"])


def _lstm(P: dict, name: str, x: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor]:
    """StepLSTMCell: gates i, f, g, o; products in x's dtype, the rest in float32."""
    h, c = state
    full = torch.promote_types(x.dtype, torch.float32)
    gates = F.linear(x, P[name + ".weight_ih"].to(x.dtype)) + F.linear(h.to(x.dtype), P[name + ".weight_hh"].to(x.dtype))
    i, f, g, o = (gates.to(full) + P[name + ".bias_ih"] + P[name + ".bias_hh"]).chunk(4, dim=1)  # (n, M) each
    c = torch.sigmoid(f) * c.to(full) + torch.sigmoid(i) * torch.tanh(g)  # (n, M)
    return torch.sigmoid(o) * torch.tanh(c), c


def _attend(query, values, pad, scale: float, p: float, amp) -> torch.Tensor:
    """KeyedAttention: query (n, D) over values (n, L, D), pad (n, L) True at padding."""
    query, values = _c(query, amp), _c(values, amp)
    if query.dtype != values.dtype:
        query = query.to(values.dtype)
    scores = (values * query.unsqueeze(1)).sum(2) * scale  # (n, L)
    weights = F.dropout(scores.masked_fill(pad, float("-inf")).softmax(dim=1), p, p > 0)  # (n, L)
    return (weights.unsqueeze(2) * values).sum(1)  # (n, D)


def _batchnorm(P, B, eps, name, x, training: bool, stats: list) -> torch.Tensor:
    """FrameBatchNorm2d: inside frame_statistics in training mode (its statistics returned), else eval mode."""
    if training:
        stats.append(torch.var_mean(x.detach().float(), dim=(0, 2, 3), correction=0))
        return F.batch_norm(x, None, None, P[name + ".weight"], P[name + ".bias"], True, 0.0, eps[name])
    mean, var = B[name]
    return F.batch_norm(x, mean, var, P[name + ".weight"], P[name + ".bias"], False, 0.0, eps[name])


def _modulate(P, B, eps, pre, h, scale, shift, training, stats) -> torch.Tensor:
    """FiLM.modulate: h (n, C, 7, 7) scaled and shifted by scale, shift (n, C), linear maps of the conditioning."""
    x = torch.addcmul(shift[:, :, None, None], h, scale[:, :, None, None])
    return F.relu(_batchnorm(P, B, eps, pre + "bn2", x, training, stats))


def _fusion(P, B, eps, pre, image_map, first, cond, training, stats) -> torch.Tensor:
    """FiLMFusion.forward: two residual FiLM blocks (the first one's features given), max-pooled: (n, C)."""
    scale0, shift0, scale1, shift1 = _linear(P, pre + "films", cond).chunk(4, dim=1)  # (n, C) each
    x = image_map + _modulate(P, B, eps, pre + "films.0.", first, scale0, shift0, training, stats)  # (n, C, 7, 7)
    f = pre + "films.1."
    h = F.conv2d(x, P[f + "conv1.weight"], P[f + "conv1.bias"], padding=1)
    h = F.relu(_batchnorm(P, B, eps, f + "bn1", h, training, stats))
    h = F.conv2d(h, P[f + "conv2.weight"], P[f + "conv2.bias"], padding=1)
    x = x + _modulate(P, B, eps, f, h, scale1, shift1, training, stats)  # (n, C, 7, 7)
    return F.relu(x.amax(dim=(2, 3)))


class _Window:
    """One window's compiled time steps: what every step reads, gathered once; ``whole``, ``think`` and ``act`` take
    and return the six memories (tg_h, tg_c, ag_h, ag_c, hist_h, hist_c)."""

    def __init__(self, cell: CompiledCell, agent, rows, per_step: tuple):
        self.cell, self.rows = cell, rows
        self.image_maps, self.tg_firsts, self.ag_firsts, self.missions, self.mission_pads, self.kvs, self.biases = per_step
        self.params, self.buffers, self.training = cell.inputs(agent)
        device = self.image_maps[0].device.type
        self.amp = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None
        self.layers = [agent.get_submodule(name) for name in cell.norms]  # their statistics, in training mode

    def _keep(self, t: int):
        return None if self.rows.keep is None else self.rows.keep[t]

    def _record(self, stats: list, layers: list, t: int) -> None:
        for layer, (var, mean) in zip(layers, stats):
            layer._calls.append((self.image_maps[t].shape[0] * 49, mean, var))

    def whole(self, t: int, memory, thought, history):
        """A teacher-forced step: thought, history: (encoding (n, L, D), padding (n, L)) of the thought the Action
        Generator reads and of the one the thought history reads."""
        memory, stats = self.cell.train_fn(
            self.params, self.buffers, self.training, self.amp, memory, self._keep(t), self.image_maps[t],
            self.tg_firsts[t], self.ag_firsts[t], self.missions[t], self.mission_pads[t], self.kvs[t], self.biases[t],
            *thought, *history)
        self._record(stats, self.layers, t)
        return memory

    def think(self, t: int, memory):
        """The Thought Generator's step (its new memory first, the others those of the rows running now)."""
        memory, stats = self.cell.think_fn(self.params, self.buffers, self.training, self.amp, memory, self._keep(t),
                                           self.image_maps[t], self.tg_firsts[t], self.missions[t], self.mission_pads[t],
                                           self.kvs[t], self.biases[t])
        self._record(stats, self.layers[:3], t)
        return memory

    def act(self, t: int, memory, thought, history):
        """The thought-history update and the Action Generator's step once the thought is known."""
        memory, stats = self.cell.act_fn(self.params, self.buffers, self.training, self.amp, memory, self.image_maps[t],
                                         self.ag_firsts[t], self.missions[t], self.mission_pads[t], *thought, *history)
        self._record(stats, self.layers[3:], t)
        return memory
