"""Training: schedules, batching, the command line, run folders, resume, BC/TC sharing one trainer."""

import csv
import dataclasses
import os

import numpy as np
import pytest
import torch
from _train_helpers import LEVEL, TINY, make_demos, one_thread, synthetic_episode, tiny_config  # noqa: F401

import babyai.train.trainer as trainer
from babyai.model import ThoughtCloningAgent
from babyai.agent.loading import load_checkpoint
from babyai.cli import call
from babyai.commands.train import USER_ERRORS, build_parser, config_from_args
from babyai.commands.train import main as train_main
from babyai.train.data import EpisodeIndex, EpochSampler, Source, Tokenizer, make_batch, split_for_rank
from babyai.train.logger import ORIGINAL_COLUMNS
from babyai.train.schedule import learning_rate, teacher_forcing_ratio
from babyai.agent.vocab import Vocabulary, VocabularyError


def main(argv, **kwargs) -> int:
    """The exit status of the training command (one error line for bad input), as a script gets it."""
    return call(lambda a: train_main(a, **kwargs), argv, USER_ERRORS)


README = (
    "--env BabyAI-BossLevel-v0 --demos NAME --memory-dim=2048 --recurrence=80 --batch-size=180 --instr-arch=attgru "
    "--instr-dim=256 --val-interval 2 --log-interval 2 --lr 5e-4 --epochs 160 --epoch-length 51200 --seed 0 "
    "--val-seed 2023 --model NAME --sg-coef 2 --warm-start --stop-tf 10"
).split()


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    storage = tmp_path_factory.mktemp("storage")
    make_demos(storage, "tiny", 40, first_seed=0)
    make_demos(storage, "tiny_valid", 8, first_seed=10**9)
    return storage


def test_the_readme_command_parses_into_the_paper_settings():
    cfg = config_from_args(build_parser("tc").parse_args(README), "tc", "train_tc.py")
    assert (cfg.model.memory_dim, cfg.model.instr_dim, cfg.model.image_dim, cfg.model.instr_arch) == (2048, 256, 128, "attgru")
    assert (cfg.recurrence, cfg.batch_size, cfg.lr, cfg.epochs, cfg.epoch_length) == (80, 180, 5e-4, 160, 51200)
    assert (cfg.val_interval, cfg.log_interval, cfg.val_seed, cfg.seed, cfg.sg_coef, cfg.stop_tf) == (2, 2, 2023, 0, 2.0, 10)
    assert cfg.warm_start and cfg.model_name == "NAME" and cfg.envs == ["BabyAI-BossLevel-v0"] and cfg.demos == ["NAME"]
    il = config_from_args(build_parser("bc").parse_args(README), "bc", "train_il.py")
    assert il.algo == "bc" and il.batch_size == 180 and il.model == cfg.model


def test_schedules_match_the_design_for_the_readme_flags():
    lrs = [learning_rate(e, 5e-4, warm_start=True, stop_tf=10) for e in range(160)]
    assert lrs[:5] == pytest.approx([1e-4, 2e-4, 3e-4, 4e-4, 5e-4])
    assert lrs[5:50] == pytest.approx([5e-4] * 45) and lrs[50:] == pytest.approx([2.5e-4] * 110)
    tf = [teacher_forcing_ratio(e, 160, 10) for e in range(160)]
    assert tf[:10] == [1.0] * 10 and tf[10] == pytest.approx(1 - 1 / 150) and tf[84] == pytest.approx(0.5)
    assert tf[159] == 0.0 and all(a >= b for a, b in zip(tf, tf[1:]))
    assert learning_rate(125, 5e-4, warm_start=False, stop_tf=100) == pytest.approx(2.5e-4)  # epoch > 120


def test_epochs_draw_episodes_without_replacement_across_epochs():
    sampler = EpochSampler(10, 4, seed=7)
    epochs = [sampler.epoch(e) for e in range(5)]  # 20 draws: two passes over 10 episodes
    first, second = np.concatenate(epochs)[:10], np.concatenate(epochs)[10:]
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert np.array_equal(EpochSampler(10, 4, seed=7).epoch(3), epochs[3])
    assert not np.array_equal(EpochSampler(10, 4, seed=8).epoch(0), epochs[0])
    # --epoch-length 0: every epoch is one whole pass, each a new shuffle of all episodes
    whole = [EpochSampler(10, 0, seed=7).epoch(e) for e in range(3)]
    assert all(sorted(w) == list(range(10)) for w in whole)
    assert not np.array_equal(whole[0], whole[1]) and not np.array_equal(whole[0], np.arange(10))


def test_a_batch_is_laid_out_step_major_longest_first_and_windows_are_slices():
    rng = np.random.default_rng(0)
    episodes = [synthetic_episode(n, seed, rng) for seed, n in enumerate([3, 7, 1, 5])]
    batch = make_batch(episodes, Tokenizer(Vocabulary.babyai(), 15))
    assert batch.counts.tolist() == [4, 3, 3, 2, 2, 1, 1] and batch.num_frames == 16
    longest = episodes[1]
    offsets = np.concatenate([[0], np.cumsum(batch.counts)])
    for t in range(7):  # the longest episode is row 0 at every step
        assert np.array_equal(batch.images[offsets[t]].numpy(), longest.images[t])
        assert batch.actions[offsets[t]] == longest.actions[t]
        words = Vocabulary.babyai().decode(batch.thoughts[batch.thought_ids[offsets[t]]].tolist())
        assert words == longest.thoughts[t].lower()
    assert list(batch.windows(3)) == [(slice(0, 10), [4, 3, 3]), (slice(10, 15), [2, 2, 1]), (slice(15, 16), [1])]
    assert len(batch.thoughts) == len({t for ep in episodes for t in ep.thoughts})  # each distinct thought once


def test_truncation_only_cuts_gradients_not_the_forward_pass():
    rng = np.random.default_rng(1)
    batch = make_batch([synthetic_episode(n, s, rng) for s, n in enumerate([9, 4, 6])], Tokenizer(Vocabulary.babyai(), 15))
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TINY).eval()
    outputs = {}
    for recurrence in (2, 100):
        memory, logits = model.initial_memory(3), []
        for rows, counts in batch.windows(recurrence):
            with torch.no_grad():
                out = model(batch.images[rows], counts, batch.mission[: counts[0]], batch.mission_lengths[: counts[0]],
                            memory, batch.thoughts, batch.thought_ids[rows], True)
            memory = out.memory
            logits.append(out.action_logits)
        outputs[recurrence] = torch.cat(logits)
    torch.testing.assert_close(outputs[2], outputs[100], atol=1e-5, rtol=1e-5)


def test_unknown_words_in_demos_are_named():
    rng = np.random.default_rng(2)
    ep = synthetic_episode(3, 0, rng)
    ep.thoughts[1] = "dance to complete GoTo mission"
    with pytest.raises(VocabularyError, match="'dance'"):
        make_batch([ep], Tokenizer(Vocabulary.babyai(), 15))


def test_the_dataset_is_read_lazily_and_split_between_processes(demos):
    from babyai.demos import open_demos

    class Counting:
        def __init__(self, reader):
            self.reader, self.reads, self.lengths = reader, 0, reader.lengths

        def __len__(self):
            return len(self.reader)

        def __getitem__(self, i):
            self.reads += 1
            return self.reader[i]

    reader = Counting(open_demos(os.path.join(demos, "demos", "tiny")))
    index = EpisodeIndex([Source("tiny", reader, 40)])
    assert reader.reads == 0 and len(index) == 40 and index.num_frames == int(reader.lengths.sum())
    batch_indices = np.arange(8)
    shares = [split_for_rank(batch_indices, index.lengths, r, 2) for r in range(2)]
    assert sorted(np.concatenate(shares).tolist()) == list(range(8)) and len(shares[0]) == len(shares[1]) == 4
    make_batch([index.episode(int(i)) for i in shares[0]], Tokenizer(Vocabulary.babyai(), 15))
    assert reader.reads == 4


def read_log(folder):
    with open(os.path.join(folder, "log.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_tc_run_folder_log_and_finished_run_is_not_retrained(demos, capsys):
    args = ["--env", LEVEL, "--demos", "tiny", "--model", "run", "--storage-dir", str(demos), "--memory-dim", "32",
            "--instr-dim", "32", "--batch-size", "8", "--epochs", "3", "--epoch-length", "16", "--recurrence", "3",
            "--val-episodes", "4", "--val-seed", "1000000", "--warm-start", "--stop-tf", "1", "--lr", "1e-3", "--tb",
            "--seed", "0"]
    assert main(args, algo="tc", prog="train_tc.py") == 0
    folder = os.path.join(demos, "models", "run")
    assert {"config.json", "vocab.json", "command.txt", "last.pt", "best.pt", "log.csv", "train.log", "tb"} <= set(os.listdir(folder))
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(os.path.join(folder, "tb")))
    rows = read_log(folder)
    with open(os.path.join(folder, "log.csv")) as f:
        header = f.readline().strip().split(",")
    assert header[: len(ORIGINAL_COLUMNS) + 2] == ORIGINAL_COLUMNS + ["validation_return", "validation_success_rate"]
    assert [float(r["lr"]) for r in rows] == pytest.approx([2e-4, 4e-4, 6e-4])  # warm start
    assert [float(r["tf_ratio"]) for r in rows] == pytest.approx([1.0, 0.5, 0.0])  # phased out from --stop-tf 1
    assert [int(r["update"]) for r in rows] == [1, 2, 3] and all(r["validation_success_rate"] != "" for r in rows)
    ckpt = load_checkpoint(os.path.join(folder, "last.pt"))
    assert ckpt["seed"] != 0 and ckpt["progress"]["finished"] == "epochs"  # seed 0: one was drawn, and saved
    assert f"seed={ckpt['seed']}" in open(os.path.join(folder, "command.txt")).read()
    before = os.path.getmtime(os.path.join(folder, "last.pt"))
    capsys.readouterr()
    assert main(args, algo="tc", prog="train_tc.py") == 0  # the same command again
    assert "already finished" in capsys.readouterr().out and os.path.getmtime(os.path.join(folder, "last.pt")) == before
    changed = [a if a != "1e-3" else "2e-3" for a in args]
    assert main(changed, algo="tc", prog="train_tc.py") == 2  # other settings under the same name: refused
    assert "other settings" in capsys.readouterr().err


def test_bc_and_tc_share_one_trainer(demos, monkeypatch):
    calls = []
    real = trainer.train
    monkeypatch.setattr(trainer, "train", lambda cfg: calls.append(cfg.algo) or real(cfg))
    common = ["--env", LEVEL, "--demos", "tiny", "--storage-dir", str(demos), "--memory-dim", "32", "--instr-dim", "32",
              "--batch-size", "8", "--epochs", "1", "--epoch-length", "8", "--val-episodes", "2", "--val-seed", "1000000"]
    assert main(common + ["--model", "bc"], algo="bc") == 0
    assert main(common + ["--model", "tc0", "--sg-coef", "0"], algo="tc") == 0
    assert calls == ["bc", "tc"]
    bc, tc0 = (load_checkpoint(os.path.join(demos, "models", m, "last.pt")) for m in ("bc", "tc0"))
    assert bc["algo"] == "bc" and not any(k.startswith("thought") for k in bc["model"])
    assert tc0["train_config"]["sg_coef"] == 0.0 and any(k.startswith("thought_generator") for k in tc0["model"])
    assert read_log(os.path.join(demos, "models", "bc"))[0]["sg_loss"] == ""  # BC has no thought loss
    assert list(read_log(os.path.join(demos, "models", "bc"))[0]) == list(read_log(os.path.join(demos, "models", "tc0"))[0])


class Killed(Exception):
    pass


def test_kill_and_resume_gives_the_weights_of_an_uninterrupted_run(demos, monkeypatch):
    settings = dict(epochs=3, checkpoint_minutes=0, val_interval=2, seed=5)  # a checkpoint after every batch
    calls, saves = {"n": 0}, {}
    real_nll, real_save = trainer.action_nll, trainer.save_checkpoint

    def counting_nll(*a):
        calls["n"] += 1
        return real_nll(*a)

    def recording_save(path, payload):
        saves[(payload["progress"]["epoch"], payload["progress"]["batch"])] = calls["n"]
        return real_save(path, payload)

    monkeypatch.setattr(trainer, "action_nll", counting_nll)
    monkeypatch.setattr(trainer, "save_checkpoint", recording_save)
    trainer.train(tiny_config(demos, "whole", **settings))
    kill_at = saves[(1, 1)] + 1  # in the second batch of the second epoch, after a checkpoint within the epoch

    def dies(*a):
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise Killed
        return real_nll(*a)

    calls["n"] = 0
    monkeypatch.setattr(trainer, "action_nll", dies)
    with pytest.raises(Killed):
        trainer.train(tiny_config(demos, "killed", **settings))
    monkeypatch.setattr(trainer, "action_nll", real_nll)
    progress = load_checkpoint(os.path.join(demos, "models", "killed", "last.pt"))["progress"]
    assert (progress["epoch"], progress["batch"]) == (1, 1)
    summary = trainer.train(tiny_config(demos, "killed", **settings))  # the same command again: resumes
    assert summary["resumed"] and summary["epoch"] == 3
    whole, resumed = (load_checkpoint(os.path.join(demos, "models", m, "last.pt")) for m in ("whole", "killed"))
    for key, value in whole["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    logs = [read_log(os.path.join(demos, "models", m)) for m in ("whole", "killed")]
    same = ["update", "frames", "policy_loss", "sg_loss", "entropy", "train_accuracy", "validation_success_rate"]
    assert [[r[c] for c in same] for r in logs[0]] == [[r[c] for c in same] for r in logs[1]]
    assert [r["update"] for r in logs[1]] == ["1", "2", "3"]


def test_bad_inputs_end_with_one_line(demos, capsys):
    base = ["--storage-dir", str(demos), "--memory-dim", "32", "--instr-dim", "32", "--batch-size", "8", "--epochs", "1"]
    assert main(base + ["--env", "BabyAI-GoToLocl-v0", "--demos", "tiny", "--model", "bad1"]) == 2
    err = capsys.readouterr().err
    assert "unknown level" in err and "GoToLocal" in err and len(err.strip().splitlines()) == 1
    assert main(base + ["--env", LEVEL, "--demos", "nowhere", "--model", "bad2"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and len(err.strip().splitlines()) == 1
    assert main(base + ["--env", LEVEL, "--demos", "tiny", "--model", "bad3", "--instr-arch", "gru"]) == 2
    assert "--instr-arch gru is not supported" in capsys.readouterr().err
    assert main(base + ["--env", LEVEL, "--demos", "tiny", "--model", "bad4", "--episodes", "999"]) == 2
    assert "only 40 episodes" in capsys.readouterr().err


def test_missing_demos_are_named_before_a_model_is_built(demos, capsys):
    args = ["--env", LEVEL, "--demos", "nowhere", "--model", "early", "--storage-dir", str(demos), "--epochs", "1"]
    assert main(args, algo="tc") == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: no demonstrations nowhere at ") and "make_agent_demos.py --demos nowhere" in err
    assert out == "" and not os.path.exists(os.path.join(demos, "models", "early"))  # no run folder, no model


def test_the_log_says_why_there_is_no_validation(demos, capsys):
    common = ["--env", LEVEL, "--demos", "tiny", "--storage-dir", str(demos), "--memory-dim", "32", "--instr-dim",
              "32", "--batch-size", "8", "--epochs", "1", "--epoch-length", "8", "--val-seed", "1000000"]
    assert main(common + ["--model", "noval", "--val-episodes", "0"], algo="bc") == 0
    out = capsys.readouterr().out
    assert "no validation demos (--val-episodes 0)" in out and "finished (epochs) after 1 epochs" in out
    assert "no validation levels played" in out and "-1.000" not in out
    assert main(common + ["--model", "novaldemos", "--val-episodes", "2", "--valid", "gone"], algo="bc") == 0
    out = capsys.readouterr().out
    assert "the validation demos gone are missing or empty: validation accuracy is not measured" in out
    assert " 0 validation" not in out and "best validation success" in out


# validation results computed by the trainer before its rollout was merged into babyai.agent (two levels, two
# validations, untrained models): the same seeds give the same numbers
PINNED_VALIDATION = {
    ("tc", 0): (0.275, 0.5, 0.199375, 0.25), ("tc", 1): (0.1284375, 0.3, 0.040859374999999996, 0.05),
    ("bc", 0): (0.1353125, 0.2, 0.153671875, 0.25), ("bc", 1): (0.12687500000000002, 0.2, 0.10640625, 0.15),
}


@pytest.mark.parametrize("algo", ["tc", "bc"])
def test_validation_success_is_that_of_before(algo):
    from _agent_helpers import untrained_policy

    from babyai.train import distributed
    from babyai.train.run import Start
    from babyai.train.validation import Validation, validate

    policy = untrained_policy(algo, seed=0)
    levels = ["BabyAI-GoToObjS4-v0", "BabyAI-GoToRedBallGrey-v0"]
    cfg = tiny_config("unused", "pin", algo=algo, envs=levels, val_episodes=20, val_seed=500)
    d = distributed.Dist(0, 1, 0, torch.device("cpu"))
    start = Start(None, None, policy.model.cfg, policy.vocab, 7)
    for v in range(2):
        out = validate(Validation(cfg, d, policy.model, start, trainer.Progress(validations=v)))
        got = tuple(out[f"validation_{k}_{lv}"] for lv in levels for k in ("return", "success_rate"))
        assert out["validation_seed"] == 500 + 40 * v and got == PINNED_VALIDATION[(algo, v)]


def test_checkpoints_with_the_old_string_keyed_sums_resume():
    from babyai.train.progress import EpochStats, Progress

    old = {"epoch": 1, "batch": 2, "num_frames": 90, "sums": {"frames": 40.0, "policy_loss": 70.0, "entropy": 75.0,
           "sg_loss": 900.0, "correct": 10.0, "batches": 2.0, "forced": 1.0, "seconds": 3.0}}
    p = Progress.from_dict(old)
    assert p.sums == EpochStats(40.0, 70.0, 75.0, 900.0, 10.0, 2.0, 1.0, 3.0) and (p.epoch, p.batch) == (1, 2)
    assert Progress.from_dict({"epoch": 2, "sums": {}}).sums == EpochStats()  # written at the end of an epoch
    p.sums.add_batch([1.0, 2.0, 3.0, 4.0], 5, True)
    assert (p.sums.thought_loss, p.sums.frames, p.sums.batches, p.sums.forced) == (903.0, 45.0, 3.0, 2.0)
    assert Progress.from_dict(dataclasses.asdict(p)) == p  # what a checkpoint holds now reads back the same


def test_a_run_killed_after_its_first_epoch_resumes_from_it(demos, monkeypatch):
    """With the default settings (a checkpoint at every epoch end), a kill in epoch 2 loses only epoch 2's work."""
    real_step = trainer.Run.step

    def dies_in_epoch_two(self, *a):
        if self.progress.epoch == 1:
            raise Killed
        return real_step(self, *a)

    monkeypatch.setattr(trainer.Run, "step", dies_in_epoch_two)
    with pytest.raises(Killed):
        trainer.train(tiny_config(demos, "first_epoch", epochs=2))
    assert load_checkpoint(os.path.join(demos, "models", "first_epoch", "last.pt"))["progress"]["epoch"] == 1
    steps = []
    monkeypatch.setattr(trainer.Run, "step", lambda self, *a: steps.append(self.progress.epoch) or real_step(self, *a))
    summary = trainer.train(tiny_config(demos, "first_epoch", epochs=2))
    assert summary["resumed"] and summary["epoch"] == 2 and steps == [1, 1]  # only epoch 2's two batches
    assert [r["update"] for r in read_log(os.path.join(demos, "models", "first_epoch"))] == ["1", "2"]


class Index:
    def __init__(self, *ranges):
        self.ranges = list(ranges)

    def seed_range(self):
        return self.ranges


def test_warnings_for_long_epochs_and_validation_levels_among_the_demos(caplog):
    import logging

    from babyai.train.datasets import warn_epoch_length, warn_seed_overlap

    log = logging.getLogger("test_train_warnings")
    cfg = tiny_config("unused", "w", epoch_length=100, val_seed=100, val_episodes=4, epochs=40)
    with caplog.at_level(logging.WARNING, logger=log.name):
        warn_epoch_length(cfg, 40, log)
        warn_seed_overlap(cfg, Index(("d", 110, 117), ("e", 0, 99), ("f", 300, 400)), log)
    assert [r.getMessage() for r in caplog.records] == [
        "--epoch-length 100 is more than the 40 training episodes: each epoch makes 2.5 passes over them",
        "validation levels (seeds 108..119, validations 3 to 5 of at most 40) overlap the seeds of the training "
        "demos d (110..117): validation success is then measured on training levels; choose a --val-seed outside "
        "the demos' seeds for a held-out measure"]  # 300..400 is past the last validation's levels (100..259)
    caplog.clear()
    fixed = dataclasses.replace(cfg, val_fixed=True, epoch_length=40)
    with caplog.at_level(logging.WARNING, logger=log.name):
        warn_epoch_length(fixed, 40, log)
        warn_seed_overlap(fixed, Index(("d", 110, 117)), log)
        assert not caplog.records  # one pass per epoch; the one validation set is 100..103
        warn_seed_overlap(fixed, Index(("d", 103, 117)), log)
    assert "(seeds 100..103, every validation)" in caplog.records[0].getMessage()


def test_default_validation_levels_are_not_the_default_demos_levels(caplog):
    """All-default runs (demos of make_agent_demos.py, a train_tc.py run) validate on held-out levels; the paper's
    command, which passes --val-seed 2023, still does as it did (and is warned)."""
    import logging

    from babyai.commands.make_agent_demos import parse_args as demos_args
    from babyai.demos import VALID_FIRST_SEED
    from babyai.train.datasets import warn_seed_overlap

    made = demos_args([])
    demos = Index(("d", made.seed, made.seed + 2_000_000 - 1))  # up to 2M default-seeded episodes
    flags = ["--env", LEVEL, "--demos", "d", "--model", "m"]
    default = config_from_args(build_parser("tc").parse_args(flags), "tc", "train_tc.py")
    paper = config_from_args(build_parser("tc").parse_args(README), "tc", "train_tc.py")
    assert default.val_seed == VALID_FIRST_SEED and paper.val_seed == made.seed == 2023
    log = logging.getLogger("test_default_validation_levels")
    with caplog.at_level(logging.WARNING, logger=log.name):
        warn_seed_overlap(default, demos, log)
        assert not caplog.records
        warn_seed_overlap(paper, demos, log)
    assert len(caplog.records) == 1  # every validation of the paper's 160 epochs (80) plays training levels
    assert caplog.records[0].getMessage().startswith("validation levels (seeds 2023..42982, validations 1 to 80 of ")


def test_val_fixed_plays_the_same_levels_at_every_validation():
    from _agent_helpers import untrained_policy

    from babyai.train import distributed
    from babyai.train.run import Start
    from babyai.train.validation import Validation, validate

    policy = untrained_policy("tc", seed=0)
    d = distributed.Dist(0, 1, 0, torch.device("cpu"))
    start = Start(None, None, policy.model.cfg, policy.vocab, 7)
    outs = {}
    for fixed in (False, True):
        cfg = tiny_config("unused", "fixed", envs=["BabyAI-GoToObjS4-v0"], val_episodes=6, val_seed=500, val_fixed=fixed)
        outs[fixed] = [validate(Validation(cfg, d, policy.model, start, trainer.Progress(validations=v)))
                       for v in range(2)]
    assert [o["validation_seed"] for o in outs[False]] == [500, 506] and outs[True][0] == outs[False][0]
    assert outs[True][1] == outs[True][0]  # the same levels, and the same sampled actions
    assert build_parser("tc").parse_args(["--val-fixed"]).val_fixed and not build_parser("tc").parse_args([]).val_fixed
    old = cfg.to_dict()
    del old["val_fixed"]  # a run saved before --val-fixed existed resumes under the same command
    assert dataclasses.replace(cfg, val_fixed=False).schedule_differences(old) == []
    assert cfg.schedule_differences(old) == ["val_fixed False -> True"]
