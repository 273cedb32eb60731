"""Human-readable and JSON views of episodes."""

from __future__ import annotations

from minigrid.core.actions import Actions

from babyai.demos.format import Episode, thought_runs


def episode_lines(ep: Episode) -> list:
    """``t=a-b: Thought "...", Action [...]`` lines, one per run of the same thought (1-based t)."""
    lines = []
    runs = thought_runs(ep.thoughts)
    for k, (start, sentence) in enumerate(runs):
        end = runs[k + 1][0] if k + 1 < len(runs) else len(ep)
        steps = f"t={start + 1}" if end - start == 1 else f"t={start + 1}-{end}"
        actions = ", ".join(Actions(a).name for a in ep.actions[start:end])
        noisy = " (noise)" if ep.noise[start:end].any() else ""
        lines.append(f'{steps}: Thought "{sentence}", Action [{actions}]{noisy}')
    return lines


def format_episode(ep: Episode, index: int | None = None) -> str:
    head = f"=============== Episode {'' if index is None else index} ==============="
    status = "success" if ep.success else "failure"
    info = (f"level: {ep.level}  seed: {ep.seed}  seeding: {ep.seeding}"
            + (f"  reset: {ep.reset_index}" if ep.reset_index else "")
            + f"  steps: {len(ep)}  {status}")
    return "\n".join([head, info, f"mission: {ep.mission}", *episode_lines(ep)])


def episode_json(ep: Episode, index: int | None = None) -> dict:
    """A JSON-able dict of the episode (images left out)."""
    out = {} if index is None else {"index": index}
    out.update(level=ep.level, seed=int(ep.seed), seeding=ep.seeding,
               reset_index=int(ep.reset_index), mission=ep.mission,
               directions=ep.directions.tolist(), actions=ep.actions.tolist(),
               thoughts=list(ep.thoughts), noise=ep.noise.astype(int).tolist(),
               success=bool(ep.success), generator=ep.generator)
    if ep.teaching is not None:  # a teaching session's episode (babyai.teach): per-step flags and proposals
        out.update(ep.teaching)
    return out
