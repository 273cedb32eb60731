"""Writing the imitation-from-observation report: README.md (tables), results.json, two plots."""

from __future__ import annotations

import json
import os

import numpy as np

from babyai.observe.constants import AIME_VARIANTS
from babyai.observe.idm import ACTION_NAMES
from babyai.observe.runs import write_json
from babyai.storage import model_dir


def _mean_std(runs: list[dict]) -> tuple[float, float]:
    values = np.array([r["success_rate"] for r in runs], dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _diagnostic(storage: str, name: str, key: str = "diagnostic_action_agreement"):
    """What an AIME or IIDM run logged at its end (by default the action agreement with the true actions), if any."""
    path = os.path.join(model_dir(name, storage), "train.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        info = json.load(f)
    return info.get(key)


def _plots(folder: str, results: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["methods"])
    stats = [_mean_std(results["methods"][k]) for k in names]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(range(len(names)), [m for m, _ in stats], yerr=[s for _, s in stats], capsize=4, color="tab:blue")
    for i, runs in enumerate(results["methods"].values()):
        ax.scatter([i] * len(runs), [r["success_rate"] for r in runs], color="black", s=10, zorder=3)
    ax.set_xticks(range(len(names)), names, rotation=15)
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "success.png"), dpi=120)
    plt.close(fig)

    sizes = sorted(int(k) for k in results["idm"])
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(sizes, [results["idm"][k]["accuracy"] for k in sizes], "o-", label="IDM accuracy on the demos' actions")
    bco = results["bco_vs_embodiment"]
    done = [k for k in sizes if k in bco]
    ax.plot(done, [bco[k]["success_rate"] for k in done], "s-", label="BCO success (first seed)")
    ax.set_xscale("log")
    ax.set_xlabel("random embodiment episodes")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "embodiment.png"), dpi=120)
    plt.close(fig)
    return ["success.png", "embodiment.png"]


def write_report(cfg, results: dict, settings: dict) -> str:
    folder = os.path.join(cfg.out, cfg.name)
    os.makedirs(folder, exist_ok=True)
    results = json.loads(json.dumps(results))  # int keys -> str, as in results.json
    results["idm"] = {int(k): v for k, v in results["idm"].items()}
    results["bco_vs_embodiment"] = {int(k): v for k, v in results["bco_vs_embodiment"].items()}
    write_json(os.path.join(folder, "results.json"), {"settings": settings, **results})
    plots = _plots(folder, results)
    n = max(cfg.embodiment)
    idm = results["idm"][n]
    lines = [
        f"# Imitation from observation on {cfg.level}",
        "",
        "Made by (from the repository root; finished runs are kept, so the same command resumes):",
        "",
        f"    {cfg.command}",
        "",
        f"{cfg.demos} oracle demonstrations (seeds from {cfg.demo_seed}; their actions are used by BC only), "
        f"{n} episodes of a uniformly random policy as embodiment data (seeds from 0), "
        f"{len(cfg.seeds)} training seeds per method, success on the same {cfg.eval_episodes} levels "
        f"(seeds from {cfg.eval_seed}, actions sampled). BC, BCO and TC from observation: "
        f"the project's agents (memory {cfg.memory_dim}, words {cfg.instr_dim}), {cfg.epochs} epochs, batch "
        f"{cfg.batch_size}, lr 1e-3. One CPU thread per run on a shared 2-core machine.",
        "",
        *(["**Partial report**: written with `--only-finished` from the runs finished so far; the methods and "
           "seeds missing below were not run (the command above runs them).", ""] if cfg.only_finished else []),
        "## Success",
        "",
        "| method | success (mean ± std over seeds) | per seed | CPU seconds per run | wall seconds per run |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results["methods"].items():
        mean, std = _mean_std(runs)
        per = ", ".join(f"{r['success_rate']:.3f}" for r in runs)
        lines.append(f"| {name} | {mean:.3f} ± {std:.3f} | {per} | {_seconds(runs, 'cpu_seconds')} | "
                     f"{_seconds(runs, 'seconds')} |")
    wm = results.get("world_model") or {}
    lines += [
        "",
        f"The world model (trained once, shared by the AIME runs) took {_seconds([wm], 'cpu_seconds')} CPU s "
        f"({_seconds([wm], 'seconds')} s wall); the IIDM runs include their forward model. The IDM used by BCO and "
        f"TC from observation took {_seconds([idm], 'cpu_seconds')} CPU s ({_seconds([idm], 'seconds')} s wall). "
        "Each run is one thread of this one process, so its CPU seconds are the machine time it took; wall "
        "seconds on a busy shared machine are longer and only comparable with each other.",
        "",
        f"![success]({plots[0]})",
        "",
        "## The inverse dynamics model",
        "",
        "| random embodiment episodes | IDM accuracy on the demos' true actions | on their unambiguous transitions "
        "| BCO success (seed " + str(cfg.seeds[0]) + ") |",
        "|---|---|---|---|",
    ]
    for k in sorted(results["idm"]):
        r = results["idm"][k]
        changed = r["accuracy_changed"]
        bco = results["bco_vs_embodiment"].get(k)
        lines.append(f"| {k} | {r['accuracy']:.3f} | {changed:.3f} | {_fmt(bco and bco['success_rate'])} |")
    held = idm["held_out_embodiment"]
    lines += [
        "",
        f"![embodiment]({plots[1]})",
        "",
        f"Per action, with {n} embodiment episodes (accuracy on the demos | share of the action's transitions that "
        "change nothing, in held-out random play):",
        "",
        "| action | demos: count | demos: accuracy | random play: unchanged share | random play: accuracy |",
        "|---|---|---|---|---|",
    ]
    for a in ACTION_NAMES:
        d, h = idm["per_action"][a], held["per_action"][a]
        fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
        lines.append(f"| {a} | {d['count']} | {fmt(d['accuracy'])} | {fmt(h['unchanged_share'])} | "
                     f"{fmt(h['accuracy'])} |")
    lines += [
        "",
        f"**Ambiguous transitions.** A transition whose next observation equals the current one (same view, same "
        f"direction) is explained equally by every action that can do nothing: forward into a wall or object, "
        f"pickup or toggle on nothing, drop with empty hands or a full front cell, and done (which never changes "
        f"anything). They are {held['ambiguous_share']:.1%} of the held-out random transitions (IDM accuracy "
        f"there {held['accuracy_ambiguous']:.1%}, against {held['accuracy_changed']:.1%} on the others) and "
        f"{idm['ambiguous_share']:.1%} of the oracle's. The carried object is drawn in the agent's own cell of "
        f"the view, so pickups and drops are visible. **Unobservable steps**: the datasets hold the observation "
        f"before each action and none after the last, so the last action of each demonstration "
        f"({idm['unobservable_last_steps']} of {idm['unobservable_last_steps'] + idm['transitions']} steps here) "
        f"cannot be inferred; BCO, TC from observation, IIDM and AIME learn from the first T-1 steps of each "
        f"demonstration, BC from all T.",
        "",
        "## World model, AIME and IIDM",
        "",
        f"World model (RSSM, {cfg.wm_updates} updates with KL balancing and free nats, held-out embodiment "
        f"episodes, per frame): log-likelihood {_fmt(wm.get('held_out_log_likelihood'))} nats, KL "
        f"{_fmt(wm.get('held_out_kl'))} nats. AIME: {cfg.aime_updates} policy updates on the frozen model. IIDM: "
        f"{cfg.iidm_model_epochs} forward-model epoch(s), {cfg.iidm_policy_epochs} policy epochs.",
        "",
        "Diagnostic only (training never reads the demonstrations' actions): the share of the demonstrations' "
        "true actions that the trained policy's most likely action matches:",
        "",
    ]
    for s in cfg.seeds:
        runs = [*((method, tag) for method, tag, _ in AIME_VARIANTS), ("IIDM", "iidm")]
        lines.append(f"- seed {s}: " + ", ".join(
            f"{method} {_fmt(_diagnostic(cfg.storage, f'{cfg.name}_{tag}_seed{s}'))}" for method, tag in runs))
    lines += ["", *_evidence_lines(wm.get("demos_action_evidence"), cfg)]
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(folder, "command.txt"), "w") as f:
        f.write(cfg.command + "\n")
    return os.path.join(folder, "README.md")


def _seconds(runs: list[dict], key: str) -> str:
    """Mean of ``key`` over the runs that recorded it ('-' if none did: runs made before it was recorded)."""
    values = [r[key] for r in runs if r and key in r]
    return f"{np.mean(values):.0f}" if values else "-"


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _evidence_lines(evidence: dict | None, cfg) -> list[str]:
    """What AIME can learn from its world model: the action with the most one-step evidence on the demos, and
    the actions AIME's policies chose."""
    if not evidence:
        return []
    per = ", ".join(f"{ACTION_NAMES[int(a)]} {v['accuracy']:.0%} of {v['count']}" for a, v in evidence["per_action"].items())
    lines = [f"**What AIME can learn from this world model** (diagnostic): AIME's policy is trained only through "
             f"differences of evidence between actions, so the world model, used as an inverse dynamics model (for "
             f"each demonstrated transition, the action after which the model's one-step evidence of the next "
             f"frame, log-likelihood minus KL, is highest), bounds what it can imitate. On the demonstrations it "
             f"names the true action for {evidence['accuracy']:.1%} of {evidence['transitions']} transitions "
             f"({per}); mean margin of the true action over the best other {evidence['mean_margin_nats']:+.2f} nats. "
             f"The IDM trained on the same embodiment data: see above.", ""]
    shares = [(f"{method}, seed {s}", _diagnostic(cfg.storage, f"{cfg.name}_{tag}_seed{s}", "action_shares"))
              for method, tag, _ in AIME_VARIANTS for s in cfg.seeds]
    shares = [(k, v) for k, v in shares if v]
    if shares:
        lines += ["The AIME policies' most likely actions on the demonstrations' frames (share of each action):", ""]
        lines += [f"- {k}: " + ", ".join(f"{ACTION_NAMES[a]} {x:.0%}" for a, x in enumerate(v) if x > 0)
                  for k, v in shares]
        lines.append("")
    return lines
