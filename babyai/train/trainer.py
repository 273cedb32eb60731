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
import logging
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from babyai.agent.loading import build_agent, save_checkpoint
from babyai.bars import progress_bar
from babyai.model.layers import frame_statistics
from babyai.threads import describe as describe_threads
from babyai.train import distributed
from babyai.train.checkpoint import rng_state, set_rng_state
from babyai.train.data import EpisodeIndex, EpochSampler, Tokenizer, batches
from babyai.train.datasets import (check_levels, load_sources, validation_demos_text, warn_epoch_length,
                                   warn_seed_overlap)
from babyai.train.logger import RunLogger, console_logger, csv_columns
from babyai.train.losses import action_entropy, action_nll, correct_actions, imitation_loss, thought_nll
from babyai.train.progress import EpochStats, Progress, best_success_text, epoch_values, stop_reason
from babyai.train.run import Start, TrainConfig, decide_start, hold_run, run_dir, write_run_files
from babyai.train.schedule import learning_rate, teacher_forcing_ratio
from babyai.train.validation import Validation, validate
from babyai.train.windows import window_outputs

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
    if start.checkpoint is not None and start.checkpoint["progress"]["finished"]:
        return _already_finished(cfg, folder, start.checkpoint["progress"], d)
    run = Run.setup(cfg, d, folder, start)
    while run.progress.epoch < cfg.epochs and not run.stop_reason():
        lr, tf_ratio = run.train_epoch()
        run.end_of_epoch(lr, tf_ratio)
    return run.finish()


def _already_finished(cfg: TrainConfig, folder: str, p: dict, d: distributed.Dist) -> dict:
    log = console_logger(folder if d.main and os.path.isdir(folder) else None, d.main)
    log.info(f"run {cfg.model_name} already finished ({p['finished']}) after {p['epoch']} epochs, "
             f"{best_success_text(p['best_success'])}: nothing to do (use another --model to train again)")
    return {"run_dir": folder, "finished": p["finished"], "best_success": p["best_success"], "epoch": p["epoch"],
            "resumed": True}


@dataclass
class Run:
    """A training run in progress: its settings, model, optimizer, data, random streams, logger and clock."""

    cfg: TrainConfig
    d: distributed.Dist
    folder: str
    start: Start
    log: logging.Logger
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype | None
    progress: Progress
    tokenizer: Tokenizer
    index: EpisodeIndex
    valid_index: EpisodeIndex | None
    batch_size: int
    sampler: EpochSampler
    coin: np.random.Generator  # the teacher-forcing coin, one flip per batch
    logger: RunLogger
    clock: float  # time.time() - seconds already spent
    last_save: float = field(default_factory=time.time)

    # ------------------------------------------------------------------ setup
    @classmethod
    def setup(cls, cfg: TrainConfig, d: distributed.Dist, folder: str, start: Start) -> "Run":
        if d.main:
            write_run_files(folder, cfg, start, d.world)
        distributed.barrier(d)
        log = console_logger(folder, d.main)
        what = "resuming" if start.checkpoint else "starting"
        log.info(f"{what} {cfg.algo} run {cfg.model_name} in {folder}: seed {start.seed}, device {d.device}, "
                 f"{d.world} process(es), {describe_threads()}")
        log.info(f"command: {cfg.command}")

        torch.manual_seed(start.seed + d.rank)
        model = build_agent(cfg.algo, start.model_config).to(d.device)
        optimizer = torch.optim.Adam(model.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.optim_eps)
        amp_dtype = None
        if d.device.type == "cuda":
            amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        progress = _restore(cfg, start, d, model, optimizer, scaler, log)
        distributed.broadcast_module(d, model)  # every process starts from rank 0's weights
        log.info(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters()):,} parameters, "
                 f"{start.model_config}")

        tokenizer = Tokenizer(start.vocab, start.model_config.max_thought_len)
        train_sources, valid_sources = load_sources(cfg, tokenizer, log)
        index = EpisodeIndex(train_sources)
        valid_index = EpisodeIndex(valid_sources) if valid_sources else None
        check_levels(cfg, start.vocab, log)
        warn_seed_overlap(cfg, index, log)
        log.info(f"training on {len(index):,} episodes ({index.num_frames:,} frames); "
                 f"{validation_demos_text(cfg, len(valid_index) if valid_index else 0)}")
        warn_epoch_length(cfg, len(index), log)
        batch_size = min(cfg.batch_size, len(index))
        if batch_size < cfg.batch_size:
            log.warning(f"--batch-size {cfg.batch_size} is larger than the {len(index)} training episodes: "
                        f"using {batch_size}")
        if cfg.tf_until_nll and valid_index is None:
            raise ValueError("--tf-until-nll needs validation demos (the thought NLL is measured on them)")
        if batch_size < d.world:
            raise ValueError(f"--batch-size {batch_size} is smaller than the {d.world} processes")

        coin = np.random.default_rng(start.seed)
        if progress.coin:
            coin.bit_generator.state = json.loads(progress.coin)
        logger = RunLogger(folder, csv_columns(cfg.envs), cfg.tb, progress.epoch if start.checkpoint else None, log,
                           d.main)
        return cls(cfg, d, folder, start, log, model, optimizer, scaler, amp_dtype, progress, tokenizer, index,
                   valid_index, batch_size, EpochSampler(len(index), cfg.epoch_length, start.seed), coin, logger,
                   time.time() - progress.duration)

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self) -> tuple[float, float]:
        """The batches of the running epoch (from where a resumed run stopped); returns its lr and tf ratio."""
        cfg, d, progress = self.cfg, self.d, self.progress
        epoch = progress.epoch
        stop_tf = self.stop_tf()
        lr = learning_rate(epoch, cfg.lr, cfg.warm_start, stop_tf)
        tf_ratio = teacher_forcing_ratio(epoch, cfg.epochs, stop_tf)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        indices = self.sampler.epoch(epoch)
        usable = indices[: len(indices) // self.batch_size * self.batch_size]
        stats = progress.sums
        bar = progress_bar(total=int(self.index.lengths[usable].sum()), initial=int(stats.frames), unit="frame",
                           unit_scale=True, desc=f"epoch {epoch + 1}", disable=not d.main, leave=False, mininterval=2)
        tick = time.time()
        for batch, global_frames in batches(self.index, indices, self.batch_size, self.tokenizer, d.rank, d.world,
                                            start=progress.batch, pin=d.device.type == "cuda",
                                            episodes_per_lane=cfg.episodes_per_lane):
            teacher_forcing = bool(self.coin.random() < tf_ratio)
            sums = self.step(batch.to(d.device), teacher_forcing, global_frames)
            stats.add_batch(sums, batch.num_frames, teacher_forcing)
            progress.batch += 1
            progress.steps += 1
            progress.num_frames += global_frames
            bar.update(global_frames)
            if distributed.broadcast(d, time.time() - self.last_save >= cfg.checkpoint_minutes * 60):
                stats.seconds += time.time() - tick
                tick = time.time()
                self.save("last.pt")
        bar.close()
        stats.seconds += time.time() - tick
        return lr, tf_ratio

    def step(self, batch, teacher_forcing: bool, global_frames: int) -> list[float]:
        """One optimizer step on a batch; its sums of (policy loss, entropy, thought loss, correct actions)."""
        self.optimizer.zero_grad(set_to_none=True)
        scale = self.d.world / global_frames  # gradients are averaged over processes: the loss is the global frame mean
        sums = backward_batch(self.model, batch, self.cfg, teacher_forcing, scale, self.amp_dtype, self.scaler,
                              history_sampling(self.cfg, self.progress.steps))
        distributed.average_gradients(self.d, self.model)  # data-parallel: one exchange per global batch
        self.scaler.step(self.optimizer)
        self.scaler.update()
        distributed.average_buffers(self.d, self.model)
        return sums.tolist()

    # ------------------------------------------------------------------ end of epoch
    def end_of_epoch(self, lr: float, tf_ratio: float) -> None:
        """Sum the statistics over the processes, validate, keep the best model, log a row, checkpoint."""
        cfg, progress = self.cfg, self.progress
        seconds = progress.sums.seconds
        totals = EpochStats.from_values(distributed.all_sum(self.d, progress.sums.values()))
        progress.epoch, progress.batch, progress.sums = progress.epoch + 1, 0, EpochStats()
        values = epoch_values(progress, totals, seconds, time.time() - self.clock, lr, tf_ratio, cfg.entropy_coef,
                              cfg.sg_coef, cfg.algo == "tc")
        if progress.epoch % cfg.val_interval == 0:
            values.update(validate(Validation(cfg, self.d, self.model, self.start, progress, tf_ratio, self.amp_dtype,
                                              self.valid_index, self.tokenizer)))
            self.keep_best(values)
            self.check_thoughts_formed(values)
        if progress.epoch % cfg.log_interval == 0 or progress.epoch % cfg.val_interval == 0:
            self.logger.log(values)
        if (progress.epoch >= cfg.epochs or self.stop_reason()
                or (cfg.save_interval and progress.epoch % cfg.save_interval == 0)):
            self.save("last.pt")

    def keep_best(self, values: dict) -> None:
        """Save best.pt when the mean validation success over the levels is the best so far (with
        --best-ties-by-thoughts, also when it equals the best and the thoughts played agree more often with
        the oracle's object than at the best)."""
        p = self.progress
        rates = [v for k, v in values.items() if k.startswith("validation_success_rate") and v is not None]
        success = float(np.mean(rates or [math.nan]))
        thoughts = values.get("validation_right_object") if self.cfg.best_ties_by_thoughts else None
        p.validations += 1
        tie = thoughts is not None and success == p.best_success and thoughts > p.best_thoughts
        if success > p.best_success or tie:
            p.best_success, p.best_thoughts, p.patience = success, -1.0 if thoughts is None else thoughts, 0
            self.save("best.pt", with_optimizer=False)
            why = f", right object {thoughts:.3f}" if thoughts is not None else ""
            self.log.info(f"new best validation success {success:.3f}{why}: saved best.pt")
        elif not math.isnan(success):
            p.patience += 1

    def stop_tf(self) -> int:
        """The epoch from which teacher forcing is phased out: --stop-tf; with --tf-until-nll, not before the
        thoughts have formed (until then, past the last epoch: teacher forcing stays on)."""
        if not self.cfg.tf_until_nll:
            return self.cfg.stop_tf
        formed = self.progress.thoughts_formed
        return max(self.cfg.stop_tf, formed) if formed >= 0 else self.cfg.epochs

    def check_thoughts_formed(self, values: dict) -> None:
        """With --tf-until-nll: note the first validation whose teacher-forced thought NLL is below it."""
        nll = values.get("validation_thought_nll")
        if self.cfg.tf_until_nll and self.progress.thoughts_formed < 0 and nll is not None and nll < self.cfg.tf_until_nll:
            self.progress.thoughts_formed = self.progress.epoch
            self.log.info(f"thoughts formed: validation thought NLL {nll:.3f} < {self.cfg.tf_until_nll:g} after "
                          f"{self.progress.steps} optimizer steps; teacher forcing is phased out from epoch "
                          f"{self.stop_tf() + 1} to the last")

    def stop_reason(self) -> str:
        return stop_reason(self.progress, self.cfg.epochs, self.cfg.frames, self.cfg.patience)

    def finish(self) -> dict:
        progress = self.progress
        progress.finished = self.stop_reason() or "epochs"
        self.save("last.pt")
        self.logger.close()
        self.log.info(f"finished ({progress.finished}) after {progress.epoch} epochs and {progress.num_frames:,} "
                      f"frames; {best_success_text(progress.best_success)}")
        return {"run_dir": self.folder, "finished": progress.finished, "best_success": progress.best_success,
                "epoch": progress.epoch, "resumed": self.start.checkpoint is not None}

    # ------------------------------------------------------------------ checkpoints
    def save(self, name: str, with_optimizer: bool = True) -> None:
        """Checkpoint the run (every process takes part: the random states of all are saved)."""
        progress = self.progress
        progress.coin, progress.duration = json.dumps(self.coin.bit_generator.state), time.time() - self.clock
        rngs = distributed.all_gather(self.d, rng_state())
        if self.d.main:
            save_checkpoint(os.path.join(self.folder, name), {
                "algo": self.cfg.algo, "model_config": self.start.model_config.to_dict(),
                "vocab": self.start.vocab.to_dict(), "train_config": self.cfg.to_dict(), "seed": self.start.seed,
                "world_size": self.d.world, "model": self.model.state_dict(), "progress": dataclasses.asdict(progress),
                "rng": rngs, "optimizer": self.optimizer.state_dict() if with_optimizer else {},
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            })
        if name == "last.pt":
            self.last_save = time.time()


def backward_batch(model, batch, cfg: TrainConfig, teacher_forcing: bool, scale: float, amp_dtype=None,
                   scaler: torch.amp.GradScaler | None = None, sampling: float = 0.0) -> torch.Tensor:
    """Accumulate the gradients of one batch (its loss times ``scale``), window after window of truncated
    BPTT; returns the sums over its frames of (policy loss, entropy, thought loss, correct actions). A batch
    with label masks (see make_batch) counts the action terms on its action-masked frames only, the thought
    loss on its thought-masked frames only. ``sampling``: the share of teacher-forced frames whose thought
    history reads the model's own greedy thought (``history_sampling``)."""
    stats = torch.zeros(4, device=batch.images.device)
    with frame_statistics(model):  # BatchNorm running statistics: those of all the batch's frames
        for rows, out in window_outputs(model, batch, cfg.recurrence, teacher_forcing, amp_dtype, cfg.history_noise,
                                        sampling):
            actions, thoughts = batch.actions[rows], batch.thoughts[batch.thought_ids[rows], 1:]
            acted, thought = batch.label_masks(rows)
            policy_loss = action_nll(out.action_logits, actions, acted)
            entropy = action_entropy(out.action_logits, acted)
            thought_loss = thought_nll(out.thought_logits, thoughts, thought)
            loss = imitation_loss(policy_loss, entropy, thought_loss, cfg.entropy_coef, cfg.sg_coef) * scale
            (scaler.scale(loss) if scaler is not None else loss).backward()
            correct = correct_actions(out.action_logits, actions, acted)
            stats += torch.stack([policy_loss, entropy, thought_loss, correct]).detach()
    return stats


def history_sampling(cfg: TrainConfig, steps: int) -> float:
    """The share of teacher-forced frames whose history reads the model's own thought at optimizer step ``steps``
    (0-based): ``cfg.history_sampling``, reached linearly over the first ``cfg.history_sampling_steps`` steps."""
    if cfg.history_sampling_steps <= 0:
        return cfg.history_sampling
    return cfg.history_sampling * min(1.0, (steps + 1) / cfg.history_sampling_steps)


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
        return Progress.from_dict(start.checkpoint["progress"])
    if start.pretrained is not None:
        model.load_state_dict(start.pretrained["model"])
        log.info(f"starting from the weights of {cfg.pretrained_model}")
        if start.model_config != cfg.model:
            log.warning(f"the model sizes given are not {cfg.pretrained_model}'s: using its {start.model_config}")
    return Progress()
