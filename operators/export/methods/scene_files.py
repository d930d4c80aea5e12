# SPDX-License-Identifier: GPL-3.0-or-later
"""SCENE_FILES: the animation written as a folder of Optica scene files (scene_files.SceneFolder,
one frame per step) instead of a video: it renders later, anywhere, without Blender
(`python -m optica_core farm FOLDER --out shot.mp4`, docs/farm.md). Nothing is temporary: a
cancelled or failed export keeps the complete files written so far, and running it again writes
only what is missing or changed."""

from __future__ import annotations

from pathlib import Path

from ..scene_files import SceneFolder, scene_folder_path
from .base import Preparation, Status


class SceneFilesMethod:
    key = "SCENE_FILES"
    label = "Scene Files"
    description = "Write the animation as a folder of Optica scene files, to render without Blender (a farm)"
    encodes = False  # no video here: the output is the folder
    needs_video_path = False

    @staticmethod
    def prepare(options, target: Path | None, size, items) -> Preparation:
        if len({it.scene for it in items}) > 1:
            raise ValueError("scene files hold one scene's animation: export the scenes one at a time")
        folder = scene_folder_path(options, target)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file, not a folder")
        return Preparation(scene_folder=folder)

    def __init__(self, export):
        self.export = export
        self.pos = 0  # next item to write
        self.rendered = 0  # scene files written (new or changed)
        self.resumed = 0  # scene files already there, identical
        self.render_seconds = 0.0
        self.scenes: SceneFolder | None = None

    @property
    def output_frames(self) -> int:
        return self.pos

    def start(self) -> None:
        self.scenes = SceneFolder(self.export.plan)

    def step(self) -> bool:
        return self._write_scene_file()

    def _write_scene_file(self) -> bool:
        """Writes the next frame's scene file; True once every frame is in the folder."""
        plan, scenes = self.export.plan, self.scenes
        assert scenes is not None
        if scenes.write(plan.items[self.pos].frame):
            self.rendered += 1
        else:
            self.resumed += 1
        for level, text in scenes.messages:
            self.export.note(level, text)
        self.pos += 1
        self.render_seconds = self.export.elapsed
        return self.pos >= len(plan.items)

    def progress(self) -> Status:
        n = len(self.export.plan.items)
        return Status("scenes", self.pos, self.pos / n, f"Writing scene files: {self.pos}/{n}")

    def stop(self) -> None:
        pass

    def cleanup(self, success: bool) -> Path | None:
        """Restores the scene; the folder stays (when the export stopped: to continue it)."""
        if self.scenes is not None:
            self.scenes.close()
        return None if success or self.pos == 0 else self.export.plan.scene_folder

    @staticmethod
    def kept_note(folder: Path) -> str:
        return f"the scene files written so far are in {folder} (export again to continue)"
