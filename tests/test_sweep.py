"""The development sweep's rounds on a stand-in pipeline (no training): every probe run name means one
configuration, and a round starts from the previous round's winner without training it again."""

import os

from babyai.study.pipeline import Plan
from babyai.study.sweep import Sweep, SweepPlan


class FakePipeline:
    """Records each training command (a run asked for again must come with the same flags); a run's score is made up from its flags (wider convs score more)."""

    def __init__(self, tmp, plan):
        self.plan, self.tmp, self.results = plan, str(tmp), os.path.join(str(tmp), "results")
        self.trained: dict[str, list] = {}

    def make_demos_for(self, level, noise_rate):
        pass

    def parallel(self, tasks, fn):
        for t in tasks:
            fn(t)

    def model_dir(self, run):
        return os.path.join(self.tmp, run)

    def script(self, stage, *args, log):
        flags = dict(zip(args[::2], args[1::2]))
        run = flags["--model"]
        if run in self.trained:  # the real stage resumes a finished run as a no-op, if its flags are the same
            assert self.trained[run] == list(args), f"{run} asked for twice with other flags"
            return
        self.trained[run] = list(args)
        success = 0.1 + 0.001 * flags["--image-dim"] + (0.05 if stage == "train_tc" and flags["--env"].endswith("Seq-v0") else 0)
        os.makedirs(self.model_dir(run), exist_ok=True)
        with open(os.path.join(self.model_dir(run), "log.csv"), "w") as f:
            f.write(f"update,validation_success_rate\n1,{success}\n2,{success}\n")


def test_a_round_starts_from_the_winner_and_names_each_configuration_once(tmp_path):
    plan = Plan(name="s", image_dim=32)
    sweep = SweepPlan(levels=["BabyAI-GoToSeq-v0", "BabyAI-GoToLocal-v0"],
                      alternatives={"image_dim": [64], "batch_size": [32], "sg_coef": [1.0]})
    pipe = FakePipeline(tmp_path, plan)
    chosen = Sweep(pipe, sweep).run()
    assert (chosen.env, chosen.image_dim, chosen.batch_size) == ("BabyAI-GoToSeq-v0", 64, 64)
    # each name stands for the configuration it was trained with
    for run, args in pipe.trained.items():
        flags = dict(zip(args[::2], args[1::2]))
        assert ("image_dim64" in run) == (flags["--image-dim"] == 64), run
        assert ("batch_size32" in run) == (flags["--batch-size"] == 32), run
        assert ("sg_coef1" in run) == (flags.get("--sg-coef") == 1.0), run
    # level round 4 runs, image_dim +2, batch_size +2 (from image_dim=64: no second base), sg_coef +1
    assert sorted(pipe.trained) == sorted([
        "probe_GoToSeq_base_TC", "probe_GoToSeq_base_BC", "probe_GoToLocal_base_TC", "probe_GoToLocal_base_BC",
        "probe_GoToSeq_image_dim64_TC", "probe_GoToSeq_image_dim64_BC",
        "probe_GoToSeq_image_dim64_batch_size32_TC", "probe_GoToSeq_image_dim64_batch_size32_BC",
        "probe_GoToSeq_image_dim64_sg_coef1_TC"])
    table = (tmp_path / "results" / "sweep.md").read_text()
    assert "| BabyAI-GoToSeq-v0 | image_dim=64, batch_size=32 |" in table
    assert table.count("| BabyAI-GoToSeq-v0 | image_dim=64 |") == 1


class ThoughtPipeline(FakePipeline):
    """As FakePipeline, and TC's own thoughts name the oracle's object most often on GoToLocal."""

    def script(self, stage, *args, log):
        super().script(stage, *args, log=log)
        flags = dict(zip(args[::2], args[1::2]))
        obj = 0.95 if flags["--env"] == "BabyAI-GoToLocal-v0" else 0.2
        with open(os.path.join(self.model_dir(flags["--model"]), "log.csv"), "w") as f:
            f.write(f"update,validation_success_rate,validation_right_object\n1,0.5,{obj}\n2,0.1,{obj}\n")


def test_the_thoughts_criterion_chooses_where_thoughts_name_the_oracle_object_with_tc_probes_only(tmp_path):
    plan = Plan(name="s", image_dim=32)
    sweep = SweepPlan(levels=["BabyAI-GoToSeq-v0", "BabyAI-GoToLocal-v0"], alternatives={}, criterion="thoughts")
    pipe = ThoughtPipeline(tmp_path, plan)
    chosen = Sweep(pipe, sweep).run()
    assert chosen.env == "BabyAI-GoToLocal-v0"
    assert sorted(pipe.trained) == ["probe_GoToLocal_base_TC", "probe_GoToSeq_base_TC"]  # no BC, no settings round
    table = (tmp_path / "results" / "sweep.md").read_text()
    assert "| BabyAI-GoToLocal-v0 | base | 32 | 64 | 3 | 2 |  | 30.0 |  |  | 95.0 |" in table


def test_study_variants_train_with_their_own_flags_and_are_evaluated_as_thinking_agents(tmp_path, monkeypatch):
    """--variants aux sampling=P: each variant is a TC method of its own, with its flag only on its own runs,
    and its thoughts are evaluated like TC's (FADS, Precrime, steering, the zero-shot suite with oracle thoughts)."""
    import pytest

    from babyai.study.pipeline import Pipeline, train_flags, variant_method

    plan = Plan(name="v", seeds=[1], variants=["aux", "sampling=0.5"], history_sampling_steps=40)
    methods = plan.methods()
    assert list(methods) == ["TC", "BC", "TC w/o thought", "TC aux-only", "TC + history sampling 0.5"]
    flags = {m: train_flags(plan, spec, 1, "run", "demos") for m, spec in methods.items()}
    assert flags["TC aux-only"][-1] == "--thought-aux-only"
    assert flags["TC + history sampling 0.5"][-4:] == ["--thought-history-sampling", 0.5, "--history-sampling-steps", 40]
    assert flags["TC"] == flags["TC aux-only"][:-1] == flags["TC + history sampling 0.5"][:-4]
    pipeline = Pipeline(plan, str(tmp_path), str(tmp_path / "results"))
    stages = []
    monkeypatch.setattr(pipeline, "script", lambda stage, *args, log: stages.append((stage, args)))
    for method in methods:
        stages.clear()
        pipeline.evaluate((method, 1, f"{methods[method].tag}_seed1"))
        assert ({s for s, _ in stages} >= {"evaluate_fads", "evaluate_precrime", "evaluate_steering"}) == \
            (method in ("TC", "TC aux-only", "TC + history sampling 0.5"))
    for bad, message in (("dagger", "unknown study variant"), ("aux=1", "unknown study variant"),
                         ("noise", "unknown study variant"), ("sampling=2", "P must lie in"), ("noise=x", "P must lie in")):
        with pytest.raises(ValueError, match=message):
            variant_method(bad)
