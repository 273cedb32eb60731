"""Building blocks shared by the Thought Generator and the Action Generator.

Shapes use n for a batch of rows, L for a token sequence, D for instr_dim, M for memory_dim,
V for the vocabulary size. Token id 0 is padding everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def init_linear(module: nn.Module) -> None:
    """BabyAI's initialisation: Linear weights normal, each output row normalised to norm 1; bias 0."""
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.normal_(0.0, 1.0)
            module.weight.div_(module.weight.pow(2).sum(1, keepdim=True).sqrt())
            if module.bias is not None:
                module.bias.zero_()


def _cast(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """x in dtype, without an operator call when it is already (each call costs a kernel launch on a GPU)."""
    return x if x.dtype == dtype else x.to(dtype)


class _PendingWeightGrad:
    """The (input, output-gradient) pairs of one weight's uses in a backward pass, multiplied at its end.

    The biases given (those added to the same outputs) get the sum of the output gradients at the end too."""

    def __init__(self, weight: nn.Parameter, biases: tuple[nn.Parameter, ...] = ()):
        self.weight = weight
        self.biases = biases
        self.inputs: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []

    def add(self, x: torch.Tensor, grad: torch.Tensor) -> None:
        if not self.inputs:  # first use in this backward pass: multiply everything when it ends
            # the only way to run code when a backward pass ends: PyTorch 2.13 has no public equivalent
            # (pytorch/pytorch#66199 asks for torch.autograd.graph.queue_callback; FSDP uses this call too)
            torch.autograd.Variable._execution_engine.queue_callback(self.flush)
        self.inputs.append(x)
        self.grads.append(grad)

    def flush(self) -> None:
        x = _cast(torch.cat(self.inputs) if len(self.inputs) > 1 else self.inputs[0], self.weight.dtype)  # (rows, in)
        g = _cast(torch.cat(self.grads) if len(self.grads) > 1 else self.grads[0], self.weight.dtype)  # (rows, out)
        self.inputs, self.grads = [], []
        # (out, in): one product for every step instead of one per step, accumulated in place
        if self.weight.grad is None:
            self.weight.grad = g.t() @ x
        else:
            self.weight.grad.addmm_(g.t(), x)
        if self.biases:
            total = g.sum(0)  # (out,)
            for k, bias in enumerate(self.biases):
                if bias.grad is None:
                    bias.grad = total if k == len(self.biases) - 1 else total.clone()
                else:
                    bias.grad.add_(total)


class _DeferredLinears(torch.autograd.Function):
    """y_k = x W_k^T + b_k for the layers sharing the input x; the backward pass returns dL/dx at once and
    leaves dL/dW_k and dL/db_k to the layers' pending lists (one autograd node for all of them)."""

    @staticmethod
    def forward(ctx, x, pendings, *params):
        weights, biases = params[0::2], params[1::2]
        ctx.save_for_backward(x, *weights)
        ctx.pendings = pendings
        outs = []
        for w, b in zip(weights, biases):
            wt = _cast(w, x.dtype).t()
            outs.append(x.mm(wt) if b is None else torch.addmm(_cast(b, x.dtype), x, wt))
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        x, *weights = ctx.saved_tensors
        gx = None
        for g, w, pending in zip(grads, weights, ctx.pendings):
            pending.add(x, g)
            wg = _cast(w, g.dtype)
            gx = g.mm(wg) if gx is None else torch.addmm(gx, g, wg)
        return (gx, None) + (None,) * (2 * len(weights))


def step_linears(x: torch.Tensor, *layers: "StepLinear") -> tuple[torch.Tensor, ...]:
    """The StepLinear layers ``layers`` on the same input x (n, in): their outputs (n, out_k), computed by one
    autograd node (fewer operator calls per step than one call per layer)."""
    if torch.is_grad_enabled() and x.dim() == 2 and all(
            l.weight.requires_grad and (l.bias is None or l.bias.requires_grad) for l in layers):
        if torch.is_autocast_enabled(x.device.type):
            x = _cast(x, torch.get_autocast_dtype(x.device.type))
        params = [p for l in layers for p in (l.weight, l.bias)]
        with torch.autocast(x.device.type, enabled=False):
            return _DeferredLinears.apply(x, [l._pending for l in layers], *params)
    return tuple(F.linear(x, l.weight, l.bias) for l in layers)


class StepLinear(nn.Linear):
    """A Linear layer applied at every time step of a window (few rows each time).

    Same parameters and function as nn.Linear, but the weight (and bias) gradient of all the steps of a
    backward pass is computed as one matrix product at its end: per step, only the gradient with
    respect to the input is computed, which avoids reading and writing the whole weight gradient
    at every step (the cost that dominates with large memories and small batches).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending = _PendingWeightGrad(self.weight, () if self.bias is None else (self.bias,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n, in)
        return step_linears(x, self)[0]  # (n, out)


class _LSTMCellFn(torch.autograd.Function):
    """nn.LSTMCell's function (gates i, f, g, o; the cell state in float32) with a hand-written backward
    pass (a few operators per step instead of autograd's graph of them) whose weight and bias gradients
    go to the pending lists."""

    @staticmethod
    def forward(ctx, x, h, c, pending_ih, pending_hh, w_ih, w_hh, b_ih, b_hh):
        dt = x.dtype
        full = torch.promote_types(dt, torch.float32)  # the cell's state and gates: float32 at least
        h_in = _cast(h, dt)
        if dt == full and w_ih.dtype == dt:
            gates = torch.addmm(b_ih + b_hh, x, w_ih.t()).addmm_(h_in, w_hh.t())  # (n, 4M)
        else:  # products in the autocast dtype, the rest in float32
            gates = _cast(x.mm(_cast(w_ih, dt).t()).addmm_(h_in, _cast(w_hh, dt).t()), full) + (b_ih + b_hh)
        c = _cast(c, full)
        m = gates.shape[1] // 4
        sig = gates.sigmoid()  # (n, 4M): i, f, o (the g quarter is not used)
        g = gates[:, 2 * m:3 * m].tanh()  # (n, M)
        i, f, o = sig[:, :m], sig[:, m:2 * m], sig[:, 3 * m:]
        c_new = torch.addcmul(f * c, i, g)  # (n, M)
        tc = c_new.tanh()
        ctx.save_for_backward(x, h_in, c, sig, i, f, g, o, tc, w_ih, w_hh)
        ctx.pendings = (pending_ih, pending_hh)
        return o * tc, c_new

    @staticmethod
    def backward(ctx, dh, dc):
        x, h, c, sig, i, f, g, o, tc, w_ih, w_hh = ctx.saved_tensors
        m = g.shape[1]
        dh, dc = _cast(dh, c.dtype), _cast(dc, c.dtype)
        dc = torch.addcmul(dc, dh * o, 1 - tc * tc)  # (n, M): through h = o tanh(c) too
        dsig = torch.cat([dc * g, dc * c, dc * i, dh * tc], dim=1)  # (n, 4M): dL/d(i, f, g, o)
        deriv = sig * (1 - sig)  # sigmoid's derivative for i, f, o
        deriv[:, 2 * m:3 * m] = 1 - g * g  # tanh's for g
        dgates = dsig.mul_(deriv)  # (n, 4M)
        dx_dtype = _cast(dgates, x.dtype)
        ctx.pendings[0].add(x, dx_dtype)
        ctx.pendings[1].add(h, dx_dtype)
        dx = dx_dtype.mm(_cast(w_ih, x.dtype))
        dh_prev = dx_dtype.mm(_cast(w_hh, x.dtype))
        return dx, dh_prev, dc * f, None, None, None, None, None, None


class StepLSTMCell(nn.Module):
    """An LSTM cell (nn.LSTMCell's parameters, initialisation and gates i, f, g, o) whose weight
    gradients are computed once per backward pass, as StepLinear's; the cell state is kept in float32."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        bound = hidden_size**-0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)
        self._pending_ih = _PendingWeightGrad(self.weight_ih, (self.bias_ih, self.bias_hh))
        self._pending_hh = _PendingWeightGrad(self.weight_hh)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (n, in); state: (h, c) each (n, M)
        h, c = state
        if torch.is_autocast_enabled(x.device.type):
            x = _cast(x, torch.get_autocast_dtype(x.device.type))
        if torch.is_grad_enabled() and not all(p.requires_grad for p in self.parameters()):
            return self._autograd_forward(x, state)
        with torch.autocast(x.device.type, enabled=False):
            return _LSTMCellFn.apply(x, h, c, self._pending_ih, self._pending_hh, self.weight_ih, self.weight_hh,
                                     self.bias_ih, self.bias_hh)  # (n, M) each

    def _autograd_forward(self, x, state):
        """The same function by autograd (some of the parameters frozen)."""
        h, c = state
        gates = x @ _cast(self.weight_ih, x.dtype).t() + _cast(h, x.dtype) @ _cast(self.weight_hh, x.dtype).t()
        i, f, g, o = (gates.float() + self.bias_ih + self.bias_hh).chunk(4, dim=1)  # (n, M) each
        c = torch.sigmoid(f) * c.float() + torch.sigmoid(i) * torch.tanh(g)  # (n, M)
        return torch.sigmoid(o) * torch.tanh(c), c  # (n, M) each


class FrameBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose running statistics can be those of every frame of a training batch.

    Inside ``frame_statistics(model)``, a training-mode call normalises with the statistics of its
    own input, as nn.BatchNorm2d, but does not move the running statistics: it records the input's
    per-channel mean and variance, and when the block ends the running mean and (unbiased) variance
    move once towards the mean and variance of all the recorded calls' elements together, with
    weight max(momentum, 1 / k) at the k-th update (so the first updates are plain averages). A layer called once per time step on the few episodes still running then
    keeps the statistics of the batch's frames, not an average dominated by its last steps.
    Outside the block (and in eval mode) it is nn.BatchNorm2d.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._calls: list[tuple[int, torch.Tensor, torch.Tensor]] | None = None  # (elements, mean, var) per call

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n, C, 7, 7)
        if self._calls is None or not self.training:
            return super().forward(x)
        with torch.no_grad():
            var, mean = torch.var_mean(x.detach().float(), dim=(0, 2, 3), correction=0)  # (C,) each
            self._calls.append((x.numel() // x.shape[1], mean, var))
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)

    def begin(self) -> None:
        self._calls = []

    @torch.no_grad()
    def commit(self, update: bool = True) -> None:
        calls, self._calls = self._calls, None
        if not update or not calls:
            return
        counts = torch.tensor([c[0] for c in calls], dtype=torch.float64, device=calls[0][1].device)  # (K,)
        means = torch.stack([c[1] for c in calls]).double()  # (K, C)
        variances = torch.stack([c[2] for c in calls]).double()  # (K, C)
        total = counts.sum()
        mean = (counts[:, None] * means).sum(0) / total  # (C,)
        var = (counts[:, None] * (variances + (means - mean) ** 2)).sum(0) / total  # (C,), all elements together
        var = var * total / max(float(total) - 1.0, 1.0)  # unbiased, as nn.BatchNorm2d keeps it
        # the k-th update weighs at least 1 / k: the first batches replace the initial (0, 1) instead of
        # leaving most of their weight in the average for the first 1 / momentum batches
        weight = max(self.momentum, 1.0 / (int(self.num_batches_tracked) + 1))
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), weight)
        self.running_var.lerp_(var.to(self.running_var.dtype), weight)
        self.num_batches_tracked += 1


@contextlib.contextmanager
def frame_statistics(model: nn.Module) -> Iterator[None]:
    """Every FrameBatchNorm2d of ``model`` keeps, for the block, the statistics of all the frames it
    normalises in training mode, and updates its running statistics once at the end (not on error)."""
    layers = [m for m in model.modules() if isinstance(m, FrameBatchNorm2d)]
    for m in layers:
        m.begin()
    ok = False
    try:
        yield
        ok = True
    finally:
        for m in layers:
            m.commit(update=ok)


class ImageEncoder(nn.Module):
    """Bag-of-words image embedding (one table row per channel value, summed per cell), two 3x3 convs.

    The first convolution is linear in the embedding, so it is computed exactly as a sum of 27 rows
    (3 channels x 9 kernel offsets) of the table ``embedding x kernel``: the same function and
    parameters as ``conv(embed(image))``, without the convolution's cost (see ``reference_forward``).
    """

    def __init__(self, image_values: int = 147, channels: int = 128):
        super().__init__()
        self.rows = 3 * image_values
        self.embedding = nn.Embedding(self.rows, channels)
        self.register_buffer("offsets", torch.arange(3) * image_values, persistent=False)
        self.conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            FrameBatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            FrameBatchNorm2d(channels),
            nn.ReLU(),
        )
        # for each 3x3 kernel offset k, where its rows start in the table (one extra zero row: the padding)
        self.register_buffer("kernel_offsets", torch.arange(9) * (self.rows + 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n = images.shape[0]  # images: (n, 7, 7, 3) uint8, cells indexed (x, y)
        first = self.conv[0]
        kernel = first.weight.flatten(2)  # (C, C, 9), offsets k = 3 * dx + dy
        table = torch.einsum("vi,oik->kvo", self.embedding.weight, kernel)  # (9, 3V, C)
        table = F.pad(table, (0, 0, 0, 1)).reshape(9 * (self.rows + 1), -1)  # (9 * (3V + 1), C)
        index = F.pad(images.long() + self.offsets, (0, 0, 1, 1, 1, 1), value=self.rows)  # (n, 9, 9, 3)
        index = index.unfold(1, 3, 1).unfold(2, 3, 1)  # (n, 7, 7, 3, 3 dx, 3 dy)
        index = (index.reshape(n, 7, 7, 3, 9) + self.kernel_offsets).reshape(n * 49, 27)  # (n*49, 27)
        x = F.embedding_bag(index, table, mode="sum") + first.bias  # (n*49, C) = first conv's output
        x = x.reshape(n, 7, 7, -1).permute(0, 3, 1, 2)  # (n, C, 7, 7), channels last
        return self.conv[1:](x)  # (n, C, 7, 7)

    def reference_forward(self, images: torch.Tensor) -> torch.Tensor:
        """The same function computed the direct way: embed, sum the channels, convolve."""
        # images: (n, 7, 7, 3) uint8
        x = self.embedding(images.long() + self.offsets).sum(3)  # (n, 7, 7, C)
        return self.conv(x.permute(0, 3, 1, 2))  # (n, C, 7, 7)


class FiLM(nn.Module):
    """A FiLM block: conv-BN-ReLU-conv, scaled and shifted by linear maps of a conditioning vector, BN, ReLU.

    ``features`` does not depend on the conditioning, so callers may compute it for many steps at once.
    """

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn1 = FrameBatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = FrameBatchNorm2d(channels)
        self.weight = StepLinear(cond_dim, channels)
        self.bias = StepLinear(cond_dim, channels)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n, C_in, 7, 7)
        return self.conv2(F.relu(self.bn1(self.conv1(x))))  # (n, C_out, 7, 7)

    def modulate(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # h: (n, C_out, 7, 7), cond: (n, cond_dim)
        scale, shift = step_linears(cond, self.weight, self.bias)  # (n, C_out) each
        return F.relu(self.bn2(torch.addcmul(shift[:, :, None, None], h, scale[:, :, None, None])))  # (n, C_out, 7, 7)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.modulate(self.features(x), cond)  # (n, C_out, 7, 7)


class FiLMFusion(nn.Module):
    """Two residual FiLM blocks on the image map (C = image_dim channels), then max-pooling over the 7x7 cells."""

    def __init__(self, cond_dim: int, image_dim: int):
        super().__init__()
        self.films = nn.ModuleList([FiLM(cond_dim, image_dim), FiLM(cond_dim, image_dim)])

    def forward(self, image_map: torch.Tensor, first_features: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # image_map: (n, C, 7, 7); first_features = films[0].features(image_map); cond: (n, D)
        x = image_map + self.films[0].modulate(first_features, cond)  # (n, C, 7, 7)
        x = x + self.films[1](x, cond)  # (n, C, 7, 7)
        return F.relu(x.amax(dim=(2, 3)))  # (n, C)


class KeyedAttention(nn.Module):
    """Scaled dot-product attention of one query per row over a padded sequence (padding masked)."""

    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.scale = dim**-0.5
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: torch.Tensor, values: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        # query: (n, D), values: (n, L, D), pad: (n, L) True at padding
        p = self.dropout.p if self.training else 0.0
        if torch.is_autocast_enabled(query.device.type):  # bmm's autocast: both in the autocast dtype
            dt = torch.get_autocast_dtype(query.device.type)
            query, values = _cast(query, dt), _cast(values, dt)
        elif values.dtype != query.dtype:
            return self.reference_forward(query, values, pad)
        with torch.autocast(query.device.type, enabled=False):
            return _KeyedAttentionFn.apply(query, values, pad, self.scale, p)  # (n, D)

    def reference_forward(self, query: torch.Tensor, values: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """The same function by autograd (dropout aside: its mask is drawn by torch.native_dropout in forward)."""
        scores = torch.bmm(values, query.unsqueeze(2)).squeeze(2) * self.scale  # (n, L)
        weights = self.dropout(scores.masked_fill(pad, float("-inf")).softmax(dim=1))  # (n, L)
        return torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (n, D)


class _KeyedAttentionFn(torch.autograd.Function):
    """KeyedAttention's function with a hand-written backward pass (a few operators instead of autograd's graph)."""

    @staticmethod
    def forward(ctx, query, values, pad, scale, p):
        scores = torch.bmm(values, query.unsqueeze(2)).squeeze(2)  # (n, L)
        weights = scores.mul_(scale).masked_fill_(pad, float("-inf")).softmax(dim=1)  # (n, L)
        dropped = torch.native_dropout(weights, p, True)[0] if p > 0 else weights  # (n, L)
        ctx.save_for_backward(query, values, weights, dropped)
        ctx.scale = scale
        return torch.bmm(dropped.unsqueeze(1), values).squeeze(1)  # (n, D)

    @staticmethod
    def backward(ctx, grad):
        query, values, weights, dropped = ctx.saved_tensors
        grad = _cast(grad, values.dtype)
        d_dropped = torch.bmm(values, grad.unsqueeze(2)).squeeze(2)  # (n, L)
        # softmax: dL/ds = w dL/dw - w sum(w dL/dw), and w dL/dw = dropped dL/d(dropped) (dropout keeps w or
        # scales it by 1 / (1 - p), or drops it: then both are 0); the padding's weights are 0
        t = d_dropped * dropped  # (n, L)
        d_scores = torch.addcmul(t, weights, t.sum(1, keepdim=True), value=-1)  # (n, L)
        d_query = torch.bmm(d_scores.unsqueeze(1), values).squeeze(1).mul_(ctx.scale)  # (n, D)
        d_values = torch.baddbmm(dropped.unsqueeze(2) * grad.unsqueeze(1), d_scores.unsqueeze(2), query.unsqueeze(1),
                                 alpha=ctx.scale)  # (n, L, D)
        return d_query, d_values, None, None, None


class QueryTransformerLayer(nn.Module):
    """A transformer-encoder layer whose single query attends over a memory sequence.

    Multi-head attention, dropout, residual + layer norm, then a position-wise feed-forward, dropout,
    residual + layer norm (post-norm, as the original). Padding of the memory is masked.
    """

    def __init__(self, dim: int, heads: int, ff_dim: int, attn_dropout: float, dropout: float):
        super().__init__()
        self.heads = heads
        self.attn_dropout = attn_dropout
        self.w_q = StepLinear(dim, dim)
        self.w_k = nn.Linear(dim, dim)
        self.w_v = nn.Linear(dim, dim)
        self.w_o = StepLinear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.ff1 = StepLinear(dim, ff_dim)
        self.ff2 = StepLinear(ff_dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.dropout = nn.Dropout(dropout)

    def project_memory(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # memory: (n, L, D); the keys and values do not depend on the query, so compute them once
        n, length, dim = memory.shape
        k = self.w_k(memory).view(n, length, self.heads, -1).transpose(1, 2)  # (n, H, L, D/H)
        v = self.w_v(memory).view(n, length, self.heads, -1).transpose(1, 2)  # (n, H, L, D/H)
        return k, v

    def attention_bias(self, pad: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The mask of ``forward`` as the attention adds it (0, -inf at padding) in the queries' dtype: callers
        may make it once for many steps (scaled_dot_product_attention converts a boolean mask at every call)."""
        # pad: (n, L) True at padding -> (n, 1, 1, L)
        return torch.zeros(pad.shape, dtype=dtype, device=pad.device).masked_fill_(pad, float("-inf"))[:, None, None, :]

    def forward(self, query: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        # query: (n, D), k/v: (n, H, L, D/H) from project_memory, pad: (n, L) True at padding, or attention_bias(pad)
        n, dim = query.shape
        q = self.w_q(query).view(n, self.heads, 1, -1)  # (n, H, 1, D/H)
        attend = pad if pad.dim() == 4 else ~pad[:, None, None, :]  # (n, 1, 1, L)
        p = self.attn_dropout if self.training else 0.0
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=p)  # (n, H, 1, D/H)
        x = self.norm1(self.dropout(self.w_o(o.reshape(n, dim))) + query)  # (n, D)
        return self.norm2(self.dropout(self.ff2(F.relu(self.ff1(x)))) + x)  # (n, D)


class SequenceEncoder(nn.Module):
    """A bidirectional GRU over embedded tokens, keeping one output per token (zeros at padding)."""

    def __init__(self, dim: int):
        super().__init__()
        self.rnn = nn.GRU(dim, dim // 2, batch_first=True, bidirectional=True)

    def forward(self, embedded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """nn.GRU's function on the packed sequences, computed with both directions stepped together and the
        input projections of every token made at once (a few operators per token instead of ~50)."""
        # embedded: (n, L, D), lengths: (n,) int64 on any device, each >= 1
        rnn, (n, length, dim) = self.rnn, embedded.shape
        hidden = rnn.hidden_size
        lengths = lengths.to(embedded.device)
        t = torch.arange(length, device=embedded.device)
        valid = t < lengths[:, None]  # (n, L)
        rev = torch.where(valid, lengths[:, None] - 1 - t, t)  # (n, L): each sequence reversed within its length
        x_rev = embedded.gather(1, rev[:, :, None].expand(n, length, dim))  # (n, L, D)
        w_ih = torch.stack([rnn.weight_ih_l0, rnn.weight_ih_l0_reverse]).transpose(1, 2)  # (2, D, 3H)
        w_hh = torch.stack([rnn.weight_hh_l0, rnn.weight_hh_l0_reverse]).transpose(1, 2)  # (2, H, 3H)
        b_ih = torch.stack([rnn.bias_ih_l0, rnn.bias_ih_l0_reverse])[:, None, :]  # (2, 1, 3H)
        b_hh = torch.stack([rnn.bias_hh_l0, rnn.bias_hh_l0_reverse])[:, None, :]  # (2, 1, 3H)
        xs = torch.stack([embedded, x_rev]).reshape(2, n * length, dim)  # (2, nL, D): forward, reversed
        gi = torch.baddbmm(b_ih, xs, w_ih).view(2, n, length, 3 * hidden).unbind(2)  # L x (2, n, 3H)
        h = embedded.new_zeros(2, n, hidden)
        outs = []
        for step in range(int(lengths.max())):  # gates r, z, n as nn.GRU's
            gh = torch.baddbmm(b_hh, h, w_hh)  # (2, n, 3H)
            x_t = gi[step]  # (2, n, 3H)
            rz = torch.sigmoid(x_t[..., :2 * hidden] + gh[..., :2 * hidden])  # (2, n, 2H)
            cand = torch.tanh(torch.addcmul(x_t[..., 2 * hidden:], rz[..., :hidden], gh[..., 2 * hidden:]))
            h = torch.lerp(cand, _cast(h, cand.dtype), rz[..., hidden:])  # (1 - z) cand + z h: (2, n, H)
            outs.append(h)
        out = torch.stack(outs, 2)  # (2, n, T, H), T = the longest length
        if out.shape[2] < length:
            out = F.pad(out, (0, 0, 0, length - out.shape[2]))
        back = out[1].gather(1, rev[:, :, None].expand(n, length, hidden))  # the reversed direction, in order
        return torch.cat([out[0], back], 2) * valid[:, :, None]  # (n, L, D), zeros at padding


class ThoughtDecoder(nn.Module):
    """A one-layer LSTM language decoder started from the Thought Generator's memory.

    The word embedding is the agent's shared table, passed in by the caller.
    """

    def __init__(self, dim: int, memory_dim: int, vocab_size: int):
        super().__init__()
        self.rnn = nn.LSTM(dim, memory_dim, num_layers=1, batch_first=True)
        self.out = nn.Linear(memory_dim, vocab_size)

    def forward(self, state: tuple[torch.Tensor, torch.Tensor], inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # state: (h, c) each (n, M); inputs: (n, L, D) embedded tokens starting with "sos" (teacher forcing);
        # lengths: (n,) the tokens to read in each row (the rest is padding and is not computed)
        h0, c0 = state[0].unsqueeze(0).contiguous(), state[1].unsqueeze(0).contiguous()  # (1, n, M)
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, _ = self.rnn(packed, (h0, c0))
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=inputs.shape[1])  # (n, L, M)
        return self.out(outputs)  # (n, L, V): logits of the token after each input token (padding: bias only)

    def greedy(
        self,
        state: tuple[torch.Tensor, torch.Tensor],
        embedding: nn.Embedding,
        pad: int,
        sos: int,
        eos: int,
        max_len: int,
        min_steps: int = 0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode greedily, feeding back each argmax token, for at least min_steps and at most max_len tokens.

        Padding and "sos" are never chosen. Returns the thought tokens (n, 1 + K): "sos", the tokens up
        to and including the first "eos", then padding; and the logits of every step (n, K, V), K <= max_len.
        """
        n = state[0].shape[0]
        rnn = self.rnn
        # the LSTM's input projection (and both biases) of every word of the vocabulary, once: (V, 4M)
        words = F.linear(embedding.weight, rnn.weight_ih_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0)
        h, c = state  # (n, M) each
        token = torch.full((n,), sos, dtype=torch.long, device=state[0].device)  # (n,)
        ended = torch.zeros(n, dtype=torch.bool, device=state[0].device)  # (n,)
        never = torch.zeros(self.out.out_features, device=token.device)  # (V,): -inf at the tokens never spoken
        never[[pad, sos]] = float("-inf")
        tokens, logits = [token.unsqueeze(1)], []
        for step in range(max_len):
            if step >= min_steps and bool(ended.all()):
                break
            gates = F.linear(h, rnn.weight_hh_l0) + words[token]  # (n, 4M): nn.LSTM's gates i, f, g, o
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (n, M)
            h = torch.sigmoid(o) * torch.tanh(c)  # (n, M)
            step_logits = self.out(h)  # (n, V)
            token = (step_logits + never).argmax(dim=1)  # (n,)
            tokens.append(token.masked_fill(ended, pad).unsqueeze(1))  # padding after the first eos
            logits.append(step_logits)
            ended = ended | (token == eos)
        return torch.cat(tokens, dim=1), torch.stack(logits, dim=1)  # (n, 1 + K), (n, K, V)
