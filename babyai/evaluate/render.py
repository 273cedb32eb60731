"""Pictures of episodes: each rendered state with the mission and the thoughts written under it,
saved as an animated GIF (Pillow) or an MP4 (imageio with its ffmpeg plugin)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence

import numpy as np

from minigrid.core.actions import Actions

from babyai.atomic import atomic_path
BACKGROUND, TEXT, AGENT, ORACLE = (255, 255, 255), (0, 0, 0), (20, 60, 200), (0, 130, 60)


class MissingDependency(ImportError):
    """An optional package (Pillow, matplotlib, imageio) that a script needs."""


def require(module: str, extra: str = "plots"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"PIL": "pillow", "imageio": "imageio", "matplotlib": "matplotlib"}.get(module.split(".")[0], module)
        raise MissingDependency(f"this needs the package {package}: pip install {package} "
                                f"(or pip install -e '.[{extra}]')") from None


def caption(frame: np.ndarray, lines: Sequence[tuple[str, tuple]], font_size: int = 14, min_width: int = 480) -> np.ndarray:
    """``frame`` (H, W, 3), enlarged by a whole factor (each pixel repeated) to at least ``min_width`` wide, with
    a thin white band below holding ``lines`` of (text, colour), wrapped to its width: the grid is the picture."""
    image_mod, draw_mod, font_mod = require("PIL.Image"), require("PIL.ImageDraw"), require("PIL.ImageFont")
    try:
        font = font_mod.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1
        font = font_mod.load_default()
    scale = max(1, -(-min_width // frame.shape[1]))
    frame = np.repeat(np.repeat(np.ascontiguousarray(frame, dtype=np.uint8), scale, 0), scale, 1)
    h, w = frame.shape[:2]
    chars = max(20, int(w / (0.6 * font_size)))
    wrapped = [(part, color) for text, color in lines for part in (textwrap.wrap(text, chars) or [""])]
    line_h = font_size + 4
    band = 6 + line_h * len(wrapped)
    canvas = image_mod.new("RGB", (w, h + band), BACKGROUND)
    canvas.paste(image_mod.fromarray(frame), (0, 0))
    draw = draw_mod.Draw(canvas)
    for k, (text, color) in enumerate(wrapped):
        draw.text((4, h + 3 + k * line_h), text, fill=color, font=font)
    return np.asarray(canvas)


def episode_frames(record, show_oracle: bool = False, font_size: int = 14) -> list[np.ndarray]:
    """One captioned picture per state of an evaluated episode (needs ``record.frames``)."""
    if not record.frames:
        raise ValueError("the episode has no rendered frames (evaluate it with tile_size > 0)")
    out = []
    for t, frame in enumerate(record.frames):
        lines = [(f"mission: {record.mission}", TEXT)]
        if t < len(record.actions):
            injected = " (injected)" if t in record.injected else ""
            lines.append((f"step {t}: {Actions(record.actions[t]).name}", TEXT))
            lines.append((f"agent thinks{injected}: {record.thoughts[t] or '-'}", AGENT))
            if show_oracle and record.oracle_thoughts is not None:
                lines.append((f"oracle thinks: {record.oracle_thoughts[t] or '-'}", ORACLE))
        else:
            end = "halted (precrime)" if record.halted else ("success" if record.success else "failure")
            lines.append((f"step {t}: end of episode, {end}", TEXT))
            if record.halted:
                lines.append((f"agent thinks: {record.halt_thought}", AGENT))
            elif show_oracle:
                lines.append(("", ORACLE))
            lines.append(("", AGENT))
        out.append(caption(frame, lines, font_size))
    height = max(f.shape[0] for f in out)  # same size for every frame of the animation
    return [np.pad(f, ((0, height - f.shape[0]), (0, 0), (0, 0)), constant_values=255) for f in out]


def write_animation(frames: Sequence[np.ndarray], path: str, fps: float = 2.0) -> None:
    """Save frames as .gif (Pillow) or .mp4 (imageio + imageio-ffmpeg), via a temporary file."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".gif", ".mp4"):
        raise ValueError(f"cannot write {path}: the output must end in .gif or .mp4")
    with atomic_path(path) as tmp:
        if ext == ".gif":
            image_mod = require("PIL.Image")
            images = [image_mod.fromarray(f) for f in frames]
            images[0].save(tmp, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
        else:
            imageio = require("imageio")
            try:
                with imageio.get_writer(tmp, fps=fps, macro_block_size=1) as writer:
                    for f in frames:
                        writer.append_data(f)
            except (ImportError, RuntimeError, ValueError) as e:
                raise MissingDependency(f"writing MP4 needs imageio's ffmpeg plugin (pip install imageio-ffmpeg): "
                                        f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
