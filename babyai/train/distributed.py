"""Data-parallel training with torch.distributed: started by torchrun (gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(requested: str | None, local_rank: int = 0) -> torch.device:
    """``requested`` ("cpu", "cuda", "cuda:1", "1") or, when None, the local GPU if there is one, else the CPU."""
    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.isdigit():
        requested = f"cuda:{requested}"
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: CUDA is not available on this machine")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


def setup(requested_device: str | None) -> Dist:
    """Join the process group when started by torchrun with several processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local_rank)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, local_rank, device)


def teardown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(d: Dist, values: list[float]) -> list[float]:
    """Element-wise sum of ``values`` over all processes."""
    if not d.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=d.device)
    dist.all_reduce(t)
    return t.tolist()


def all_gather(d: Dist, obj) -> list:
    if not d.enabled:
        return [obj]
    out = [None] * d.world
    dist.all_gather_object(out, obj)
    return out


def broadcast(d: Dist, obj):
    """Rank 0's ``obj`` on every process."""
    if not d.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def broadcast_module(d: Dist, module: torch.nn.Module) -> None:
    """Give every process rank 0's parameters and buffers."""
    if d.enabled:
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(d: Dist, module: torch.nn.Module, bucket_bytes: int = 64 << 20) -> None:
    """Average the parameters' gradients over the processes (after the whole global batch: every process
    may run a different number of truncated-BPTT windows, so there is exactly one exchange per batch)."""
    if not d.enabled:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    bucket, size = [], 0
    for p in params:
        bucket.append(p.grad)
        size += p.grad.numel() * p.grad.element_size()
        if size >= bucket_bytes:
            _average_in_place(d, bucket)
            bucket, size = [], 0
    if bucket:
        _average_in_place(d, bucket)


def average_buffers(d: Dist, module: torch.nn.Module) -> None:
    """Average the floating-point buffers (BatchNorm running statistics) over the processes."""
    if not d.enabled:
        return
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    if buffers:
        _average_in_place(d, buffers)


def _average_in_place(d: Dist, tensors: list[torch.Tensor]) -> None:
    """Replace each tensor by its mean over the processes (one all-reduce of them all, flattened)."""
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= d.world
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()
