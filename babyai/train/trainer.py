"""Imitation training of the Thought Cloning agent and of the Behavioral Cloning baseline: one ``train()``.

Per batch of episodes (packed into lanes, see babyai.train.data): one teacher-forcing coin flip,
memories zeroed at each episode start, BatchNorm running statistics moved once towards those of
all the batch's frames,
truncated BPTT every ``recurrence`` steps (the memory is carried, detached, from window to window;
gradients of all windows are accumulated), one optimizer step. The loss is the mean over the
frames of the global batch of: action NLL - entropy_coef * action entropy + sg_coef * thought NLL
(summed over the thought's tokens). BC is the same loop with a model that has no thought.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from babyai.model import BCAgent, ThoughtCloningAgent
from babyai.model.layers import frame_statistics
from babyai.train import distributed
from babyai.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from babyai.train.data import EpisodeIndex, EpochSampler, Tokenizer, batches
from babyai.train.datasets import check_levels, load_sources, warn_seed_overlap
from babyai.train.logger import RunLogger, console_logger, csv_columns
from babyai.train.losses import action_entropy, action_nll, correct_actions, thought_nll
from babyai.train.rollout import rollout
from babyai.train.run import Start, TrainConfig, decide_start, hold_run, run_dir, write_run_files
from babyai.train.schedule import learning_rate, teacher_forcing_ratio


@dataclass
class Progress:
    """Where a run stands; saved in every checkpoint."""

    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed in the running epoch
    num_frames: int = 0
    duration: float = 0.0  # seconds spent training and validating
    best_success: float = -1.0
    patience: int = 0  # validations since the best one
    validations: int = 0
    finished: str = ""  # why the run stopped ("" while it runs)
    sums: dict = field(default_factory=dict)  # running sums of the current epoch's statistics
    coin: str = ""  # state of the teacher-forcing coin


def make_model(algo: str, model_config) -> torch.nn.Module:
    return ThoughtCloningAgent(model_config) if algo == "tc" else BCAgent(model_config)


def train(cfg: TrainConfig) -> dict:
    """Train (or resume, or report a finished run). Returns a summary of the run."""
    d = distributed.setup(cfg.device)
    try:
        with hold_run(run_dir(cfg), d.main):  # one writer per run folder
            return _train(cfg, d)
    finally:
        distributed.teardown(d)


def _train(cfg: TrainConfig, d: distributed.Dist) -> dict:
    folder = run_dir(cfg)
    start = decide_start(cfg, folder)
    start.seed = distributed.broadcast(d, start.seed)
    log = console_logger(folder if d.main and os.path.isdir(folder) else None, d.main)
    if start.checkpoint is not None and start.checkpoint["progress"]["finished"]:
        p = start.checkpoint["progress"]
        log.info(f"run {cfg.model_name} already finished ({p['finished']}) after {p['epoch']} epochs, best validation "
                 f"success {p['best_success']:.3f}: nothing to do (use another --model to train again)")
        return {"run_dir": folder, "finished": p["finished"], "best_success": p["best_success"], "epoch": p["epoch"], "resumed": True}
    if d.main:
        write_run_files(folder, cfg, start, d.world)
    distributed.barrier(d)
    log = console_logger(folder, d.main)
    what = "resuming" if start.checkpoint else "starting"
    log.info(f"{what} {cfg.algo} run {cfg.model_name} in {folder}: seed {start.seed}, device {d.device}, {d.world} process(es)")
    log.info(f"command: {cfg.command}")

    # model, optimizer, mixed precision
    torch.manual_seed(start.seed + d.rank)
    model = make_model(cfg.algo, start.model_config).to(d.device)
    optimizer = torch.optim.Adam(model.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.optim_eps)
    amp_dtype = None
    if d.device.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    progress = _restore(cfg, start, d, model, optimizer, scaler, log)
    distributed.broadcast_module(d, model)  # every process starts from rank 0's weights
    log.info(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters()):,} parameters, {start.model_config}")

    # data and levels
    tokenizer = Tokenizer(start.vocab, start.model_config.max_thought_len)
    train_sources, valid_sources = load_sources(cfg, tokenizer, log)
    index = EpisodeIndex(train_sources)
    valid_index = EpisodeIndex(valid_sources) if valid_sources else None
    check_levels(cfg, start.vocab, log)
    warn_seed_overlap(cfg, index, log)
    log.info(f"training on {len(index):,} episodes ({index.num_frames:,} frames); "
             f"{len(valid_index) if valid_index else 0:,} validation episodes")
    batch_size = min(cfg.batch_size, len(index))
    if batch_size < cfg.batch_size:
        log.warning(f"--batch-size {cfg.batch_size} is larger than the {len(index)} training episodes: using {batch_size}")
    if batch_size < d.world:
        raise ValueError(f"--batch-size {batch_size} is smaller than the {d.world} processes")

    sampler = EpochSampler(len(index), cfg.epoch_length, start.seed)
    coin = np.random.default_rng(start.seed)
    if progress.coin:
        coin.bit_generator.state = json.loads(progress.coin)
    logger = RunLogger(folder, csv_columns(cfg.envs), cfg.tb, progress.epoch if start.checkpoint else None, log, d.main)
    last_save, clock = time.time(), time.time() - progress.duration

    def save(path: str, with_optimizer: bool = True) -> None:
        progress.coin, progress.duration = json.dumps(coin.bit_generator.state), time.time() - clock
        rngs = distributed.all_gather(d, rng_state())
        if not d.main:
            return
        payload = {
            "algo": cfg.algo, "model_config": start.model_config.to_dict(), "vocab": start.vocab.to_dict(),
            "train_config": cfg.to_dict(), "seed": start.seed, "world_size": d.world,
            "model": model.state_dict(), "progress": dataclasses.asdict(progress), "rng": rngs,
            "optimizer": optimizer.state_dict() if with_optimizer else {}, "scaler": scaler.state_dict() if scaler.is_enabled() else {},
        }
        save_checkpoint(os.path.join(folder, path), payload)

    while progress.epoch < cfg.epochs and not _stop_reason(cfg, progress):
        epoch = progress.epoch
        lr = learning_rate(epoch, cfg.lr, cfg.warm_start, cfg.stop_tf)
        tf_ratio = teacher_forcing_ratio(epoch, cfg.epochs, cfg.stop_tf)
        for group in optimizer.param_groups:
            group["lr"] = lr
        indices = sampler.epoch(epoch)
        usable = indices[: len(indices) // batch_size * batch_size]
        sums = progress.sums or dict.fromkeys(("frames", "policy_loss", "entropy", "sg_loss", "correct", "batches", "forced", "seconds"), 0.0)
        bar = tqdm(total=int(index.lengths[usable].sum()), initial=int(sums["frames"]), unit="frame", unit_scale=True,
                   desc=f"epoch {epoch + 1}", disable=not d.main, leave=False, mininterval=2)
        tick = time.time()
        for batch, global_frames in batches(index, indices, batch_size, tokenizer, d.rank, d.world, start=progress.batch,
                                            pin=d.device.type == "cuda", episodes_per_lane=cfg.episodes_per_lane):
            batch = batch.to(d.device)
            teacher_forcing = bool(coin.random() < tf_ratio)
            optimizer.zero_grad(set_to_none=True)
            scale = d.world / global_frames  # gradients are averaged over processes: the loss is the global frame mean
            stats = backward_batch(model, batch, cfg, teacher_forcing, scale, amp_dtype, scaler)
            distributed.average_gradients(d, model)  # data-parallel: one exchange per global batch
            scaler.step(optimizer)
            scaler.update()
            distributed.average_buffers(d, model)
            for key, value in zip(("policy_loss", "entropy", "sg_loss", "correct"), stats.tolist()):
                sums[key] += value
            sums["frames"] += batch.num_frames
            sums["batches"] += 1
            sums["forced"] += teacher_forcing
            progress.batch += 1
            progress.num_frames += global_frames
            progress.sums = sums
            bar.update(global_frames)
            if distributed.broadcast(d, time.time() - last_save >= cfg.checkpoint_minutes * 60):
                sums["seconds"] += time.time() - tick
                tick = time.time()
                save("last.pt")
                last_save = time.time()
        bar.close()
        sums["seconds"] += time.time() - tick
        totals = dict(zip(sums, distributed.all_sum(d, list(sums.values()))))
        progress.epoch, progress.batch, progress.sums = epoch + 1, 0, {}
        values = _epoch_values(cfg, progress, totals, sums["seconds"], time.time() - clock, lr, tf_ratio)
        if progress.epoch % cfg.val_interval == 0:
            values.update(_validate(cfg, d, model, start, valid_index, tokenizer, progress, tf_ratio, amp_dtype))
            success = float(np.mean([v for k, v in values.items() if k.startswith("validation_success_rate") and v is not None] or [math.nan]))
            progress.validations += 1
            if success > progress.best_success:
                progress.best_success, progress.patience = success, 0
                save("best.pt", with_optimizer=False)
                log.info(f"new best validation success {success:.3f}: saved best.pt")
            elif not math.isnan(success):
                progress.patience += 1
        if progress.epoch % cfg.log_interval == 0 or progress.epoch % cfg.val_interval == 0:
            logger.log(values)
        if progress.epoch >= cfg.epochs or _stop_reason(cfg, progress) or (cfg.save_interval and progress.epoch % cfg.save_interval == 0):
            save("last.pt")
            last_save = time.time()
    progress.finished = _stop_reason(cfg, progress) or "epochs"
    save("last.pt")
    logger.close()
    log.info(f"finished ({progress.finished}) after {progress.epoch} epochs and {progress.num_frames:,} frames; "
             f"best validation success {progress.best_success:.3f}")
    return {"run_dir": folder, "finished": progress.finished, "best_success": progress.best_success,
            "epoch": progress.epoch, "resumed": start.checkpoint is not None}


def backward_batch(model, batch, cfg: TrainConfig, teacher_forcing: bool, scale: float, amp_dtype=None,
                   scaler: torch.amp.GradScaler | None = None) -> torch.Tensor:
    """Accumulate the gradients of one batch, window after window of truncated BPTT; returns the sums
    over its frames of (policy loss, entropy, thought loss, correct actions)."""
    device = batch.images.device
    memory = model.initial_memory(int(batch.counts[0]), device)
    stats = torch.zeros(4, device=device)
    with frame_statistics(model):  # BatchNorm running statistics: those of all the batch's frames
        for rows, counts in batch.windows(cfg.recurrence):
            with torch.autocast(device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
                out = model(**batch.window_inputs(rows, counts), memory=memory, teacher_forcing=teacher_forcing)
            actions, thoughts = batch.actions[rows], batch.thoughts[batch.thought_ids[rows], 1:]
            policy_loss, entropy, sg_loss = action_nll(out.action_logits, actions), action_entropy(out.action_logits), thought_nll(out.thought_logits, thoughts)
            loss = (policy_loss - cfg.entropy_coef * entropy + cfg.sg_coef * sg_loss) * scale
            (scaler.scale(loss) if scaler is not None else loss).backward()
            memory = tuple(m.detach() for m in out.memory)
            stats += torch.stack([policy_loss, entropy, sg_loss, correct_actions(out.action_logits, actions)]).detach()
    return stats


def _restore(cfg, start: Start, d, model, optimizer, scaler, log) -> Progress:
    """Load what the run starts from: its own checkpoint (and RNG states), or pretrained weights."""
    if start.checkpoint is not None:
        model.load_state_dict(start.checkpoint["model"])
        optimizer.load_state_dict(start.checkpoint["optimizer"])
        if start.checkpoint["scaler"]:
            scaler.load_state_dict(start.checkpoint["scaler"])
        states = start.checkpoint["rng"]
        if len(states) == d.world:
            set_rng_state(states[d.rank])
        else:
            log.warning(f"the checkpoint was written by {len(states)} process(es), not {d.world}: random streams restart")
        return Progress(**start.checkpoint["progress"])
    if start.pretrained is not None:
        model.load_state_dict(start.pretrained["model"])
        log.info(f"starting from the weights of {cfg.pretrained_model}")
        if start.model_config != cfg.model:
            log.warning(f"the model sizes given are not {cfg.pretrained_model}'s: using its {start.model_config}")
    return Progress()


def _epoch_values(cfg, progress: Progress, totals: dict, seconds: float, duration: float, lr: float, tf_ratio: float) -> dict:
    """The log row of an epoch from the sums of its statistics over all processes (means per frame)."""
    frames, tc = max(totals["frames"], 1.0), cfg.algo == "tc"
    return {
        "update": progress.epoch, "frames": progress.num_frames, "FPS": totals["frames"] / max(seconds, 1e-9),
        "duration": int(duration), "entropy": totals["entropy"] / frames, "policy_loss": totals["policy_loss"] / frames,
        "sg_loss": totals["sg_loss"] / frames if tc else None, "train_accuracy": totals["correct"] / frames,
        "loss": (totals["policy_loss"] - cfg.entropy_coef * totals["entropy"] + cfg.sg_coef * totals["sg_loss"]) / frames,
        "lr": lr, "tf_ratio": tf_ratio if tc else None,
        "teacher_forced_share": totals["forced"] / max(totals["batches"], 1) if tc else None,
        "epoch": progress.epoch,
    }


def _stop_reason(cfg: TrainConfig, progress: Progress) -> str:
    if progress.patience > cfg.patience:
        return "patience"
    if progress.num_frames > cfg.frames:
        return "frames"
    if progress.epoch >= cfg.epochs:
        return "epochs"
    return ""


def _validate(cfg, d, model, start: Start, valid_index, tokenizer, progress: Progress, tf_ratio: float, amp_dtype) -> dict:
    """Success on freshly generated levels (seeds from --val-seed on, new ones at every validation) and
    action accuracy on the validation demos; every process takes its share."""
    out = {}
    for j, env in enumerate(cfg.envs):
        suffix = "" if len(cfg.envs) == 1 else f"_{env}"
        first = cfg.val_seed + (progress.validations * len(cfg.envs) + j) * cfg.val_episodes
        if j == 0:
            out["validation_seed"] = first
        if cfg.val_episodes == 0:
            continue
        seeds = list(range(first, first + cfg.val_episodes))[d.rank :: d.world]
        gen = torch.Generator().manual_seed(start.seed * 1_000_003 + first)
        res = rollout(model, env, seeds, start.vocab, d.device, generator=gen, seeding=cfg.seeding, autocast_dtype=amp_dtype)
        n, ret, succ = distributed.all_sum(d, [len(seeds), sum(res.returns), sum(res.successes)])
        out[f"validation_return{suffix}"] = ret / n
        out[f"validation_success_rate{suffix}"] = succ / n
    if valid_index is not None:
        out["validation_accuracy"] = _demo_accuracy(cfg, d, model, valid_index, tokenizer, progress, tf_ratio, amp_dtype, start.seed)
    return out


@torch.no_grad()
def _demo_accuracy(cfg, d, model, index: EpisodeIndex, tokenizer, progress, tf_ratio, amp_dtype, seed) -> float:
    """Share of validation-demo frames whose most likely action is the demonstrated one (eval mode; one
    teacher-forcing coin flip per batch with the current ratio, as in training)."""
    was_training = model.training
    model.eval()
    coin = np.random.default_rng([seed, progress.epoch])
    correct = frames = 0
    order = np.arange(len(index))
    size = min(cfg.batch_size, len(index))
    for batch, _ in batches(index, order, size, tokenizer, d.rank, d.world, pin=d.device.type == "cuda", drop_last=False,
                            episodes_per_lane=cfg.episodes_per_lane):
        batch = batch.to(d.device)
        teacher_forcing = bool(coin.random() < tf_ratio)
        memory = model.initial_memory(int(batch.counts[0]), d.device)
        for rows, counts in batch.windows(cfg.recurrence):
            with torch.autocast(d.device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
                out = model(**batch.window_inputs(rows, counts), memory=memory, teacher_forcing=teacher_forcing)
            memory = out.memory
            correct += int(correct_actions(out.action_logits, batch.actions[rows]))
            frames += len(batch.actions[rows])
    model.train(was_training)
    correct, frames = distributed.all_sum(d, [correct, frames])
    return correct / max(frames, 1)


def load_trained(path: str, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, object, dict]:
    """A model from a checkpoint file (best.pt or last.pt), in eval mode, with its vocabulary and the checkpoint."""
    from babyai.model import TCConfig
    from babyai.train.vocab import Vocabulary

    ckpt = load_checkpoint(path)
    model = make_model(ckpt["algo"], TCConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), Vocabulary.from_dict(ckpt["vocab"]), ckpt
