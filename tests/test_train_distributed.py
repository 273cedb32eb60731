"""Data-parallel training: two CPU processes (gloo) started by torchrun train one model on the global batch."""

import os
import subprocess
import sys

from _train_helpers import LEVEL, make_demos, one_thread  # noqa: F401 (autouse fixture)
from test_train import read_log

from babyai.agent.loading import load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_two_process_cpu_ddp_run(tmp_path):
    storage = tmp_path / "storage"
    make_demos(storage, "tiny", 24, first_seed=0)
    args = ["--env", LEVEL, "--demos", "tiny", "--storage-dir", str(storage), "--memory-dim", "32", "--instr-dim", "32",
            "--batch-size", "8", "--epochs", "2", "--epoch-length", "16", "--recurrence", "3", "--val-episodes", "4",
            "--val-seed", "1000000", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         os.path.join(ROOT, "scripts", "train_tc.py"), *args, "--model", "ddp"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train_tc.py"), *args, "--model", "one"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    ckpt = load_checkpoint(os.path.join(storage, "models", "ddp", "last.pt"))
    assert ckpt["world_size"] == 2 and len(ckpt["rng"]) == 2 and ckpt["progress"]["finished"] == "epochs"
    ddp_log, one_log = read_log(os.path.join(storage, "models", "ddp")), read_log(os.path.join(storage, "models", "one"))
    # the same global batches: the same frames per epoch, and validation over the same levels
    assert [r["frames"] for r in ddp_log] == [r["frames"] for r in one_log]
    assert [r["validation_seed"] for r in ddp_log] == [r["validation_seed"] for r in one_log]
    assert all(0.0 <= float(r["validation_success_rate"]) <= 1.0 for r in ddp_log)


def _gradients(rank, world, init_file, out_file):
    """Gradients of the training loss on this process's share of one global batch, averaged over processes."""
    import numpy as np
    import torch
    import torch.distributed as dist
    from _train_helpers import TINY, synthetic_episode

    from babyai.model import ThoughtCloningAgent
    from babyai.train import distributed
    from babyai.train.data import Tokenizer, make_batch, split_for_rank
    from babyai.train.losses import action_entropy, action_nll, thought_nll
    from babyai.agent.vocab import Vocabulary

    torch.set_num_threads(1)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    d = distributed.Dist(rank, world, rank, torch.device("cpu"))
    rng = np.random.default_rng(0)
    episodes = [synthetic_episode(n, s, rng) for s, n in enumerate([6, 2, 5, 3])]
    lengths = np.array([len(e.actions) for e in episodes])
    mine = split_for_rank(np.arange(4), lengths, rank, world)
    batch = make_batch([episodes[i] for i in mine], Tokenizer(Vocabulary.babyai(), 15))
    torch.manual_seed(0)
    model = ThoughtCloningAgent(TINY).eval()  # no dropout, fixed BatchNorm statistics: a deterministic loss
    scale, memory = world / lengths.sum(), model.initial_memory(int(batch.counts[0]))
    for rows, counts in batch.windows(2):
        out = model(batch.images[rows], counts, batch.mission[: counts[0]], batch.mission_lengths[: counts[0]], memory,
                    batch.thoughts, batch.thought_ids[rows], True)
        logits, targets = out.action_logits, batch.thoughts[batch.thought_ids[rows], 1:]
        loss = (action_nll(logits, batch.actions[rows]) - 0.01 * action_entropy(logits) + 2 * thought_nll(out.thought_logits, targets)) * scale
        loss.backward()
        memory = tuple(m.detach() for m in out.memory)
    distributed.average_gradients(d, model)
    if rank == 0:
        torch.save({n: p.grad for n, p in model.named_parameters()}, out_file)
    if world > 1:
        dist.destroy_process_group()


def test_two_processes_compute_the_gradient_of_the_global_batch(tmp_path):
    import torch
    import torch.multiprocessing as mp

    _gradients(0, 1, None, str(tmp_path / "one.pt"))
    mp.spawn(_gradients, args=(2, str(tmp_path / "init"), str(tmp_path / "two.pt")), nprocs=2)
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    two = torch.load(tmp_path / "two.pt", weights_only=True)
    for name in one:
        torch.testing.assert_close(two[name], one[name], atol=1e-6, rtol=1e-4, msg=name)
