# SPDX-License-Identifier: GPL-3.0-or-later
"""DASK: the animation written as scene files (as SCENE_FILES does, or reused where they are
already written), then rendered on a Dask cluster by the core's farm (`optica_core.farm`): a
local cluster on 127.0.0.1 when no scheduler address is given, else the scheduler at that
address (its workers must see the folder at the same path). The farm encodes the video itself,
in frame order as frames arrive, with the dialog's encoder and Blender's colour management (the
folder's manifest), never leaving a partial video at the target.

The farm runs on a thread of its own; step() reports its progress (frames, frames/s, workers) to
Blender's progress bar. Cancelling stops the farm within a quarter second: tasks are cancelled,
a local cluster is shut down, the partial video is removed, and the frames rendered so far stay
beside the target (`.<video>.optica-farm/`) so that running the export again renders only the
missing ones."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from optica_core.farm import FarmCancelled, FarmJob, run_farm

from ..frames import Cancelled
from .base import Preparation, Status
from .scene_files import SceneFilesMethod

SCENES_SHARE = 0.1  # of the progress bar: writing scene files is quick next to rendering
STOP_SECONDS = 120.0  # longest wait for a cancelled farm (a local cluster shutting down)


class DaskMethod(SceneFilesMethod):
    key = "DASK"
    label = "Dask"
    description = (
        "Write scene files, render them on a Dask cluster (local, or a scheduler's address) and encode the "
        "video as frames arrive"
    )
    encodes = False  # the farm encodes the video
    needs_video_path = True

    @staticmethod
    def prepare(options, target: Path | None, size, items) -> Preparation:
        if importlib.util.find_spec("distributed") is None:
            raise ValueError(
                "the Dask method needs Dask distributed in Blender's Python (`pip install distributed`), "
                "or export Scene Files and run `python -m optica_core farm` where it is installed"
            )
        if options.workers < 0:
            raise ValueError("the number of worker processes cannot be negative")
        prep = SceneFilesMethod.prepare(options, target, size, items)
        assert target is not None
        prep.frames_dir = target.with_name(f".{target.name}.optica-farm")  # the farm's kept frames
        prep.temporary_bytes = size[0] * size[1] * 3 * len(items)
        return prep

    def __init__(self, export):
        super().__init__(export)
        self.phase = "scenes"
        self._farm: _FarmThread | None = None

    @property
    def output_frames(self) -> int:
        return self._farm.frames_out if self._farm is not None else 0

    @property
    def completed(self) -> bool:
        """The farm finished without error: the video is in place."""
        farm = self._farm
        return farm is not None and not farm.is_alive() and farm.error is None and farm.frames_out > 0

    def step(self) -> bool:
        if self.phase == "scenes":
            if self._write_scene_file():
                self.scenes.close()  # the scene's own size and frame back while the farm renders
                self._start_farm()
            return False
        assert self._farm is not None
        self._farm.join(0.1)
        if self._farm.is_alive():
            return False
        if isinstance(self._farm.error, FarmCancelled):
            raise Cancelled()
        if self._farm.error is not None:
            raise self._farm.error
        return self._finished()

    def _finished(self) -> bool:
        assert self._farm is not None
        self.render_seconds = self.export.elapsed
        self.rendered, self.resumed = self._farm.count, self._farm.skipped  # frames, no longer scene files
        return True

    def _start_farm(self) -> None:
        p = self.export.plan
        o = p.options
        job = FarmJob(
            folder=str(p.scene_folder),
            out=str(p.target),
            scheduler=o.scheduler.strip() or None,
            workers=o.workers,
            timeout=60,
        )
        self._farm = _FarmThread(job)
        self._farm.start()
        self.phase = "farm"

    def progress(self) -> Status:
        n = len(self.export.plan.items)
        if self.phase == "scenes":
            status = super().progress()
            return Status("scenes", status.done, SCENES_SHARE * status.fraction, status.text)
        farm = self._farm
        assert farm is not None
        done = farm.skipped + farm.count
        where = self.export.plan.options.scheduler.strip() or "local cluster"
        text = f"Rendering on Dask ({where}): {done}/{n} frames"
        if farm.workers:
            text += f", {farm.frames_per_second:.2f} frames/s on {farm.workers} worker{'s' if farm.workers > 1 else ''}"
        return Status("render", done, SCENES_SHARE + (1 - SCENES_SHARE) * done / n, text)

    def stop(self) -> None:
        if self._farm is not None:
            self._farm.stop.set()
            self._farm.join(STOP_SECONDS)
            if self.completed:
                self._finished()

    def cleanup(self, success: bool) -> Path | None:
        """The folder the rendered frames wait in when the farm stopped (else what
        SCENE_FILES keeps)."""
        kept = super().cleanup(success)
        state = self.export.plan.frames_dir
        if not success and state is not None and state.is_dir():
            return state
        return kept

    def kept_note(self, folder: Path) -> str:
        if folder == self.export.plan.frames_dir:
            return f"rendered frames kept in {folder} (export again to render only the missing ones)"
        return super().kept_note(folder)


class _FarmThread(threading.Thread):
    """run_farm() on a thread, with what its progress said so far."""

    def __init__(self, job: FarmJob):
        super().__init__(name="optica-dask-farm", daemon=True)
        self.job = job
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.count = self.skipped = self.workers = self.frames_out = 0
        self.frames_per_second = 0.0

    def run(self) -> None:
        try:
            result = run_farm(self.job, progress=self._progress, stop=self.stop)
            self.count, self.skipped = len(result.rendered), result.skipped
            self.frames_out = self.count + self.skipped
        except BaseException as e:  # noqa: BLE001 - handed to the export's step()
            self.error = e

    def _progress(self, frame, tracker) -> None:
        self.count, self.skipped = tracker.count, tracker.skipped
        self.workers = len(tracker.per_worker)
        self.frames_per_second = tracker.frames_per_second
