# SPDX-License-Identifier: GPL-3.0-or-later
"""What the renders of one scene keep between frames: the exporter (an animation frame
re-converts only what changed), the renderer (unchanged geometry keeps its BVH) and the
denoiser — never any bpy data. `job_for()` keeps one per scene and view layer until the render
job ends (`release_jobs`, on `render_complete` / `render_cancel`), or longer with Persistent Data.
"""

from __future__ import annotations

import logging
import weakref

from . import messages
from .sampling import DenoiserSlot, RendererSlot

log = logging.getLogger(__name__)


class RenderJob:
    """The exporter, renderer and denoiser of one scene's view layer across frames."""

    def __init__(self):
        self.exporter = None
        self.renderers = RendererSlot()
        self.denoisers = DenoiserSlot()
        self.status = None  # the current render's status (progress, reports), for the exporter's messages
        # Through a weak reference: a bound method here would make the job a reference cycle, freed
        # only by the cyclic GC, and every material preview's job (its renderer's threads) with it.
        ref = weakref.ref(self)

        def to_status(level: str, text: str) -> None:
            job = ref()
            if job is not None:
                job._to_status(level, text)

        self._report = messages.relay(log, to_status)

    def _to_status(self, level: str, text: str) -> None:
        if self.status is not None:
            self.status.message(level, text)

    @property
    def renderer(self):
        return self.renderers.renderer

    @property
    def denoiser(self):
        return self.denoisers.denoiser

    def export(self, depsgraph, frame_set=None) -> dict:
        """The scene dict of `depsgraph`; `frame_set(frame, subframe)`: how motion blur's
        sub-frames are evaluated (a render engine's own; default the scene's)."""
        if self.exporter is None:
            from .exporter import scene_exporter

            self.exporter = scene_exporter(log=self._report)
        return self.exporter.export(depsgraph, frame_set=frame_set)


_jobs: dict[tuple[str, str], RenderJob] = {}


def job_for(scene, view_layer) -> RenderJob:
    return _jobs.setdefault((scene.name, view_layer.name), RenderJob())


def release_jobs(scene=None, keep_persistent: bool = True) -> None:
    """Drops the jobs of `scene` (all scenes when None), unless the scene keeps its render
    data (Render > Performance > Persistent Data). A render_complete / render_cancel handler."""
    name = getattr(scene, "name", None)
    if keep_persistent and scene is not None and getattr(scene.render, "use_persistent_data", False):
        return
    for key in [k for k in _jobs if name is None or k[0] == name]:
        job = _jobs.pop(key)
        job.denoisers.close()
