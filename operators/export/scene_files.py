# SPDX-License-Identifier: GPL-3.0-or-later
"""An animation as scene files (bpy, main thread): the plan's frames written as an
`optica_core.sequence` folder that renders without Blender (`python -m optica_core farm`).

    folder = SceneFolder(plan)          # the manifest: frames, fps, render, colour, encoder, OCIO
    for it in plan.items:
        folder.write(it.frame)          # one frame's scene file (skipped when already identical)
    folder.close()                      # restores the scene (size, frame)

One exporter serves the whole animation, as a final render's job does between frames: unchanged
meshes are the very same arrays from frame to frame, so the folder stores them once and does not
even hash them again; a moved object costs its transform in that frame's file. Each frame is the
scene dictionary Blender's Render Result renders (the same exporter, `apply_frame`), so a frame
rendered from the folder with the same samples and seed equals Blender's render.

The manifest carries what the scene dictionary does not: the render limits and denoiser
(`scene.optica`), Blender's view settings (view transform, look, exposure, gamma, display) and its
OCIO configuration — referenced by path, or copied into the folder with `copy_ocio` — and the
dialog's encoder settings, so `farm --out shot.mp4` makes the video this export would.

Every file is written atomically, arrays before the frames that name them: a folder whose export
was cancelled or failed holds complete files only, and running the export again writes only what
is missing or changed.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict
from pathlib import Path

from optica_core.sequence import SequenceWriter

from ...addon import messages, render_result
from . import colour as blender_colour
from .frames import render_overrides, render_view_layer

log = logging.getLogger(__name__)

SCENE_FOLDER_SUFFIX = ".optica-scenes"


def scene_folder_path(options, target: Path | None) -> Path:
    """The folder the options name (`scene_folder`), else one named after the video beside it."""
    import bpy

    if options.scene_folder:
        return Path(bpy.path.abspath(options.scene_folder)).expanduser().absolute()
    if target is None:
        raise ValueError("no scene folder given (scene_folder), and no video file to name one after")
    return target.with_name(target.stem + SCENE_FOLDER_SUFFIX)


def render_settings(scene) -> dict:
    """What the scene dictionary does not carry of a final render: limits and the denoiser."""
    o = scene.optica
    return {
        "samples": max(1, int(o.samples)),
        "time_limit": max(0.0, float(o.time_limit)),
        "noise_threshold": max(0.0, float(o.noise_threshold)),
        "denoise": bool(o.use_denoiser),
        "denoise_quality": str(o.denoiser_quality).lower(),
    }


class SceneFolder:
    """Writes one scene's frames of `plan` into `plan.scene_folder` (see the module docstring)."""

    def __init__(self, plan):
        import bpy

        from ...addon.exporter import scene_exporter

        self.scene = scene = bpy.data.scenes[plan.scenes[0]]
        self.view_layer = render_view_layer(scene)
        self.messages: list[tuple[str, str]] = []
        self.exporter = scene_exporter(log=messages.relay(log, self._message))
        self._restore = contextlib.ExitStack()
        self._restore.enter_context(render_overrides(scene, plan.override_size))
        fps = plan.fps
        self.writer = SequenceWriter(
            plan.scene_folder,
            frames=[it.frame for it in plan.items],
            fps=(fps.numerator, fps.denominator),
            render=render_settings(scene),
            color=asdict(plan.views[scene.name]),
            encoder=asdict(plan.settings),
            ocio_config=blender_colour.blender_config_path(),
            bundle_ocio=plan.options.copy_ocio,
        )

    @property
    def folder(self) -> Path:
        return self.writer.folder

    def _message(self, level: str, text: str) -> None:
        if (level, text) not in self.messages:
            self.messages.append((level, text))

    def write(self, frame: int) -> bool:
        """Frame `frame`'s scene file; False when it was already there, identical."""
        self.scene.frame_set(frame)
        depsgraph = self.view_layer.depsgraph
        d = render_result.apply_frame(self.exporter.export(depsgraph), self.scene.render)
        return self.writer.write_frame(frame, d)

    def close(self) -> None:
        """Restores the scene's size and frame."""
        self._restore.close()
