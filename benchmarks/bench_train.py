#!/usr/bin/env python3
"""Training-step speed on CPU (or GPU): frames/s of one optimizer step on real BossLevel batches.

    python benchmarks/bench_train.py [--repeats 3] [--configs small paper] [--image-dims 32 64 128] [--device cpu]

For each configuration (small: --memory-dim 256 --instr-dim 128 --batch-size 32; paper: 2048 / 256
--batch-size 8; both --recurrence 20, teacher forcing, Adam) it times, on the same batches:
- ours: the trainer's own step (``babyai.train.trainer.backward_batch`` + Adam) on the trainer's
  layout (episodes packed into lanes, --episodes-per-lane);
- the original's computation order, in the same run: a no-grad pass over the batch for the memories
  at window starts, then per window a gradient pass calling the model one time step at a time (so
  the image encoder, decoder and weight gradients are not batched over the window), one row per
  episode (the same math as ours up to which frames each time step's BatchNorm normalises together).
It prints frames/s (median and range over repeats) and the ratios, with the original program's
figures measured on the project's machine (150.8 and 7.2 frames/s) for reference; and the ceiling
the 3x3 convolutions alone put on any computation of this math on this device: their forward and
backward passes timed at the batch sizes the step uses, without anything else.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

import torch
from common import median_rate, rate, repeat

from babyai.demos import DemoSpec, generate_dataset, open_demos
from babyai.model.compiled_step import set_compile_step
from babyai.model import BCAgent, TCConfig, ThoughtCloningAgent
from babyai.train.data import Tokenizer, make_batch
from babyai.train.losses import action_entropy, action_nll, thought_nll
from babyai.train.run import TrainConfig
from babyai.train.trainer import backward_batch
from babyai.agent.vocab import Vocabulary

LEVEL = "BabyAI-BossLevel-v0"
CONFIGS = {  # name -> (memory_dim, instr_dim, batch_size, the original program's frames/s on this machine)
    "small": (256, 128, 32, 150.8),
    "paper": (2048, 256, 8, 7.2),
}


def original_order_step(model, batch, cfg: TrainConfig) -> None:
    """The original's scheme: memories at window starts from a no-grad pass, then per window one model call
    per time step with gradients (same loss as ours)."""
    starts, memory = {}, model.initial_memory(int(batch.counts[0]))
    windows = list(batch.windows(cfg.recurrence))
    with torch.no_grad():
        for k, (rows, counts) in enumerate(windows):
            starts[k] = memory
            memory = _steps(model, batch, rows, counts, memory)[1]
    for k, (rows, counts) in enumerate(windows):
        loss, _ = _steps(model, batch, rows, counts, starts[k], with_loss=cfg)
        (loss / batch.num_frames).backward()


def _steps(model, batch, rows, counts, memory, with_loss: TrainConfig | None = None):
    loss, start = 0.0, rows.start
    for n in counts:
        step = slice(start, start + n)
        out = model(batch.images[step], [n], batch.mission[:n], batch.mission_lengths[:n], memory, batch.thoughts,
                    batch.thought_ids[step], True)
        memory = out.memory
        if with_loss is not None:
            actions, thoughts = batch.actions[step], batch.thoughts[batch.thought_ids[step], 1:]
            loss = loss + action_nll(out.action_logits, actions) - with_loss.entropy_coef * action_entropy(
                out.action_logits) + with_loss.sg_coef * thought_nll(out.thought_logits, thoughts)
        start += n
    return loss, memory


def conv_ceiling(batch_size: int, recurrence: int, device: torch.device, repeats: int, channels: int = 128) -> float:
    """Frames/s the model's 3x3 convolutions (C -> C channels on 7x7 maps, forward + backward) allow.

    Per frame, 5 run once per window of ``recurrence`` steps (the image encoder's second one: its first is
    a table lookup; the first FiLM block's two, in each generator) and 4 once per time step (the second
    FiLM block's two, in each generator), all with gradients for weights and inputs.
    """
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(device, memory_format=torch.channels_last)
    seconds_per_frame = 0.0
    for rows, count in ((batch_size * recurrence, 5), (batch_size, 4)):
        x = torch.randn(rows, channels, 7, 7, device=device).to(memory_format=torch.channels_last).requires_grad_()

        def once() -> None:
            conv(x).sum().backward()
            if device.type == "cuda":
                torch.cuda.synchronize()

        once()
        seconds_per_frame += count * statistics.median(repeat(once, repeats)) / rows
    return 1.0 / seconds_per_frame


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=int, default=2, help="optimizer steps per repeat")
    p.add_argument("--batch-size", type=int, default=None, help="episodes per batch (default: the configuration's)")
    p.add_argument("--image-dims", type=int, nargs="+", default=[128], help="--image-dim values to time (default: 128)")
    p.add_argument("--episodes-per-lane", type=int, default=TrainConfig.episodes_per_lane,
                   help=f"the trainer's batch layout (default: {TrainConfig.episodes_per_lane})")
    p.add_argument("--device", default="cpu")
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16 autocast), as the trainer uses on CUDA")
    p.add_argument("--flops", action="store_true", help="count the step's floating-point operations (torch's counter) "
                   "and print the rate reached")
    p.add_argument("--flops-batch-size", type=int, default=None, help="count the operations on a batch of this many "
                   "episodes (per frame), not on the timed batches (counting is slow: minutes at batch 180)")
    p.add_argument("--algo", choices=["tc", "bc"], default="tc", help="the model: Thought Cloning (default) or its "
                   "Behavioral Cloning baseline")
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's peak TFLOP/s, to print the share reached")
    p.add_argument("--no-baseline", action="store_true", help="time ours only")
    p.add_argument("--compile-step", action="store_true", help="the compiled per-time-step cell (babyai.model.compiled_step, "
                   "as BABYAI_COMPILE_STEP=1)")
    args = p.parse_args()
    if args.compile_step:
        set_compile_step(True)
    if args.repeats < 1 or args.batches < 1 or (args.batch_size is not None and args.batch_size < 1) or args.episodes_per_lane < 1 \
            or (args.flops_batch_size is not None and args.flops_batch_size < 1):
        p.error("--repeats, --batches, --batch-size, --flops-batch-size and --episodes-per-lane must be positive")
    for dim in args.image_dims:
        if dim < 16 or dim % 8:
            p.error(f"--image-dims: {dim} is not a multiple of 8 from 16 up")
    device = torch.device(args.device)
    print(f"{LEVEL} batches, {torch.get_num_threads()} threads, {os.cpu_count()} cores, device {device}; "
          "frames/s median (range)")
    with tempfile.TemporaryDirectory() as tmp:
        most = max(args.batch_size or CONFIGS[c][2] for c in args.configs) * args.batches
        generate_dataset(tmp + "/d", DemoSpec(LEVEL, most, 10**6), progress=False)
        episodes = list(open_demos(tmp + "/d"))
    tokenizer = Tokenizer(Vocabulary.babyai(), 15)
    for name in args.configs:
        for image_dim in args.image_dims:
            time_config(name, image_dim, args, episodes, tokenizer, device)


def time_config(name: str, image_dim: int, args, episodes, tokenizer, device) -> None:
    memory_dim, instr_dim, batch_size, original = CONFIGS[name]
    batch_size = args.batch_size or batch_size
    cfg = TrainConfig(args.algo, "bench", [LEVEL], ["-"], [0], recurrence=20, batch_size=batch_size)
    chunks = [episodes[i * batch_size:(i + 1) * batch_size] for i in range(args.batches)]
    batches = [make_batch(c, tokenizer, args.episodes_per_lane).to(device) for c in chunks]  # the trainer's layout
    per_episode = [make_batch(c, tokenizer).to(device) for c in chunks]  # one row per episode, as the original
    frames = sum(b.num_frames for b in batches)
    torch.manual_seed(0)
    agent = ThoughtCloningAgent if args.algo == "tc" else BCAgent
    model = agent(TCConfig(memory_dim=memory_dim, instr_dim=instr_dim, image_dim=image_dim)).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), 5e-4, eps=1e-5)

    def run(step, data) -> None:
        for b in data:
            optimizer.zero_grad(set_to_none=True)
            step(b)
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    amp = torch.bfloat16 if args.amp else None

    def ours(b):
        backward_batch(model, b, cfg, True, 1.0 / b.num_frames, amp_dtype=amp)

    run(ours, batches)  # warm-up
    print(f"{name} {args.algo.upper()}: memory {memory_dim}, words {instr_dim}, image {image_dim}, batch {batch_size} episodes "
          f"({args.episodes_per_lane} per lane), {frames} frames per repeat")
    t_ours = repeat(lambda: run(ours, batches), args.repeats)
    print(f"  ours (trainer step{', bf16' if amp else ''})           {rate(frames, t_ours)}")
    if args.flops:
        from torch.utils.flop_counter import FlopCounterMode

        counted, counted_frames = batches, frames
        if args.flops_batch_size:
            counted = [make_batch(episodes[:args.flops_batch_size], tokenizer, args.episodes_per_lane).to(device)]
            counted_frames = counted[0].num_frames
        counter = FlopCounterMode(display=False)
        with counter:
            run(ours, counted)
        per_frame = counter.get_total_flops() / counted_frames
        reached = per_frame * median_rate(frames, t_ours)
        share = f" = {100 * reached / (args.peak_tflops * 1e12):.2f}% of the {args.peak_tflops:g} TFLOP/s peak" if args.peak_tflops else ""
        print(f"  floating-point operations: {per_frame / 1e6:.1f} MFLOP per frame (counted on {counted_frames} frames), "
              f"{reached / 1e12:.3f} TFLOP/s reached{share}")
    if not args.no_baseline:
        t_base = repeat(lambda: run(lambda b: original_order_step(model, b, cfg), per_episode), args.repeats)
        print(f"  original order, one row per episode {rate(frames, t_base)}")
        print(f"  ours / original order:              {median_rate(frames, t_ours) / median_rate(frames, t_base):.2f}x")
    if image_dim == 128:
        print(f"  ours / original program ({original} frames/s measured): "
              f"{median_rate(frames, t_ours) / original:.2f}x  (target >= 3)")
    ceiling = conv_ceiling(batch_size, cfg.recurrence, device, max(3, args.repeats), image_dim)
    print(f"  ceiling set by the convolutions alone: {ceiling:.1f} frames/s")
    sys.stdout.flush()

if __name__ == "__main__":
    main()
