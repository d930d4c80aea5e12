# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering one scene's frames with Optica for an export (bpy, main thread).

    renderer = FrameRenderer(scene)                 # one RenderJob for all of the scene's frames
    frame = renderer.render(7, index=0, view=view)  # an optica_core.sinks Frame, scene-linear

`FrameRenderer` sets the frame and renders the scene's view layer with the final-render session
(addon.final.FinalSession) into an `ArrayResult`, keeping one `RenderJob` (exporter + renderer)
across frames so unchanged meshes are neither re-exported nor rebuilt. No progressive frames are
made (nobody looks at them): the core's image is copied once, into the frame that goes to the
sinks. `render_overrides` sets what a video frame needs (whole frames, a size) and restores it.
"""

from __future__ import annotations

import contextlib
import time

from optica_core.sinks import Frame

from ...addon import final, render_job, render_result


class Cancelled(Exception):
    """The export was stopped by the user (Esc, a cancel request)."""


def render_view_layer(scene):
    """The view layer a video of `scene` shows: the window's one when it belongs to the scene,
    else the first layer enabled for rendering."""
    import bpy

    window_layer = getattr(bpy.context, "view_layer", None)
    if getattr(bpy.context, "scene", None) == scene and window_layer is not None and window_layer.use:
        return window_layer
    for layer in scene.view_layers:
        if layer.use:
            return layer
    raise ValueError(f"scene '{scene.name}' has no view layer enabled for rendering")


@contextlib.contextmanager
def render_overrides(scene, size: tuple[int, int] | None = None, threads: int | None = None):
    """Temporarily makes `scene` render whole frames of `size` (width, height) pixels (None:
    the scene's own size and percentage), with `threads` render threads (None: the scene's).
    Restores every changed setting and the current frame afterwards."""
    r, opt = scene.render, scene.optica
    saved = dict(
        resolution_x=r.resolution_x,
        resolution_y=r.resolution_y,
        resolution_percentage=r.resolution_percentage,
        use_border=r.use_border,
    )
    saved_threads, saved_frame = opt.threads, (scene.frame_current, scene.frame_subframe)
    try:
        r.use_border = False  # a video frame is the whole frame
        if size is not None:
            r.resolution_x, r.resolution_y = size
            r.resolution_percentage = 100
        if threads is not None:
            opt.threads = threads
        yield scene
    finally:
        for key, value in saved.items():
            if getattr(r, key) != value:
                setattr(r, key, value)
        if opt.threads != saved_threads:
            opt.threads = saved_threads
        if (scene.frame_current, scene.frame_subframe) != saved_frame:
            scene.frame_set(saved_frame[0], subframe=saved_frame[1])


class FrameRenderer:
    """Renders frames of one scene with Optica (see the module docstring).

    test_break: callable returning True to stop the frame being rendered (the session answers
    within half a second); render() then raises Cancelled."""

    def __init__(self, scene, test_break=lambda: False):
        self.scene = scene
        self.view_layer = render_view_layer(scene)
        self.job = render_job.RenderJob()
        self.test_break = test_break
        self.messages: list[tuple[str, str]] = []  # (level, text) of the exporter, deduplicated
        self.seconds = 0.0  # time spent rendering (export + sampling)
        self.last_outcome: final.Outcome | None = None

    def render(self, frame: int, index: int = 0, view=None) -> Frame:
        """Frame `frame` of the scene: (h, w, 4) float32 scene-linear pixels, top row first,
        as sink frame `index` to be shown with `view`."""
        t0 = time.perf_counter()
        self.scene.frame_set(frame)  # evaluates the depsgraphs of the scene's view layers
        depsgraph = self.view_layer.depsgraph
        if depsgraph is None:
            raise RuntimeError(f"view layer '{self.view_layer.name}' of '{self.scene.name}' has no depsgraph")
        result = render_result.ArrayResult()
        outcome = final.FinalSession(result, self.test_break, self.job, status=result).render(depsgraph)
        for m in result.messages:
            if m not in self.messages:
                self.messages.append(m)
        self.last_outcome = outcome
        self.seconds += time.perf_counter() - t0
        if outcome.cancelled or result.frame is None:
            raise Cancelled()
        return Frame(result.frame.pixels, index=index, view=view, samples=outcome.samples)
