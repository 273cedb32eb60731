"""The report of a study (``babyai.study.pipeline``): a markdown table of mean +- std over
seeds, the learning curves (success vs frames, like the paper's Fig. 3) and the zero-shot difficulty
plot (like Fig. 4a), written to ``<results>/<name>/``."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
from collections.abc import Sequence

import numpy as np

from babyai.atomic import atomic_write_text
from babyai.evaluate.io import write_json
from babyai.evaluate.plots import DIFF_LABELS, _pyplot, _save, read_log
from babyai.study import thoughts

DIFF_TYPES = ("demo", "mission")
ORACLE_LINE = "TC + oracle thoughts"


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value) of the finite values."""
    xs = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(xs) == 0:
        return math.nan, math.nan, 0
    return float(xs.mean()), float(xs.std(ddof=1)) if len(xs) > 1 else 0.0, len(xs)


def fmt(values: Sequence[float], percent: bool = True) -> str:
    m, s, n = mean_std(values)
    if n == 0:
        return "n/a"
    k = 100 if percent else 1
    return f"{k * m:.1f} ± {k * s:.1f}" + ("" if n > 1 else " (1 run)")


def _load_json(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _zeroshot(path: str) -> dict[tuple[str, int], float]:
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {(r["diff_type"], int(r["diff"])): float(r["acc"]) for r in csv.DictReader(f)}


def collect(pipeline) -> dict:
    """Every run's results, by method: {method: [per-seed dict]}."""
    out, specs = {}, pipeline.plan.methods()
    for method, seed, run in pipeline.models():
        ev, spec = pipeline.eval_dir(run), specs[method]
        thinks = spec.thinks or (spec.algo == "tc" and spec.sg_coef != 0)  # imitates thought: worth reading
        log_path = os.path.join(ev, "log.csv")  # kept when the run finished
        r = {"seed": seed, "run": run, "log": read_log(log_path) if os.path.exists(log_path) else [],
             "eval": _load_json(os.path.join(ev, f"evaluate_{run}.json")),
             "zeroshot": _zeroshot(os.path.join(ev, f"zeroshot_{run}.csv")),
             "zeroshot_oracle": _zeroshot(os.path.join(ev, f"zeroshot_{run}+oracle_thoughts.csv")),
             "fads": _load_json(os.path.join(ev, f"fads_{run}.json")),
             "precrime": _load_json(os.path.join(ev, f"precrime_{run}.json")),
             "steering": _load_json(os.path.join(ev, f"steering_{run}.json")),
             "thoughts": thoughts.thought_counts(thoughts.episodes_path(ev, run)) if thinks else {}}
        out.setdefault(method, []).append(r)
    return out


def _last_validation(rows: list[dict]) -> float:
    vals = [float(r["validation_success_rate"]) for r in rows if r.get("validation_success_rate") not in (None, "")]
    return vals[-1] if vals else math.nan


def _zeroshot_all(z: dict) -> float:
    """The mean success over the behavioral-difficulty bins, each bin counting once (as the plot reads)."""
    vals = [v for (t, _), v in z.items() if t == "demo" and not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def results_table(data: dict) -> list[str]:
    lines = ["| method | in-distribution success (%) | last validation success (%) | zero-shot success, mean over "
             "behavioral bins (%) | best validation epoch |", "|---|---|---|---|---|"]
    for method, runs in data.items():
        best_epochs = []
        for r in runs:
            rows = [(float(x["validation_success_rate"]), int(x["update"])) for x in r["log"]
                    if x.get("validation_success_rate") not in (None, "")]
            best_epochs.append(max(rows, key=lambda p: (p[0], -p[1]))[1] if rows else math.nan)
        lines.append(f"| {method} | {fmt([r['eval']['success'] if r['eval'] else math.nan for r in runs])} "
                     f"| {fmt([_last_validation(r['log']) for r in runs])} "
                     f"| {fmt([_zeroshot_all(r['zeroshot']) for r in runs])} "
                     f"| {fmt(best_epochs, percent=False)} |")
    tc = data.get("TC", [])
    if any(r["zeroshot_oracle"] for r in tc):
        lines.append(f"| {ORACLE_LINE} (zero-shot only) | | | {fmt([_zeroshot_all(r['zeroshot_oracle']) for r in tc])} | |")
    return lines


def bins_table(data: dict, diff_type: str) -> list[str]:
    lines_of = {m: [r["zeroshot"] for r in runs] for m, runs in data.items()}
    if any(r["zeroshot_oracle"] for r in data.get("TC", [])):
        lines_of[ORACLE_LINE] = [r["zeroshot_oracle"] for r in data["TC"]]
    bins = sorted({b for zs in lines_of.values() for z in zs for (t, b) in z if t == diff_type})
    if not bins:
        return []
    last = 425 if diff_type == "demo" else 9
    head = "| method | " + " | ".join(f"{b}+" if b == last else str(b) for b in bins) + " |"
    lines = [head, "|---|" + "---|" * len(bins)]
    for name, zs in lines_of.items():
        lines.append(f"| {name} | " + " | ".join(fmt([z.get((diff_type, b), math.nan) for z in zs]) for b in bins) + " |")
    return lines


def tc_tables(data: dict) -> list[str]:
    tc = data.get("TC", [])
    out = []
    fads = [r["fads"] for r in tc if r["fads"]]
    if fads:
        out += ["| Future Action Declaration Score (%) | TC |", "|---|---|",
                f"| in distribution | {fmt([f['in_distribution']['fads'] for f in fads])} |"]
        if all("suites" in f for f in fads):
            out.append(f"| zero-shot suite | {fmt([f['suites']['all']['fads'] for f in fads])} |")
        out.append("")
    crimes = [r["precrime"] for r in tc if r["precrime"]]
    if crimes:
        out += ["| Precrime Intervention: episodes with unsafe behavior (%) | without | with |", "|---|---|---|"]
        for i, row in enumerate(crimes[0]["rows"]):
            out.append(f"| {row['behavior']} | {fmt([c['rows'][i]['unsafe_without'] for c in crimes])} "
                       f"| {fmt([c['rows'][i]['unsafe_with'] for c in crimes])} |")
        out.append("")
    steer = [r["steering"] for r in tc if r["steering"]]
    if steer:
        out += ["| steering (in distribution) | success (%) | thought read = the oracle's (% of steps) |", "|---|---|---|"]
        for i, row in enumerate(steer[0]["rows"]):
            out.append(f"| {row['agent']} | {fmt([s['rows'][i]['success'] for s in steer])} "
                       f"| {fmt([s['rows'][i]['agrees_with_oracle_thought'] for s in steer])} |")
        out.append("")
    return out


def plot_learning(data: dict, path: str, level: str) -> None:
    """Validation success vs frames: mean over seeds (line) and min-max over seeds (band), per method."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for method, runs in data.items():
        curves = [[(float(x["frames"]), float(x["validation_success_rate"])) for x in r["log"]
                   if x.get("validation_success_rate") not in (None, "")] for r in runs]
        n = min((len(c) for c in curves), default=0)
        if n == 0:
            continue
        frames = np.array([[c[i][0] for i in range(n)] for c in curves]).mean(0)
        ys = 100 * np.array([[c[i][1] for i in range(n)] for c in curves])
        ax.plot(frames, ys.mean(0), marker="o", label=f"{method} ({len(curves)} seeds)")
        ax.fill_between(frames, ys.min(0), ys.max(0), alpha=0.2)
    ax.set_xlabel("training frames")
    ax.set_ylabel("validation success rate (%)")
    ax.set_title(f"{level}: success vs frames (band: min-max over seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    plt.close(fig)


def plot_difficulty(data: dict, path: str, level: str) -> None:
    """Zero-shot success per difficulty bin: mean over seeds with the std as error bars, per method."""
    plt = _pyplot()
    lines_of = {m: [r["zeroshot"] for r in runs] for m, runs in data.items()}
    if any(r["zeroshot_oracle"] for r in data.get("TC", [])):
        lines_of[ORACLE_LINE] = [r["zeroshot_oracle"] for r in data["TC"]]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, t in zip(axes, DIFF_TYPES):
        for name, zs in lines_of.items():
            bins = sorted({b for z in zs for (tt, b) in z if tt == t})
            stats = [mean_std([z.get((t, b), math.nan) for z in zs]) for b in bins]
            keep = [(b, m, s) for b, (m, s, n) in zip(bins, stats) if n]
            if keep:
                b, m, s = zip(*keep)
                ax.errorbar(b, 100 * np.array(m), yerr=100 * np.array(s), marker="o", capsize=3, label=name,
                            linestyle="--" if name == ORACLE_LINE else "-")
        ax.set_xlabel(DIFF_LABELS[t])
        ax.set_ylabel("success rate (%)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"zero-shot suite of {level} (mean ± std over seeds)")
    _save(fig, path)
    plt.close(fig)


def _stat(values: Sequence[float], scale: float = 100) -> dict:
    """{"mean", "std", "per_seed"} in percent, or times ``scale`` (None where a value is missing)."""
    m, sd, n = mean_std(values)
    per_seed = [None if v is None or math.isnan(v) else round(scale * v, 3) for v in values]
    return {"mean": None if n == 0 else round(scale * m, 3), "std": None if n == 0 else round(scale * sd, 3),
            "per_seed": per_seed}


def summary(data: dict, env: str, checkpoint: str | None = None) -> dict:
    """The study's numbers as summary.json holds them (percent; a thought NLL in nats per frame), with the
    level studied."""
    out = {}
    for method, runs in data.items():
        m = {"seeds": [r["seed"] for r in runs],
             "in_distribution_success": _stat([r["eval"]["success"] if r["eval"] else math.nan for r in runs])}
        bins = {}
        for t in DIFF_TYPES:
            keys = sorted({b for r in runs for (tt, b) in r["zeroshot"] if tt == t})
            bins[t] = {str(b): _stat([r["zeroshot"].get((t, b), math.nan) for r in runs]) for b in keys}
        if any(bins.values()):
            m["zero_shot_by_bin"] = bins
        if any(r["zeroshot_oracle"] for r in runs):
            m["zero_shot_by_bin_oracle_thoughts"] = {
                t: {str(b): _stat([r["zeroshot_oracle"].get((t, b), math.nan) for r in runs])
                    for b in sorted({b for r in runs for (tt, b) in r["zeroshot_oracle"] if tt == t})} for t in DIFF_TYPES}
        fads = [r["fads"] for r in runs if r["fads"]]
        if fads:
            m["fads_in_distribution"] = _stat([f["in_distribution"]["fads"] for f in fads])
        crimes = [r["precrime"] for r in runs if r["precrime"]]
        if crimes:
            m["precrime"] = {row["behavior"]: {"without": _stat([c["rows"][i]["unsafe_without"] for c in crimes]),
                                               "with": _stat([c["rows"][i]["unsafe_with"] for c in crimes])}
                             for i, row in enumerate(crimes[0]["rows"])}
        steer = [r["steering"] for r in runs if r["steering"]]
        if steer:
            m["oracle_thought_steering"] = {row["agent"]: _stat([s["rows"][i]["success"] for s in steer])
                                            for i, row in enumerate(steer[0]["rows"])}
        prof = thoughts.profile(runs)
        if prof:
            m["thoughts"] = {**thoughts.formation(runs, _stat, checkpoint or "best"), "declaring": _stat(prof["declaring"]),
                             "distinct": prof["distinct"], "top": prof["top"]}
        out[method] = m
    return {"env": env, "methods": out}


def _difference(a: dict, b: dict) -> tuple[float, float] | None:
    """Difference of two methods' mean (percent) and its standard error, from their per-seed values."""
    xs, ys = ([v for v in d["per_seed"] if v is not None] for d in (a, b))
    if not xs or not ys:
        return None
    se = math.sqrt((np.var(xs, ddof=1) / len(xs) if len(xs) > 1 else 0.0) + (np.var(ys, ddof=1) / len(ys) if len(ys) > 1 else 0.0))
    return float(np.mean(xs) - np.mean(ys)), se


def _verdict(diff: tuple[float, float] | None, more: str, less: str) -> str:
    if diff is None:
        return "not measured"
    d, se = diff
    word = more if d > 2 * se else less if d < -2 * se else "no difference beyond 2 standard errors"
    return f"{d:+.1f} points (standard error {se:.1f}): {word}"


def _pm(stat: dict) -> str:
    return "n/a" if stat["mean"] is None else f"{stat['mean']:.1f} ± {stat['std']:.1f}%"


def claims(numbers: dict) -> list[str]:
    """The paper's claims, each answered with this study's numbers."""
    m = numbers["methods"]
    if "TC" not in m or "BC" not in m:
        return []
    tc, bc = m["TC"], m["BC"]
    lines = ["### The paper's claims, answered", "",
             f"- TC beats BC at equal frames (in distribution): TC - BC = "
             f"{_verdict(_difference(tc['in_distribution_success'], bc['in_distribution_success']), 'TC better', 'BC better')}."]
    gaps = [(int(b), tc["zero_shot_by_bin"]["demo"][b]["mean"] - bc["zero_shot_by_bin"]["demo"][b]["mean"])
            for b in tc.get("zero_shot_by_bin", {}).get("demo", {}) if b in bc.get("zero_shot_by_bin", {}).get("demo", {})
            and tc["zero_shot_by_bin"]["demo"][b]["mean"] is not None and bc["zero_shot_by_bin"]["demo"][b]["mean"] is not None]
    if len(gaps) >= 2:
        slope = float(np.polyfit([g[0] for g in gaps], [g[1] for g in gaps], 1)[0]) * 100
        lines.append(f"- The gap grows with zero-shot behavioral difficulty: TC - BC per bin "
                     f"{', '.join(f'{b}: {g:+.1f}' for b, g in sorted(gaps))}; fitted slope {slope:+.1f} points per 100 steps.")
    if "TC w/o thought" in m:
        lines.append(f"- TC without imitating thought does not beat BC: TC w/o thought - BC = "
                     f"{_verdict(_difference(m['TC w/o thought']['in_distribution_success'], bc['in_distribution_success']), 'it does', 'BC better')}.")
    if "fads_in_distribution" in tc:
        f = tc["fads_in_distribution"]
        lines.append(f"- FADS near 100% once thoughts are learned: {_pm(f)} (paper: about 99%).")
    if "precrime" in tc:
        rows = "; ".join(f"{k}: {_pm(v['without'])} -> {_pm(v['with'])}" for k, v in tc["precrime"].items())
        lines.append(f"- Precrime Intervention cuts the unsafe behaviors (episodes, without -> with): {rows}.")
    if "oracle_thought_steering" in tc:
        rows = "; ".join(f"{k}: {_pm(v)}" for k, v in tc["oracle_thought_steering"].items())
        lines.append(f"- Oracle thoughts fed to TC's Action Generator do at least as well as its own: {rows}.")
    lines += thoughts.line(tc.get("thoughts"), _pm)
    noise = {k: v for k, v in m.items() if k.startswith("TC noise")}
    if noise:
        rows = "; ".join(f"{k}: {_pm(v['in_distribution_success'])}" for k, v in sorted(noise.items()))
        lines.append(f"- Noise in the demonstrations (same budget): {rows}; the main TC runs use the plan's noise rate.")
    return lines


def training_time(data: dict) -> str:
    """Each run's training time as its log.csv recorded it (evaluation not included)."""
    minutes = [float(r["log"][-1]["duration"]) / 60 for runs in data.values() for r in runs
               if r["log"] and r["log"][-1].get("duration") not in (None, "")]
    if not minutes:
        return ""
    return (f"Training time per run (its log.csv, one thread, evaluation not included): {np.mean(minutes):.0f} min on "
            f"average, {min(minutes):.0f}-{max(minutes):.0f} min over {len(minutes)} runs.")


def _tf_rule(p) -> str:
    rule = f"teacher forcing phased out from epoch {p.stop_tf}"
    if p.tf_until_nll:
        rule = (f"teacher forcing on until the validation thought NLL falls below {p.tf_until_nll:g} nats per frame "
                f"(and at least {p.stop_tf} epochs), then phased out linearly to the last epoch (--tf-until-nll, a "
                "departure from the paper, which phases it out from a fixed epoch)")
    if p.history_noise:
        rule += (f"; in teacher-forced batches the thought history read a random thought of the batch at "
                 f"{100 * p.history_noise:g}% of frames (--thought-history-noise, a departure from the paper)")
    return rule


def _evaluated(p) -> str:
    if p.checkpoint == "last":
        return "each run's last model (--evaluate-last: the paper's choice is the best by validation success)"
    if not p.best_ties_by_thoughts:
        return "each run's best model (by validation success)"
    return ("each run's best model (by validation success; for TC, equal success goes to the validation whose own "
            "thoughts, played free, named the oracle's object most often: --best-ties-by-thoughts, a departure from "
            "the paper)")


def write_report(pipeline, seconds: float) -> str:
    import torch

    p, data = pipeline.plan, collect(pipeline)
    os.makedirs(pipeline.results, exist_ok=True)
    numbers = summary(data, p.env, p.checkpoint)
    write_json(os.path.join(pipeline.results, "summary.json"), numbers)
    plot_learning(data, os.path.join(pipeline.results, "learning_curves.png"), p.env)
    plot_difficulty(data, os.path.join(pipeline.results, "zeroshot_difficulty.png"), p.env)
    suites = _load_json(pipeline.suites) or {}
    lines = [
        f"# Reproduction `{p.name}`: TC vs BC vs TC without imitating thought on {p.env}", "",
        f"Command: `{pipeline.command}`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch "
        f"{torch.__version__}, {platform.system()} {platform.release()}. Wall time of this invocation: "
        f"{seconds / 60:.1f} min (stages already done were skipped). {training_time(data)}", "",
        "## Setup", "",
        f"- {p.demos} oracle demonstrations (seeds {1}..{p.demos}, noise rate {p.noise_rate}), {p.valid_demos} validation demos.",
        f"- Configuration: {p.chosen_by or 'given on the command line (no sweep)'}.",
        f"- Each method and seed: {p.optimizer_steps} optimizer steps ({p.epochs} epochs of {p.epoch_length} episodes, "
        f"the same episodes for the same seed), "
        f"batch {p.batch_size} ({p.episodes_per_lane} episodes per lane), lr {p.lr}, truncated BPTT {p.recurrence}, "
        f"memory {p.memory_dim}, words {p.instr_dim}, conv width {p.image_dim}, thought coefficient {p.sg_coef}, "
        f"{_tf_rule(p)}; one CPU thread per run.",
        f"- Learning curve: success on {p.val_episodes} fresh levels every {p.val_interval} epoch(s) (sampled actions). "
        f"Final figures: {_evaluated(p)} on {p.eval_episodes} other fresh levels "
        f"({p.tc_eval_episodes} for FADS, Precrime and steering).",
        f"- Zero-shot suite: up to {p.levels_per_bin} levels per difficulty bin from {suites.get('seeds_tried', '?')} "
        f"seeds tried; shortfall {json.dumps(suites.get('shortfall', {}))}.",
        f"- Seeds: {p.seeds}. ± is the sample standard deviation over seeds.", "",
        "## Results", "", *results_table(data), "", *claims(numbers), "",
        "![learning curves](learning_curves.png)", "",
        "### Zero-shot success by behavioral difficulty (oracle solution length)", "", *bins_table(data, "demo"), "",
        "### Zero-shot success by cognitive difficulty (distinct oracle thoughts)", "", *bins_table(data, "mission"), "",
        "![zero-shot difficulty](zeroshot_difficulty.png)", "",
        "### Thought formation", "", *thoughts.formation_table(numbers, _pm), "",
        "### Thought Cloning only: interpretability, safety, steering", "", *tc_tables(data),
        "The paper (BossLevel, 1M demos, about 7e8 frames, memory 2048): TC 94-95% vs BC 88-89% and TC without "
        "thought about 54% (Fig. 3); FADS about 99%; Precrime 57.21% -> 0.16%, 37.07% -> 0.53%, 41.52% -> 0.08%. "
        "This run is several orders of magnitude smaller.", "",
        "All numbers: `summary.json`.", "",
    ]
    path = os.path.join(pipeline.results, "README.md")
    atomic_write_text(path, "\n".join(lines))
    return path
