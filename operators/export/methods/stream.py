# SPDX-License-Identifier: GPL-3.0-or-later
"""STREAM: the main thread renders frame k+1 while the export's queued video sink colour-manages
and encodes frame k on its own thread (OCIO, the RGB→YUV conversion and the encoders release the
GIL): render → colour → encode, one frame in flight per stage, memory flat."""

from __future__ import annotations

import contextlib

from ..frames import FrameRenderer, render_overrides
from .base import Preparation, Status


class StreamMethod:
    key = "STREAM"
    label = "Stream"
    description = "Render, colour-manage and encode frame by frame; encoding overlaps the next frame's render"
    encodes = True
    needs_video_path = True

    @staticmethod
    def prepare(options, target, size, items) -> Preparation:
        return Preparation()

    def __init__(self, export):
        self.export = export
        self.pos = 0  # next item to render
        self.rendered = 0
        self.resumed = 0
        self._renderers: dict[str, FrameRenderer] = {}
        self._restore = contextlib.ExitStack()

    @property
    def render_seconds(self) -> float:
        return sum(r.seconds for r in self._renderers.values())

    def start(self) -> None:
        pass

    def _renderer(self, name: str) -> FrameRenderer:
        r = self._renderers.get(name)
        if r is None:
            import bpy

            scene = bpy.data.scenes[name]
            self._restore.enter_context(render_overrides(scene, self.export.plan.override_size))
            r = self._renderers[name] = FrameRenderer(scene, test_break=self.export.should_cancel)
        return r

    def step(self) -> bool:
        plan = self.export.plan
        it = plan.items[self.pos]
        renderer = self._renderer(it.scene)
        frame = renderer.render(it.frame, index=it.index, view=plan.views[it.scene])
        for level, text in renderer.messages:
            self.export.note(level, f"{it.scene}: {text}" if len(plan.scenes) > 1 else text)
        self.export.sink.write(frame)
        self.pos += 1
        self.rendered += 1
        return self.pos >= len(plan.items)

    def progress(self) -> Status:
        n = len(self.export.plan.items)
        done = self.rendered
        text = f"Frame {min(done + 1, n)}/{n}" if done < n else f"Encoding the last frames ({n}/{n})"
        return Status("render", done, done / n, text)

    def stop(self) -> None:
        pass

    def cleanup(self, success: bool):
        """Restores the scenes (size, frame); STREAM has no temporary files."""
        self._restore.close()
        return None

    @staticmethod
    def kept_note(folder) -> str:
        return ""
