# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a final render's frames go: Blender's Render Result (`RenderResultSink`, with the
engine's progress and reports as `EngineStatus`), or numpy arrays (`ArrayResult`: scripts,
tests, the video export). Both are frame sinks (optica_core.sinks.base): a progressive frame
(`final=False`, Combined only) refreshes the visible result; the final frame carries every
requested pass.

Also which part of the frame Blender's Render Result covers (`frame_region`, `apply_frame`):
the resolution percentage and the render border, as Blender computes them.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from . import passes as render_passes

log = logging.getLogger(__name__)


def frame_region(render) -> tuple[int, int, int, int, int, int]:
    """(width, height, x, y, w, h): the frame after resolution percentage and the part of it
    Blender's render result covers (render border), x/y from the top-left corner.

    Blender truncates border × size computed in float32 (`re_init_resolution`); so do we, or a
    one-pixel difference makes the film and the render result disagree.
    """
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    if not render.use_border:
        return width, height, 0, 0, width, height
    f32 = np.float32
    xmin = int(f32(render.border_min_x) * f32(width))
    xmax = int(f32(render.border_max_x) * f32(width))
    ymin = int(f32(render.border_min_y) * f32(height))  # from the bottom
    ymax = int(f32(render.border_max_y) * f32(height))
    return width, height, xmin, height - ymax, xmax - xmin, ymax - ymin


def apply_frame(d: dict, render) -> dict:
    """Sets the scene dict's frame size and region to what Blender's render result expects."""
    width, height, x, y, w, h = frame_region(render)
    if w < 1 or h < 1:
        raise ValueError(f"the render region is empty ({w}×{h} pixels)")
    r: dict[str, Any] = d.setdefault("render", {})
    want: dict[str, Any] = {"width": width, "height": height, "region": [x, y, w, h]}
    for key, value in want.items():
        have = r.get(key)
        if have is not None and list(np.atleast_1d(have)) != list(np.atleast_1d(value)):
            log.warning("render.%s: exporter wrote %r, Blender renders %r", key, have, value)
        r[key] = value
    return d


class EngineStatus:
    """Progress, statistics and reports of a render, through the RenderEngine."""

    def __init__(self, engine):
        self.engine = engine

    def progress(self, fraction: float, info: str) -> None:
        self.engine.update_progress(min(1.0, max(0.0, fraction)))
        self.engine.update_stats("", info)

    def message(self, level: str, text: str) -> None:
        self.engine.report({level}, text)


class RenderResultSink:
    """Blender's render result of one view layer as a frame sink: the first frame begins the
    result (its coordinates are relative to the rendered region, from its bottom-left corner),
    progressive frames refresh Combined, the final frame writes every pass and ends it."""

    bottom_up = True  # images laid out bottom row first in memory are written without a copy

    def __init__(self, engine, view_layer):
        self.engine = engine
        self.layer_name = view_layer.name
        self._result = None

    def _begin(self, width: int, height: int) -> None:
        result = self.engine.begin_result(0, 0, width, height, layer=self.layer_name)
        if (result.resolution_x, result.resolution_y) != (width, height):
            self.engine.end_result(result, cancel=True)
            raise RuntimeError(
                f"Blender's render result is {result.resolution_x}×{result.resolution_y} "
                f"pixels, the film {width}×{height}"
            )
        self._result = result

    def _write_pass(self, name: str, image: np.ndarray) -> None:
        rows = render_passes.blender_rows(image)
        for rp in self._result.layers[0].passes:  # one per view (stereo: the same image)
            if rp.name == name:
                rp.rect = rows

    def write(self, frame) -> None:
        if self._result is None:
            self._begin(*frame.size)
        self._write_pass(render_passes.COMBINED.name, frame.pixels)
        if not frame.final:
            self.engine.update_result(self._result)
            return
        for name, image in frame.passes.items():
            self._write_pass(name, image)
        self.engine.end_result(self._result)
        self._result = None

    def close(self) -> None:
        if self._result is not None:
            self.engine.end_result(self._result)
            self._result = None

    def abort(self) -> None:
        if self._result is not None:
            self.engine.end_result(self._result, cancel=True)
            self._result = None


class ArrayResult:
    """A final render as numpy arrays, both its sink and its status: `images[pass name]` is
    (h, w, channels) float32, top row first; `frame` the final frame; `messages` the reports
    ((level, text)); `progress_info` the latest progress text; `updates` progressive frames."""

    def __init__(self):
        self.images: dict[str, np.ndarray] = {}
        self.frame = None
        self.messages: list[tuple[str, str]] = []
        self.updates = 0
        self.progress_info = ""

    def write(self, frame) -> None:
        self.images[render_passes.COMBINED.name] = frame.pixels
        if not frame.final:
            self.updates += 1
            return
        self.images.update(frame.passes)
        self.frame = frame

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def progress(self, fraction: float, info: str) -> None:
        self.progress_info = info

    def message(self, level: str, text: str) -> None:
        self.messages.append((level, text))
