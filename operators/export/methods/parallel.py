# SPDX-License-Identifier: GPL-3.0-or-later
"""PARALLEL: worker processes render frame ranges into a temporary image sequence
(workers.WorkerPool, workers.FrameStore), then one pass reads the frames in order into the
export's video sink. Temporary frames are removed on success, cancel and error — except with
`resume`, which keeps them when the export stops, so that running it again renders only the
missing frames (frames left by a crash or a kill are picked up the same way)."""

from __future__ import annotations

import os
from pathlib import Path

from .. import workers
from .base import Preparation, Status


class ParallelMethod:
    key = "PARALLEL"
    label = "Parallel"
    description = "Worker processes render frame ranges to temporary images, then one pass encodes them"
    encodes = True
    needs_video_path = True

    @staticmethod
    def prepare(options, target: Path | None, size, items) -> Preparation:
        import bpy

        from optica_core.sinks import images

        o = options
        assert target is not None  # needs_video_path
        if o.workers < 0:
            raise ValueError("the number of worker processes cannot be negative")
        if o.sequence_format not in workers.SEQUENCE_FORMATS:
            raise ValueError(f"unknown frame format {o.sequence_format!r} ({', '.join(workers.SEQUENCE_FORMATS)})")
        frames_dir = (
            Path(bpy.path.abspath(o.frames_dir)).absolute()
            if o.frames_dir
            else target.with_name(f".{target.stem}.optica-frames")
        )
        try:
            images.import_library(o.sequence_format)
        except images.MissingDependency as e:
            raise ValueError(f"the parallel export cannot write its temporary frames: {e}") from e
        sequence = images.ImageSequence(frames_dir, images.ImageWriter(o.sequence_format, half=True))
        return Preparation(
            workers=o.workers or (os.cpu_count() or 1),
            frames_dir=frames_dir,
            temporary_bytes=sequence.bytes_per_frame(*size) * len(items),
        )

    def __init__(self, export):
        self.export = export
        self.phase = "render"
        self.pos = 0  # next item to encode
        self.rendered = 0
        self.resumed = 0
        self.render_seconds = 0.0
        self._store: workers.FrameStore | None = None
        self._pool: workers.WorkerPool | None = None

    def start(self) -> None:
        import bpy

        p = self.export.plan
        key = {
            "target": str(p.target),
            "size": list(p.size),
            "items": [[it.scene, it.frame] for it in p.items],
            "render": {n: _render_key(bpy.data.scenes[n], p.views[n]) for n in p.scenes},
        }
        self._store = store = workers.FrameStore(p.frames_dir, key, p.options.sequence_format)
        done = set(store.prepare(p.options.resume))
        self.resumed = len(done)
        todo = [it for it in p.items if it.index not in done]
        if todo:
            try:
                result = bpy.ops.wm.save_as_mainfile(
                    filepath=str(store.blend), copy=True, relative_remap=True, compress=False, check_existing=False
                )
            except RuntimeError as e:  # Blender's own words name no file (a full disk: "No such file")
                raise RuntimeError(
                    f"could not save a copy of the file for the workers in {store.folder}: {str(e).strip()}"
                ) from e
            if result != {"FINISHED"}:
                raise RuntimeError(f"could not save a copy of the file for the workers ({result})")
            self._pool = workers.WorkerPool(store, todo, p.workers, _addon_module(), p.override_size)

    def step(self) -> bool:
        if self.phase == "render":
            self._render_step()
            return False
        p = self.export.plan
        it = p.items[self.pos]
        assert self._store is not None
        self.export.sink.write(self._store.frames.read(it.index, view=p.views[it.scene]))
        self.pos += 1
        return self.pos >= len(p.items)

    def _render_step(self) -> None:
        if self._pool is not None and not self._pool.poll(timeout=0.1):
            self.rendered = self._pool.done
            return
        self.rendered = self._pool.done if self._pool is not None else 0
        self.render_seconds = self.export.elapsed
        self.phase, self.pos = "encode", 0

    def progress(self) -> Status:
        n = len(self.export.plan.items)
        if self.phase == "render":
            done = self.resumed + self.rendered
            count = len(self._pool.workers) if self._pool else 0
            return Status(
                "render",
                done,
                0.9 * done / n,
                f"Rendering frames: {done}/{n} ({count} worker{'s' if count != 1 else ''})",
            )
        return Status("encode", self.pos, 0.9 + 0.1 * self.pos / n, f"Encoding {self.pos}/{n}")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()

    def cleanup(self, success: bool) -> Path | None:
        """Removes the temporary frames; keeps them (and returns their folder) when the export
        stopped with `resume` and frames exist."""
        store, self._store = self._store, None
        if store is None:
            return None
        plan = self.export.plan
        if not success and plan.options.resume and store.existing(len(plan.items)):
            store.blend.unlink(missing_ok=True)
            return store.folder
        store.remove()
        return None

    @staticmethod
    def kept_note(folder: Path) -> str:
        return f"rendered frames kept in {folder} (run again with resume to continue)"


def _render_key(scene, view) -> dict:
    """Render settings that make frames on disk stale when they change (resume)."""
    o = scene.optica
    return {
        "samples": o.samples,
        "max_bounces": o.max_bounces,
        "seed": o.seed,
        "noise_threshold": round(o.noise_threshold, 6),
        "time_limit": o.time_limit,
        "view": list(view.__dict__.values()),
    }


def _addon_module() -> str:
    """The add-on's package name, e.g. 'bl_ext.user_default.optica'."""
    return __package__.rsplit(".", 3)[0]
